// Bulk loading with COPY FROM STDIN (text format): several times faster than multi-row INSERT
// (../shared/docs/NOTES.md), fed in batches with the stream's backpressure honoured so memory stays flat
// whatever the input size.
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { once } from 'node:events';

type Cell = string | number | Buffer | Date | readonly string[] | null;

function escapeText(value: string): string {
  return value.replace(/[\\\n\r\t]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
  );
}

/** One value in COPY text format. Arrays hold only plain codes (no quoting needed), checked by the caller. */
export function copyCell(value: Cell): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return escapeText(value);
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`;
  return `{${value.join(',')}}`;
}

// Rows are sent in chunks of about this many bytes: big enough to amortise each write, small enough to keep
// memory flat.
const FLUSH_BYTES = 256 * 1024;

export class CopyWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private readonly stream: ReturnType<typeof copyFrom>;
  private readonly done: Promise<unknown>;
  private failure: Error | undefined = undefined;

  constructor(client: pg.Client | pg.PoolClient, sql: string) {
    this.stream = client.query(copyFrom(sql));
    this.done = once(this.stream, 'finish');
    // Observed through flush() and end(); this keeps an early failure from being an unhandled rejection.
    this.done.catch(() => undefined);
    this.stream.on('error', (err: Error) => (this.failure = err));
  }

  /** Queues one row, then waits if enough is queued to send (so memory stays bounded). */
  async row(cells: readonly Cell[]): Promise<void> {
    let line = '';
    for (let i = 0; i < cells.length; i++) line += (i === 0 ? '' : '\t') + copyCell(cells[i] ?? null);
    if (this.add(line + '\n')) await this.flush();
  }

  /**
   * Queues one row already in COPY text format (newline included) without waiting: for hot loops that format
   * their own rows. True when the caller should `await flush()` before queueing much more.
   */
  add(line: string): boolean {
    this.pending.push(line);
    this.pendingBytes += line.length;
    return this.pendingBytes >= FLUSH_BYTES;
  }

  /** Sends what is queued, honouring the stream's backpressure. */
  async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.stream.write(chunk)) await Promise.race([once(this.stream, 'drain'), this.done]);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  async end(): Promise<void> {
    await this.flush();
    this.stream.end();
    await this.done;
    this.throwIfFailed();
  }
}
