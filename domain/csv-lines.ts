// Reading the history CSVs line by line from a byte stream, keeping each line's exact bytes and its
// physical line number: the rejects table stores both, and the pair is each row's unique source key.
// A row of this format never spans lines (times and integers only), so a line is a record.

export const HISTORY_HEADER = 'at,site,val,type';

export interface SourceLine {
  /** 1-based physical line number in the object. */
  line: number;
  /** The line's bytes exactly, without its line terminator (\n or \r\n). */
  raw: Buffer;
}

/** Receives one line: its 1-based number and its bytes, `buf[start, end)` without the terminator. */
export type LineVisitor = (line: number, buf: Buffer, start: number, end: number) => void;

/**
 * Splits a byte stream into lines as its chunks arrive, synchronously and without allocating anything per
 * line: each line is handed over as a range of the chunk. At millions of lines this matters twice: no promise
 * per line (an await costs one, and more with the async hooks a Temporal activity runs under), and no garbage
 * that lives long enough to be promoted to the old heap, which would grow the process's memory.
 * Never holds more than one chunk and one partial line.
 */
export class LineSplitter {
  private carry: Buffer = Buffer.alloc(0);
  private line = 0;

  /** Visits every line that `chunk` completes. The ranges are valid only during the call. */
  push(chunk: Buffer | Uint8Array | string, visit: LineVisitor): void {
    const data =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, data]) : data;
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf(0x0a, start)) !== -1) {
      visit(++this.line, buf, start, nl > start && buf[nl - 1] === 0x0d ? nl - 1 : nl);
      start = nl + 1;
    }
    // Copy the tail: it must not pin the whole chunk in memory while we wait for the next one.
    this.carry = Buffer.from(buf.subarray(start));
  }

  /** Visits the last line when the stream did not end with a line terminator. */
  end(visit: LineVisitor): void {
    const tail = this.carry;
    this.carry = Buffer.alloc(0);
    if (tail.length > 0)
      visit(++this.line, tail, 0, tail[tail.length - 1] === 0x0d ? tail.length - 1 : tail.length);
  }
}

/** The lines of a byte stream one by one (see LineSplitter; this form allocates a SourceLine per line). */
export async function* readLines(
  chunks: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
): AsyncGenerator<SourceLine> {
  const splitter = new LineSplitter();
  const lines: SourceLine[] = [];
  const collect: LineVisitor = (line, buf, start, end) => lines.push({ line, raw: buf.subarray(start, end) });
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
