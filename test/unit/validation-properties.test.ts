// Properties over many generated inputs: nothing throws, verdicts are well formed, and the CSV and stream paths
// judge the same values the same way.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  REASON_CODES,
  validateCsvRecord,
  validateStreamValue,
  type CsvRecord,
  type RuleContext,
  type Verdict,
} from '../../domain/validation';
import { SHARED_DATA } from '../support/isolated-env';
import { seededRandom } from '../../simulator/seeded-random';

const ctx: RuleContext = { knownSites: new Set([0, 1, 2, 3, 4, 5]), now: new Date('2026-11-27T12:00:00Z') };
const SAMPLE = path.join(SHARED_DATA, 'lmnh_kafka_sample_messages.json');

/** Throws unless the verdict is well formed; `describe` names the input, and runs only on failure. */
function checkWellFormed(verdict: Verdict, describe: () => string): void {
  const fail = (what: string): never => assert.fail(`${what}: ${describe()} gave ${JSON.stringify(verdict)}`);
  if (verdict.valid) {
    const { site, kind, value, eventAt } = verdict.interaction;
    if (!ctx.knownSites.has(site)) fail('unknown site accepted');
    const goodValue =
      kind === 'request' ? value === 0 || value === 1 : Number.isInteger(value) && value >= 0 && value <= 4;
    if (!goodValue) fail('bad value accepted');
    if (Number.isNaN(eventAt.getTime())) fail('invalid date accepted');
    return;
  }
  if (verdict.reasons.length === 0) fail('rejected without a reason');
  const order = verdict.reasons.map((reason) => REASON_CODES.indexOf(reason));
  if (!order.every((index, i) => index >= 0 && (i === 0 || index > (order[i - 1] ?? -1)))) {
    fail('reasons unordered or repeated');
  }
  if (verdict.reasons.includes('DUPLICATE')) fail('DUPLICATE decided here');
  if (verdict.reasons.includes('MALFORMED') && verdict.reasons.length > 1)
    fail('MALFORMED with other reasons');
}

describe('validation properties', () => {
  it('random bytes never throw', () => {
    const next = seededRandom(1);
    for (let n = 0; n < 20_000; n++) {
      const raw = Uint8Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256));
      checkWellFormed(validateStreamValue(raw, ctx), () => JSON.stringify(Array.from(raw)));
    }
  });

  it('mutated real messages never throw', () => {
    const next = seededRandom(2);
    const file = JSON.parse(fs.readFileSync(SAMPLE, 'utf8')) as { messages: { raw: string }[] };
    const messages = file.messages.map((message) => Buffer.from(message.raw, 'utf8'));
    for (let n = 0; n < 20_000; n++) {
      const original = messages[Math.floor(next() * messages.length)] ?? Buffer.alloc(0);
      const bytes = Array.from(original);
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * (bytes.length + 1));
        const kind = next();
        if (kind < 0.4) bytes[at] = Math.floor(next() * 256);
        else if (kind < 0.6) bytes.splice(at, 1);
        else if (kind < 0.8) bytes.splice(at, 0, '0123456789:-+.TZ"eE,'.charCodeAt(Math.floor(next() * 20)));
        else bytes.length = at;
      }
      const raw = Uint8Array.from(bytes);
      checkWellFormed(validateStreamValue(raw, ctx), () => Buffer.from(raw).toString('latin1'));
    }
  });

  it('random JSON objects never throw', () => {
    const next = seededRandom(3);
    const values = [
      'null',
      'true',
      'false',
      '0',
      '-0',
      '1',
      '-1',
      '4',
      '4.0',
      '4.5',
      '5',
      '1e309',
      '-1e309',
      '1e2',
      '""',
      '" "',
      '"0"',
      '"4"',
      '"04"',
      '"-1"',
      '"ERR"',
      '"INF"',
      '"None"',
      '[]',
      '[1]',
      '{}',
      '{"a": {"b": [null]}}',
      '"2026-02-24T10:00:00+00:00"',
      '"2026-02-24T18:15:00.000001+01:00"',
      '"2026-13-01T10:00:00Z"',
      '"2026-11-27T12:05:00.000001Z"',
      '"2023-03-06 10:00:00"',
      '9007199254740993',
    ];
    const keys = ['at', 'site', 'val', 'type', 'at', 'site', 'val', 'type', 'extra', ''];
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    for (let n = 0; n < 20_000; n++) {
      const parts = Array.from(
        { length: Math.floor(next() * 6) },
        () => `${JSON.stringify(pick(keys))}: ${pick(values)}`,
      );
      const text = `{${parts.join(', ')}}`;
      checkWellFormed(validateStreamValue(Buffer.from(text), ctx), () => text);
    }
  });

  it('random CSV text never throws', () => {
    const next = seededRandom(4);
    const alphabet = '0123456789 -:.+eE,TZ\u00e9\u0000';
    const text = (): string =>
      Array.from(
        { length: Math.floor(next() * 22) },
        () => alphabet[Math.floor(next() * alphabet.length)],
      ).join('');
    for (let n = 0; n < 20_000; n++) {
      const rec: CsvRecord = { at: text(), site: text(), val: text(), type: text() };
      checkWellFormed(validateCsvRecord(rec, ctx), () => JSON.stringify(rec));
    }
  });

  it('CSV and stream give the same verdict for the same values', () => {
    // Each value in its CSV text and its stream JSON: numbers stay JSON numbers, the rest become strings.
    const sites = ['', '0', '4', '5', '6', '12', '4a', '-1', 'ERR'];
    const vals = ['', '-1', '0', '2', '4', '5', '-2', '3.5', 'ERR', 'INF'];
    const types = ['', '0', '1', '2', '-1', '0.5', 'ERR'];
    const clocks = ['08:44:59', '08:45:00', '12:00:00', '18:15:00', '18:15:01'];
    const asJson = (text: string): string =>
      /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? text : JSON.stringify(text);
    const reached = new Set<string>();
    for (const clock of clocks) {
      // A winter day, so London's wall clock and the +00:00 clock are the same.
      const csvAt = `2026-01-14 ${clock}`;
      const streamAt = `2026-01-14T${clock}+00:00`;
      for (const site of sites) {
        for (const val of vals) {
          for (const type of types) {
            const fromCsv = validateCsvRecord({ at: csvAt, site, val, type }, ctx);
            const json = `{"at": "${streamAt}", "site": ${JSON.stringify(site)}, "val": ${asJson(val)}, "type": ${asJson(type)}}`;
            const fromStream = validateStreamValue(Buffer.from(json), ctx);
            assert.deepEqual(fromStream, fromCsv, json);
            for (const reason of fromCsv.valid ? ['valid'] : fromCsv.reasons) reached.add(reason);
          }
        }
      }
    }
    // The grid reaches every rule its values can break, and accepts some presses: equal verdicts are not
    // equal by accident of one rule catching everything.
    assert.deepEqual([...reached].sort(), [
      'BAD_SITE',
      'BAD_TYPE',
      'BAD_VAL',
      'MISSING_SITE',
      'MISSING_TYPE',
      'MISSING_VAL',
      'OUTSIDE_HOURS',
      'UNEXPECTED_TYPE',
      'UNKNOWN_SITE',
      'valid',
    ]);
  });
});
