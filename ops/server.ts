// The operations listener of the worker and the bridge: /metrics (Prometheus text), /healthz (the process
// answers) and /readyz (every dependency answers within a deadline, else 503 naming the one that does not).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepServingOnError, LOOPBACK_HOSTS, refuseUnlessAllowed } from '../infra/http-guard';

export type ReadinessChecks = Record<string, () => Promise<unknown>>;

export interface OpsServerOptions {
  /** host:port; port 0 picks a free port (tests). */
  address: string;
  metrics: () => Promise<{ contentType: string; body: string }>;
  checks: ReadinessChecks;
  checkTimeoutMs?: number;
  /** Applied to every error text the listener sends (masks secrets). */
  redact?: (text: string) => string;
  /** Where a socket error after listening is reported (the server goes on serving); default stderr. */
  warn?: (message: string) => void;
}

export interface OpsServer {
  /** The bound host:port. */
  address: string;
  close(): Promise<void>;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, string>;
}

export function parseListenAddress(address: string): { host: string; port: number } {
  const match = /^\[?([^[\]]+?)\]?:(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new Error(`'${address}' is not host:port`);
  return { host: match[1]!, port };
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function checkReadiness(
  checks: ReadinessChecks,
  timeoutMs: number,
  redact: (text: string) => string = (t) => t,
): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withDeadline(check(), timeoutMs);
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, redact(err instanceof Error ? err.message : String(err))] as const;
      }
    }),
  );
  return { ready: entries.every(([, r]) => r === 'ok'), checks: Object.fromEntries(entries) };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { host, port } = parseListenAddress(options.address);
  const timeoutMs = options.checkTimeoutMs ?? 3000;
  const redact = options.redact ?? ((t: string) => t);

  // Bound to loopback: only loopback Host names (no DNS rebinding); bound wider (a task's address, scraped
  // by IP): any Host. A browser's cross-origin request is refused either way.
  const hosts = LOOPBACK_HOSTS.includes(host) || host === '::1' ? LOOPBACK_HOSTS : 'any';
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (refuseUnlessAllowed(req, res, { hosts })) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const report = await checkReadiness(options.checks, timeoutMs, redact);
      return sendJson(res, report.ready ? 200 : 503, {
        status: report.ready ? 'ready' : 'unready',
        checks: report.checks,
      });
    }
    if (path === '/metrics') {
      const { contentType, body } = await options.metrics();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    sendJson(res, 404, { error: 'not found: /metrics, /healthz, /readyz' });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: redact(String(err)) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`metrics address ${options.address} is in use (choose another, or port 0)`)
          : err,
      );
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  keepServingOnError(server, (line) => (options.warn ?? ((m: string) => console.error(m)))(redact(line)));
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
