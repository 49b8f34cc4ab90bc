import assert from 'node:assert/strict';
import { MAX_LINE_BYTES, readLines, splitCsvLine } from '../../domain/csv-lines';
import { HistoryFileJudge } from '../../domain/history-row';

async function lines(chunks: (string | Buffer)[]): Promise<[number, string][]> {
  const out: [number, string][] = [];
  for await (const l of readLines(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)))) {
    out.push([l.line, l.raw.toString('latin1')]);
  }
  return out;
}

describe('reading CSV lines from a byte stream', () => {
  it('numbers physical lines and keeps their bytes, whatever the chunk boundaries', async () => {
    const text = 'at,site,val,type\n2023-03-06 15:09:21,4,0,\r\n\n2023-03-06 17:43:27,1,-1,1.0';
    const expected: [number, string][] = [
      [1, 'at,site,val,type'],
      [2, '2023-03-06 15:09:21,4,0,'],
      [3, ''],
      [4, '2023-03-06 17:43:27,1,-1,1.0'],
    ];
    for (let size = 1; size <= text.length; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      assert.deepEqual(await lines(chunks), expected, `chunk size ${size}`);
    }
  });

  it('yields nothing for an empty object and no phantom line after a final newline', async () => {
    assert.deepEqual(await lines([]), []);
    assert.deepEqual(await lines(['a\n']), [[1, 'a']]);
  });

  it('reads CR-only, CRLF and LF line ends alike, whatever the chunk boundaries', async () => {
    const expected: [number, string][] = [
      [1, 'at,site,val,type'],
      [2, '2023-03-06 15:09:21,4,0,'],
      [3, ''],
      [4, '2023-03-06 17:43:27,1,-1,1.0'],
    ];
    const crOnly = 'at,site,val,type\r2023-03-06 15:09:21,4,0,\r\r2023-03-06 17:43:27,1,-1,1.0\r';
    const mixed = 'at,site,val,type\r2023-03-06 15:09:21,4,0,\r\n\n2023-03-06 17:43:27,1,-1,1.0\r\n';
    for (const text of [crOnly, mixed]) {
      for (let size = 1; size <= text.length; size++) {
        const chunks: string[] = [];
        for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
        assert.deepEqual(await lines(chunks), expected, `${JSON.stringify(text)} in chunks of ${size}`);
      }
    }
  });

  it('keeps the first 64 KiB of a longer line and reports its full length, then goes on', async () => {
    const long = 'x'.repeat(3 * MAX_LINE_BYTES + 5);
    const text = `at,site,val,type\n${long}\r\n${'y'.repeat(MAX_LINE_BYTES)}\nlast`;
    for (const size of [1000, 65_536, 100_000, text.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(Buffer.from(text.slice(i, i + size)));
      const got = [];
      for await (const l of readLines(chunks)) got.push([l.line, l.raw.length, l.fullLength]);
      assert.deepEqual(
        got,
        [
          [1, 16, undefined],
          [2, MAX_LINE_BYTES, long.length],
          [3, MAX_LINE_BYTES, undefined], // exactly 64 KiB is whole
          [4, 4, undefined],
        ],
        `chunks of ${size}`,
      );
    }
  });

  it('keeps invalid UTF-8 bytes as they are', async () => {
    const [first] = await lines([Buffer.from([0xff, 0x2c, 0xc3]), Buffer.from([0x0a])]);
    assert.deepEqual(first, [1, '\xff,\xc3']);
  });
});

describe('splitting a CSV line', () => {
  const cases: [string, string[] | null][] = [
    ['2023-03-06 15:09:21,4,0,', ['2023-03-06 15:09:21', '4', '0', '']],
    ['"2023-03-06 15:09:21","4","-1","0.0"', ['2023-03-06 15:09:21', '4', '-1', '0.0']],
    ['"a ""quoted"" word",b', ['a "quoted" word', 'b']],
    ['"a,b",c', ['a,b', 'c']],
    ['"unclosed,4,0,', null],
    ['"x"y,4', null],
    ['x"y,4', null],
    ['', ['']],
  ];
  for (const [line, fields] of cases) {
    it(`${JSON.stringify(line)} -> ${JSON.stringify(fields)}`, () =>
      assert.deepEqual(splitCsvLine(line), fields));
  }
});

describe('judging the lines of a history file', () => {
  const ctx = { knownSites: new Set([0, 1, 2, 3, 4]), now: new Date('2026-11-27T12:00:00Z') };
  const judge = (text: string[]) => {
    const j = new HistoryFileJudge(ctx);
    return text.map((t, i) => j.judge({ line: i + 1, raw: Buffer.from(t) }));
  };

  it('skips the exact header (with or without a byte order mark) and judges the rest', () => {
    for (const header of ['at,site,val,type', '\uFEFFat,site,val,type']) {
      const [h, row] = judge([header, '2023-03-06 15:09:21,4,0,']);
      assert.deepEqual(h, { header: true });
      assert.equal(row?.header, false);
      assert.equal(row && !row.header && row.valid, true);
    }
  });

  it('rejects every line of a file whose header is not the exact one', () => {
    const outcomes = judge(['at,site,value,type', '2023-03-06 15:09:21,4,0,']);
    assert.deepEqual(outcomes, [
      { header: false, valid: false, reasons: ['MALFORMED'] },
      { header: false, valid: false, reasons: ['MALFORMED'] },
    ]);
  });

  it('rejects a line with the wrong number of fields as MALFORMED, and judges fields otherwise', () => {
    const [, short, long, bad] = judge([
      'at,site,val,type',
      '2023-03-06 15:09:21,4,0',
      '1,2,3,4,5',
      '2023-03-06 08:00:00,9,ERR,',
    ]);
    assert.deepEqual(short, { header: false, valid: false, reasons: ['MALFORMED'] });
    assert.deepEqual(long, { header: false, valid: false, reasons: ['MALFORMED'] });
    assert.deepEqual(bad, {
      header: false,
      valid: false,
      reasons: ['OUTSIDE_HOURS', 'UNKNOWN_SITE', 'BAD_VAL'],
    });
  });
});

describe('judging an over-long line', () => {
  const ctx = { knownSites: new Set([1]), now: new Date('2026-11-27T12:00:00Z') };

  it('is MALFORMED, and the lines after it are judged as usual', async () => {
    const judge = new HistoryFileJudge(ctx);
    const text = `at,site,val,type\n2023-03-06 10:00:00,1,${'3'.repeat(70_000)},\n2023-03-06 10:00:01,1,3,\n`;
    const verdicts = [];
    for await (const l of readLines([Buffer.from(text)])) verdicts.push(judge.judge(l));
    assert.deepEqual(
      verdicts.map((v) => (v.header ? 'header' : v.valid ? 'valid' : v.reasons.join(','))),
      ['header', 'MALFORMED', 'valid'],
    );
  });

  it('as the first line, makes the file headerless: every line MALFORMED', async () => {
    const judge = new HistoryFileJudge(ctx);
    const text = `${'a'.repeat(70_000)}\n2023-03-06 10:00:01,1,3,\n`;
    const verdicts = [];
    for await (const l of readLines([Buffer.from(text)])) verdicts.push(judge.judge(l));
    assert.deepEqual(
      verdicts.map((v) => (v.header ? 'header' : v.valid ? 'valid' : v.reasons.join(','))),
      ['MALFORMED', 'MALFORMED'],
    );
  });
});
