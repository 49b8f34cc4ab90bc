// Reading the history CSVs line by line from a byte stream, keeping each line's exact bytes and its
// physical line number: the rejects table stores both, and the pair is each row's unique source key.
// A row of this format never spans lines (times and integers only), so a line is a record.

export const HISTORY_HEADER = 'at,site,val,type';

/** A line longer than this is kept only in part (its first bytes) and judged MALFORMED; no row is this long. */
export const MAX_LINE_BYTES = 64 * 1024;

export interface SourceLine {
  /** 1-based physical line number in the object. */
  line: number;
  /** The line's bytes exactly, without its line terminator (\n, \r\n or \r); only the first MAX_LINE_BYTES. */
  raw: Buffer;
  /** Set when `raw` holds only the line's first bytes: the line's full length in bytes. */
  fullLength?: number;
}

/**
 * Receives one line: its 1-based number and its bytes, `buf[start, end)` without the terminator. `fullLength`
 * is set when the line was longer than MAX_LINE_BYTES and the range holds only its first MAX_LINE_BYTES.
 */
export type LineVisitor = (
  line: number,
  buf: Buffer,
  start: number,
  end: number,
  fullLength?: number,
) => void;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines as its chunks arrive, synchronously and without allocating anything per
 * line: each line is handed over as a range of the chunk. At millions of lines this matters twice: no promise
 * per line (an await costs one, and more with the async hooks a Temporal activity runs under), and no garbage
 * that lives long enough to be promoted to the old heap, which would grow the process's memory.
 * A line ends at \n, \r\n or a lone \r (old Mac files). Never holds more than one chunk and the first
 * MAX_LINE_BYTES of one partial line, however long the line.
 */
export class LineSplitter {
  /** The kept bytes of the line that the next chunk continues, and its full length so far. */
  private carry: Buffer = Buffer.alloc(0);
  private carryLength = 0;
  /** The last chunk ended with \r: a \n opening the next one belongs to it. */
  private afterCr = false;
  private line = 0;

  /** Visits every line that `chunk` completes. The ranges are valid only during the call. */
  push(chunk: Buffer | Uint8Array | string, visit: LineVisitor): void {
    const data =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (data.length === 0) return;
    let start = 0;
    if (this.afterCr) {
      this.afterCr = false;
      if (data[0] === LF) start = 1;
    }
    // Each terminator's next position, searched again only once passed (a file without \r scans for it once).
    let lf = data.indexOf(LF, start);
    let cr = data.indexOf(CR, start);
    for (;;) {
      if (lf !== -1 && lf < start) lf = data.indexOf(LF, start);
      if (cr !== -1 && cr < start) cr = data.indexOf(CR, start);
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (end === -1) break;
      this.complete(data, start, end, visit);
      if (data[end] === CR && end + 1 === data.length) this.afterCr = true;
      start = data[end] === CR && data[end + 1] === LF ? end + 2 : end + 1;
    }
    this.keep(data, start, data.length);
  }

  /** Visits the last line when the stream did not end with a line terminator. */
  end(visit: LineVisitor): void {
    if (this.carryLength > 0) this.complete(Buffer.alloc(0), 0, 0, visit);
    this.afterCr = false;
  }

  /** Visits the line made of the carry and `data[start, end)`. */
  private complete(data: Buffer, start: number, end: number, visit: LineVisitor): void {
    this.line++;
    if (this.carryLength === 0) {
      const length = end - start;
      if (length > MAX_LINE_BYTES) visit(this.line, data, start, start + MAX_LINE_BYTES, length);
      else visit(this.line, data, start, end);
      return;
    }
    const length = this.carryLength + end - start;
    this.keep(data, start, end);
    const kept = this.carry;
    this.carry = Buffer.alloc(0);
    this.carryLength = 0;
    visit(this.line, kept, 0, kept.length, length > MAX_LINE_BYTES ? length : undefined);
  }

  /** Adds `data[start, end)` to the carry, copying at most what the carry still keeps. */
  private keep(data: Buffer, start: number, end: number): void {
    this.carryLength += end - start;
    const take = Math.min(end - start, MAX_LINE_BYTES - this.carry.length);
    // Copied: the carry must not pin the whole chunk in memory while we wait for the next one.
    if (take > 0) this.carry = Buffer.concat([this.carry, data.subarray(start, start + take)]);
  }
}

/** The lines of a byte stream one by one (see LineSplitter; this form allocates a SourceLine per line). */
export async function* readLines(
  chunks: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
): AsyncGenerator<SourceLine> {
  const splitter = new LineSplitter();
  const lines: SourceLine[] = [];
  const collect: LineVisitor = (line, buf, start, end, fullLength) =>
    lines.push({ line, raw: buf.subarray(start, end), ...(fullLength !== undefined ? { fullLength } : {}) });
  for await (const chunk of chunks) {
    splitter.push(chunk, collect);
    yield* lines.splice(0);
  }
  splitter.end(collect);
  yield* lines;
}

/**
 * Splits one CSV line into fields (RFC 4180 quoting within the line). Null when the quoting is broken:
 * an unclosed quote, or text after a closing quote.
 */
export function splitCsvLine(text: string): string[] | null {
  if (!text.includes('"')) return text.split(',');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) return null;
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text[i] !== ',') return null;
      i++;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma === -1 ? text.length : comma;
      const value = text.slice(i, end);
      if (value.includes('"')) return null;
      fields.push(value);
      if (comma === -1) return fields;
      i = comma + 1;
    }
  }
}
