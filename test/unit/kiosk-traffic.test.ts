import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { beforeOpening, formatKioskAt, londonOffsetMs, simulationStart } from '../../simulator/kiosk-clock';
import { parseReplayFile } from '../../simulator/kiosk-replay';
import { KioskTraffic, REAL_NOISE, type Fault } from '../../simulator/kiosk-traffic';
import { validateStreamValue } from '../../domain/validation';
import { SHARED_DATA } from '../support/isolated-env';

const ctx = (now: number) => ({ knownSites: new Set([0, 1, 2, 3, 4, 5]), now: new Date(now) });
// Python json.dumps of {"at": str, "site": str, "val": int[, "type": int]}.
const REAL_FORMAT =
  /^\{"at": "\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+0[01]:00", "site": "[0-5]", "val": (?:[0-4]|-1, "type": [01])\}$/;

describe('kiosk clock', () => {
  it("writes instants as Python's isoformat on London's clock, winter and summer", () => {
    assert.equal(
      formatKioskAt(Date.parse('2026-02-24T17:18:10.967Z'), 747),
      '2026-02-24T17:18:10.967747+00:00',
    );
    assert.equal(
      formatKioskAt(Date.parse('2024-10-21T08:21:24.254Z'), 719),
      '2024-10-21T09:21:24.254719+01:00',
    );
    assert.equal(londonOffsetMs(Date.parse('2026-03-29T00:59:59Z')), 0);
    assert.equal(londonOffsetMs(Date.parse('2026-03-29T01:00:00Z')), 3600_000);
  });

  it('starts a simulation now while the museum is open, else at 10:00 London on the latest day', () => {
    const open = Date.parse('2026-07-01T12:00:00Z'); // 13:00 BST
    assert.equal(simulationStart(open), open);
    assert.equal(
      new Date(simulationStart(Date.parse('2026-07-01T20:00:00Z'))).toISOString(),
      '2026-07-01T09:00:00.000Z',
    );
    assert.equal(
      new Date(simulationStart(Date.parse('2026-01-15T06:00:00Z'))).toISOString(),
      '2026-01-14T10:00:00.000Z',
    );
    assert.equal(
      new Date(simulationStart(Date.parse('2026-01-15T23:30:00Z'))).toISOString(),
      '2026-01-15T10:00:00.000Z',
    );
  });

  it('moves a press before opening on the same London day, never later than it was', () => {
    const at = Date.parse('2026-07-01T12:00:00Z');
    for (const f of [0, 0.5, 0.999]) {
      const moved = beforeOpening(at, f);
      assert.ok(moved <= at);
      assert.match(formatKioskAt(moved), /^2026-07-01T0[0-8]:/);
    }
  });
});

describe('kiosk traffic', () => {
  const now = Date.parse('2026-07-01T12:00:00Z');

  it('writes valid presses exactly in the real producer format', () => {
    const traffic = new KioskTraffic(1, 0);
    for (let i = 0; i < 2000; i++) {
      const press = traffic.next(now - i * 1000);
      assert.equal(press.fault, null);
      assert.match(press.value, REAL_FORMAT);
      assert.ok(validateStreamValue(Buffer.from(press.value), ctx(now)).valid, press.value);
    }
  });

  it('makes each fault break exactly the rule it names', () => {
    const traffic = new KioskTraffic(2, 1);
    const seen = new Set<Fault>();
    for (let i = 0; i < 5000; i++) {
      const press = traffic.next(now - i * 1000);
      assert.ok(press.fault !== null);
      seen.add(press.fault);
      const verdict = validateStreamValue(Buffer.from(press.value), ctx(now));
      assert.deepEqual(verdict.valid ? [] : verdict.reasons, [press.fault], press.value);
    }
    assert.equal(seen.size, 9);
  });

  it('is as noisy as the real sample by default, and reproducible from its seed', () => {
    const traffic = new KioskTraffic(3);
    const presses = Array.from({ length: 20_000 }, (_, i) => traffic.next(now - i * 100));
    const invalid = presses.filter((p) => !validateStreamValue(Buffer.from(p.value), ctx(now)).valid).length;
    assert.ok(
      Math.abs(invalid / presses.length - REAL_NOISE) < 0.01,
      `${invalid} invalid of ${presses.length}`,
    );
    const again = new KioskTraffic(3);
    assert.deepEqual(
      presses.slice(0, 50).map((p) => p.value),
      Array.from({ length: 50 }, (_, i) => again.next(now - i * 100).value),
    );
  });
});

describe('replay files', () => {
  it('reads the shared sample', () => {
    const file = path.join(SHARED_DATA, 'lmnh_kafka_sample_messages.json');
    const values = parseReplayFile(fs.readFileSync(file, 'utf8'));
    assert.equal(values.length, 6243);
    assert.equal(values[0], '{"site": "5", "val": 3}');
  });

  it('reads one JSON string per line and refuses anything else', () => {
    assert.deepEqual(parseReplayFile('"{\\"val\\": 1}"\n\n"not json at all"\n'), [
      '{"val": 1}',
      'not json at all',
    ]);
    assert.throws(() => parseReplayFile('"ok"\n{"val": 1}\n'), /line 2: expected a JSON string/);
  });
});
