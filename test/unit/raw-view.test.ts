import assert from 'node:assert/strict';
import { escapeRaw, hexView } from '../../domain/raw-view';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('showing raw reject bytes safely', () => {
  it('keeps valid UTF-8 text, accents and emoji included', () => {
    assert.equal(escapeRaw(Buffer.from('{"site": "4", "név": "🦕"}')), '{"site": "4", "név": "🦕"}');
  });

  it('escapes terminal control characters, DEL and C1 controls', () => {
    assert.equal(escapeRaw(Buffer.from('a\u001b[31mb\u007fc\u0085d\u0000')), 'a\\x1b[31mb\\x7fc\\x85d\\x00');
    assert.equal(escapeRaw(Buffer.from('x\ny\r\tz\\')), 'x\\ny\\r\\tz\\\\');
  });

  it('escapes invisible format characters that reorder or hide text', () => {
    assert.equal(escapeRaw(Buffer.from('ab\u202ecd\u200b\u2028')), 'ab\\u{202e}cd\\u{200b}\\u{2028}');
  });

  it('shows bytes that are not UTF-8 as \\xNN and resynchronises after them', () => {
    assert.equal(escapeRaw(bytes(0x61, 0xff, 0x62)), 'a\\xffb');
    // a truncated two-byte sequence, an overlong slash, a UTF-16 surrogate encoded in UTF-8
    assert.equal(escapeRaw(bytes(0xc3)), '\\xc3');
    assert.equal(escapeRaw(bytes(0xc0, 0xaf)), '\\xc0\\xaf');
    assert.equal(escapeRaw(bytes(0xed, 0xa0, 0x80, 0x41)), '\\xed\\xa0\\x80A');
  });

  it('never lets an escape sequence through whatever the bytes', () => {
    for (let b = 0; b < 256; b++) {
      const shown = escapeRaw(bytes(0x1b, b, 0x9b));
      assert.ok(!/\p{Cc}/u.test(shown), `byte ${b}: ${shown}`);
    }
  });

  it('dumps every byte in hex with printable ASCII beside it', () => {
    const lines = hexView(
      Buffer.concat([Buffer.from('{"at": "x"}\n'), bytes(0x00, 0xff, 0x41, 0x42, 0x43, 0x44)]),
    );
    assert.deepEqual(lines, [
      '00000000  7b 22 61 74 22 3a 20 22  78 22 7d 0a 00 ff 41 42  |{"at": "x"}...AB|',
      '00000010  43 44                                             |CD|',
    ]);
    assert.deepEqual(hexView(bytes()), []);
  });
});
