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

/** Splits a byte stream into lines without ever holding more than one chunk and one partial line. */
export async function* readLines(
  chunks: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
): AsyncGenerator<SourceLine> {
  let carry: Buffer = Buffer.alloc(0);
  let line = 0;
  for await (const chunk of chunks) {
    const data =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let buf = carry.length > 0 ? Buffer.concat([carry, data]) : data;
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf(0x0a, start)) !== -1) {
      const end = nl > start && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      line++;
      yield { line, raw: buf.subarray(start, end) };
      start = nl + 1;
    }
    // Copy the tail: it must not pin the whole chunk in memory while we wait for the next one.
    carry = Buffer.from(buf.subarray(start));
    buf = carry;
  }
  if (carry.length > 0) {
    line++;
    yield {
      line,
      raw: carry.subarray(0, carry[carry.length - 1] === 0x0d ? carry.length - 1 : carry.length),
    };
  }
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
