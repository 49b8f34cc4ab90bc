// Shows a reject's raw bytes to a human without letting them act on the terminal: valid UTF-8 text stays
// readable, while control characters, invisible format characters and bytes that are not UTF-8 become escapes.
// The hex view shows every byte exactly.

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Length of the UTF-8 sequence a lead byte announces; 0 for a byte that cannot lead one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

// Cc (C0, DEL, C1) and Cf (bidi overrides, zero-width characters) can rewrite or hide what a terminal shows;
// line and paragraph separators break lines.
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  if (!UNSAFE.test(ch)) return ch;
  const cp = ch.codePointAt(0)!;
  return cp <= 0xff ? `\\x${hex2(cp)}` : `\\u{${cp.toString(16)}}`;
}

/** The bytes as one line of text: UTF-8 decoded where valid, every other byte as \xNN, backslash doubled. */
export function escapeRaw(raw: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const n = sequenceLength(raw[i]!);
    let ch: string | undefined;
    if (n > 0 && i + n <= raw.length) {
      try {
        // The fatal decoder refuses overlong forms, surrogates and bad continuation bytes.
        ch = fatal.decode(raw.subarray(i, i + n));
      } catch {
        ch = undefined;
      }
    }
    if (ch === undefined) {
      out += `\\x${hex2(raw[i]!)}`;
      i += 1;
    } else {
      out += escapeChar(ch);
      i += n;
    }
  }
  return out;
}

/** Classic hex dump: offset, 16 bytes in hex, the printable ASCII ones beside them ('.' for the rest). */
export function hexView(raw: Uint8Array): string[] {
  const lines: string[] = [];
  for (let at = 0; at < raw.length; at += 16) {
    const row = raw.subarray(at, at + 16);
    const bytes = [...row].map(hex2);
    const left = bytes.slice(0, 8).join(' ');
    const right = bytes.slice(8).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines;
}
