import assert from 'node:assert/strict';
import { copyCell } from '../../infra/copy-in';

describe('COPY text format cells', () => {
  it('escapes what COPY would otherwise read as structure', () => {
    assert.equal(copyCell('a\tb\nc\\d\re'), 'a\\tb\\nc\\\\d\\re');
    assert.equal(copyCell(null), '\\N');
    assert.equal(copyCell(-1), '-1');
    assert.equal(copyCell(new Date('2023-03-06T15:09:21.123Z')), '2023-03-06T15:09:21.123Z');
    assert.equal(copyCell(['OUTSIDE_HOURS', 'BAD_VAL']), '{OUTSIDE_HOURS,BAD_VAL}');
  });

  it('writes bytes as bytea hex, so any byte survives', () => {
    assert.equal(copyCell(Buffer.from([0x00, 0xff, 0x0a, 0x5c])), '\\\\x00ff0a5c');
  });
});
