// The batch's date window: what the CLI accepts, and which instants the workflow and its activities take
// each bound to mean.
import assert from 'node:assert/strict';
import {
  boundEnd,
  boundLastSecond,
  boundStart,
  inWindow,
  isIsoDate,
  parseWindowBound,
  windowIsBackwards,
} from '../../domain/date-window';

const ms = (iso: string) => Date.parse(iso);

describe('date window (domain/date-window.ts)', () => {
  it('accepts days as they are and timestamps in UTC ISO form', () => {
    assert.equal(parseWindowBound('2026-11-01'), '2026-11-01');
    assert.equal(parseWindowBound('2024-02-29'), '2024-02-29');
    assert.equal(parseWindowBound('2026-11-01T10:30:00Z'), '2026-11-01T10:30:00.000Z');
    assert.equal(parseWindowBound('2026-03-29T02:30:00+01:00'), '2026-03-29T01:30:00.000Z');
  });

  for (const bad of [
    '',
    'yesterday',
    '2026-11-1',
    '01/11/2026',
    '2023-02-29',
    '2023-02-30',
    '2026-13-01',
    '2026-00-10',
    '2026-11-01T25:00:00Z',
    '2026-11-01 10:00',
    '20261101',
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(parseWindowBound(bad), undefined));
  }

  it('tells real calendar dates from those Date rolls over', () => {
    assert.equal(isIsoDate('2024-02-29'), true);
    assert.equal(isIsoDate('2023-02-29'), false);
    assert.equal(isIsoDate('2026-04-31'), false);
    assert.equal(isIsoDate('2026-12-31'), true);
  });

  it('takes a day to be the whole UTC day and a timestamp to be an instant', () => {
    assert.equal(boundStart('2026-11-01').toISOString(), '2026-11-01T00:00:00.000Z');
    assert.equal(boundEnd('2026-11-01').toISOString(), '2026-11-02T00:00:00.000Z');
    assert.equal(boundEnd('2026-12-31').toISOString(), '2027-01-01T00:00:00.000Z');
    assert.equal(boundEnd('2024-02-28').toISOString(), '2024-02-29T00:00:00.000Z');
    assert.equal(boundLastSecond('2026-11-01').toISOString(), '2026-11-01T23:59:59.000Z');
    const at = '2026-11-01T10:30:00.000Z';
    assert.equal(boundStart(at).toISOString(), at);
    assert.equal(boundEnd(at).toISOString(), at);
    assert.equal(boundLastSecond(at).toISOString(), at);
  });

  it('keeps the window inclusive of its days and exclusive of an end timestamp', () => {
    assert.equal(inWindow(ms('2026-11-01T00:00:00Z'), '2026-11-01', '2026-11-07'), true);
    assert.equal(inWindow(ms('2026-11-07T23:59:59.999Z'), '2026-11-01', '2026-11-07'), true);
    assert.equal(inWindow(ms('2026-11-08T00:00:00Z'), '2026-11-01', '2026-11-07'), false);
    assert.equal(inWindow(ms('2026-10-31T23:59:59.999Z'), '2026-11-01', '2026-11-07'), false);
    assert.equal(inWindow(ms('2026-11-01T09:59:59.999Z'), undefined, '2026-11-01T10:00:00.000Z'), true);
    assert.equal(inWindow(ms('2026-11-01T10:00:00Z'), undefined, '2026-11-01T10:00:00.000Z'), false);
    assert.equal(inWindow(ms('2026-11-01T10:00:00Z'), '2026-11-01T10:00:00.000Z'), true);
    assert.equal(inWindow(ms('1970-01-01T00:00:00Z')), true);
  });

  it('finds a window that runs backwards', () => {
    assert.equal(windowIsBackwards('2026-11-02', '2026-11-01'), true);
    assert.equal(windowIsBackwards('2026-11-01', '2026-11-01'), false);
    assert.equal(windowIsBackwards('2026-11-01T12:00:00.000Z', '2026-11-01'), true);
    assert.equal(windowIsBackwards('2026-11-01', '2026-11-01T12:00:00.000Z'), false);
  });
});
