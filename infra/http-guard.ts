// Guards for the pipeline's small HTTP listeners (the dashboard; the worker's and bridge's metrics and health
// listener): a request must name an allowed Host and, when a browser sends an Origin, come from that same
// origin; long-lived streams are capped. Without the Host check a hostile web page could reach a loopback
// listener through DNS rebinding; without the Origin check another local page could read its answers.
import type http from 'node:http';
import type net from 'node:net';

export interface GuardOptions {
  /**
   * Host names (without port) a request may address. Default: the loopback names. 'any' skips the Host check
   * (a listener bound to a container's address and scraped by IP); the Origin check still applies.
   */
  hosts?: readonly string[] | 'any';
}

export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

export interface Refusal {
  status: number;
  message: string;
}

/** host[:port] as in a Host header: the name, lowercased, with IPv6 brackets kept. */
function hostName(hostHeader: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d{1,5})?$/.exec(hostHeader.trim().toLowerCase());
  return m?.[1] ?? '';
}

/**
 * Why the request must be refused, or undefined when it may be served. A request without Origin (curl,
 * Prometheus, a top-level navigation) passes the Origin check; 'Origin: null' (sandboxed frames, file pages)
 * does not.
 */
export function checkRequest(req: http.IncomingMessage, options: GuardOptions = {}): Refusal | undefined {
  const hosts = options.hosts ?? LOOPBACK_HOSTS;
  const host = req.headers.host;
  if (host === undefined || host === '') return { status: 400, message: 'missing Host header' };
  if (hosts !== 'any' && !hosts.includes(hostName(host))) return { status: 403, message: 'forbidden host' };
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string;
    try {
      const url = new URL(origin);
      originHost = url.protocol === 'http:' || url.protocol === 'https:' ? url.host : '';
    } catch {
      originHost = '';
    }
    // Same origin only: the page that asks must have been served under the very host:port being asked.
    if (originHost === '' || originHost !== host.trim().toLowerCase()) {
      return { status: 403, message: 'forbidden origin' };
    }
  }
  return undefined;
}

/** Answers a refusal as plain text; returns true when the request was refused (the caller stops there). */
export function refuseUnlessAllowed(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  options: GuardOptions = {},
): boolean {
  const refusal = checkRequest(req, options);
  if (refusal === undefined) return false;
  res.writeHead(refusal.status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(`${refusal.message}\n`);
  return true;
}

/**
 * A cap on concurrent long-lived responses (Server-Sent Events): each one holds a socket and a timer, so
 * an unbounded number is a cheap way to exhaust the process. Past the cap, answer 429 with Retry-After.
 */
export class ConcurrencyLimit {
  private active = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`limit must be a whole number >= 1, got ${max}`);
  }

  get size(): number {
    return this.active;
  }

  /** A release function (idempotent) when a slot is free; undefined when the cap is reached. */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.max) return undefined;
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
    };
  }
}

export function tooMany(res: http.ServerResponse, retryAfterSeconds: number, what: string): void {
  res.writeHead(429, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'retry-after': String(retryAfterSeconds),
  });
  res.end(`too many ${what}; try again in ${retryAfterSeconds} s\n`);
}

/**
 * Once listening, an error on the listening socket (an accept failing with EMFILE or ENOBUFS) is logged and
 * the server goes on serving: Node emits it as the server's 'error' event, and an event without a listener
 * is thrown, which ends the process.
 */
export function keepServingOnError(server: net.Server, log: (line: string) => void): void {
  server.on('error', (err: NodeJS.ErrnoException) => {
    log(`listener error, still serving: ${err.syscall ?? 'socket'} ${err.code ?? ''} ${err.message}`);
  });
}
