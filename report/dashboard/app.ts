// The dashboard's HTTP server: the page, a JSON snapshot per date range, and a Server-Sent Events stream that
// says when the data changed. Plain node:http: three routes do not need a framework.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import {
  ConcurrencyLimit,
  keepServingOnError,
  LOOPBACK_HOSTS,
  refuseUnlessAllowed,
  tooMany,
} from '../../infra/http-guard';
import { buildOperations, type LogEnds } from '../operations';
import { dataVersion } from '../queries';
import {
  checkRangeLimits,
  DASHBOARD_RANGE_LIMITS,
  DateRangeError,
  parseDateRange,
  type DateRange,
  type RangeLimits,
} from '../range';
import { dashboardPage } from './page';
import { buildSnapshot, versionString, type Snapshot } from './snapshot';
import { VersionWatcher, type WatchEvent } from './watcher';

export interface DashboardOptions {
  knex: Knex;
  port: number;
  /** Loopback only by default: the figures are internal and there is no authentication. */
  host?: string;
  /** How often the data version is read while a browser is watching. */
  pollMs?: number;
  log?: (line: string) => void;
  /** The Operations view's stream side: the topic, and where its log end offsets come from (Kafka). */
  operations?: { topic: string; logEnds?: LogEnds };
  /** Browsers watching at once (each holds an event stream); past it, 429. */
  maxEventClients?: number;
  /** Host names requests may address; default the loopback names (and `host` when it is a name). */
  allowedHosts?: readonly string[];
  /** Dates a request may ask for; past them, 400. */
  rangeLimits?: RangeLimits;
}

export interface Dashboard {
  url: string;
  port: number;
  close: () => Promise<void>;
}

export const DEFAULT_POLL_MS = 2000;
export const DEFAULT_MAX_EVENT_CLIENTS = 16;
const SSE_RETRY_MS = 2000;
const SSE_HEARTBEAT_MS = 15_000;
const SNAPSHOT_CACHE_SIZE = 16;

function send(res: http.ServerResponse, status: number, type: string, body: string, headers = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

/** The request's date range, within the limits; a DateRangeError (answered 400) otherwise. */
function requestRange(url: URL, limits: RangeLimits): DateRange {
  const range = parseDateRange(url.searchParams.get('from'), url.searchParams.get('to'));
  checkRangeLimits(range, limits);
  return range;
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const { knex } = opts;
  const log = opts.log ?? ((line: string) => console.log(line));
  const watcher = new VersionWatcher(
    async () => versionString(await dataVersion(knex)),
    opts.pollMs ?? DEFAULT_POLL_MS,
  );
  const streams = new Set<http.ServerResponse>();
  const eventClients = new ConcurrencyLimit(opts.maxEventClients ?? DEFAULT_MAX_EVENT_CLIENTS);
  const rangeLimits = opts.rangeLimits ?? DASHBOARD_RANGE_LIMITS;
  // Only requests addressed to an allowed name are served: a web page elsewhere cannot reach the dashboard
  // through DNS rebinding, because its Host header names its own host; a page of another origin is refused.
  const hosts = opts.allowedHosts ?? [
    ...LOOPBACK_HOSTS,
    ...(opts.host && opts.host !== '0.0.0.0' ? [opts.host] : []),
  ];

  // Browsers showing the same range all ask at once when the version changes: they share one computation.
  const cache = new Map<string, Promise<Snapshot>>();
  function snapshot(range: DateRange): Promise<Snapshot> {
    const version = watcher.current();
    if (version === undefined) return buildSnapshot(knex, range);
    const key = `${range.from ?? ''}|${range.to ?? ''}|${version}`;
    let entry = cache.get(key);
    if (entry === undefined) {
      entry = buildSnapshot(knex, range);
      entry.catch(() => cache.delete(key));
      cache.set(key, entry);
      while (cache.size > SNAPSHOT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    }
    return entry;
  }

  function events(req: http.IncomingMessage, res: http.ServerResponse): void {
    const release = eventClients.tryAcquire();
    if (release === undefined) return tooMany(res, SSE_RETRY_MS / 1000, 'dashboard viewers');
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(`retry: ${SSE_RETRY_MS}\n\n`);
    const write = (event: WatchEvent) =>
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    const unsubscribe = watcher.subscribe(write);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    streams.add(res);
    req.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
      release();
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (refuseUnlessAllowed(req, res, { hosts })) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    switch (url.pathname) {
      case '/': {
        const nonce = randomBytes(16).toString('base64');
        return send(res, 200, 'text/html; charset=utf-8', dashboardPage(nonce), {
          'content-security-policy':
            `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; ` +
            `connect-src 'self'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
        });
      }
      case '/api/snapshot':
      case '/api/operations': {
        let range: DateRange;
        try {
          range = requestRange(url, rangeLimits);
        } catch (err) {
          if (err instanceof DateRangeError) return sendJson(res, 400, { error: err.message });
          throw err;
        }
        try {
          if (url.pathname === '/api/snapshot') return sendJson(res, 200, await snapshot(range));
          const ops = opts.operations;
          return sendJson(res, 200, await buildOperations(knex, ops?.topic ?? '', ops?.logEnds, range));
        } catch (err) {
          log(`dashboard: ${url.pathname} failed: ${(err as Error).message}`);
          return sendJson(res, 503, { error: `database unavailable: ${(err as Error).message}` });
        }
      }
      case '/api/events':
        return events(req, res);
      case '/healthz':
        return send(res, 200, 'text/plain', 'ok\n');
      default:
        return send(res, 404, 'text/plain', 'not found\n');
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log(`dashboard: ${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  keepServingOnError(server, (line) => log(`dashboard: ${line}`));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host}:${port}/`,
    port,
    close: async () => {
      watcher.stop();
      for (const res of streams) res.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
