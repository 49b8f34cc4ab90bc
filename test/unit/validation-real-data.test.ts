// The real LMNH data, read in place from ../shared/data/lmnh (never copied into the repository).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  REASON_CODES,
  validateCsvRecord,
  validateStreamValue,
  type ReasonCode,
  type RuleContext,
  type Verdict,
} from '../../domain/validation';
import { SHARED_DATA } from '../support/isolated-env';

const DATA = SHARED_DATA;
const ctx: RuleContext = { knownSites: new Set([0, 1, 2, 3, 4, 5]), now: new Date('2026-11-27T12:00:00Z') };

type Counts = Partial<Record<ReasonCode, number>>;

function countReasons(verdicts: Verdict[]): Counts {
  const counts: Counts = {};
  for (const verdict of verdicts) {
    if (verdict.valid) continue;
    for (const reason of verdict.reasons) counts[reason] = (counts[reason] ?? 0) + 1;
  }
  // In REASON_CODES order, so that deepEqual failures read in the same order as the table.
  return Object.fromEntries(
    REASON_CODES.filter((code) => code in counts).map((code) => [code, counts[code]]),
  );
}

/**
 * The rule ../shared/data/lmnh/SOURCES.md used to count its 1066, written independently of the module under
 * test: at between 08:45 and 18:15 by comparing the clock text, site one of "0".."5", val an integer -1..4,
 * type 0 or 1 for a request and absent otherwise.
 */
function breaksSourcesRule(raw: string): boolean {
  const message = JSON.parse(raw) as Record<string, unknown>;
  const { at, site, val, type } = message;
  if (typeof at !== 'string') return true;
  const clock = at.slice(11, 19);
  if (clock < '08:45:00' || clock > '18:15:00') return true;
  if (!['0', '1', '2', '3', '4', '5'].includes(site as string)) return true;
  if (!Number.isInteger(val) || (val as number) < -1 || (val as number) > 4) return true;
  if (val === -1) return type !== 0 && type !== 1;
  return 'type' in message;
}

describe('real data from LMNH', () => {
  before(function () {
    assert.ok(fs.existsSync(DATA), `the shared LMNH data is expected at ${DATA}`);
  });

  describe('Kafka sample messages', () => {
    let raws: string[];
    let verdicts: Verdict[];
    before(() => {
      const file = JSON.parse(
        fs.readFileSync(path.join(DATA, 'lmnh_kafka_sample_messages.json'), 'utf8'),
      ) as {
        messages: { raw: string }[];
      };
      raws = file.messages.map((message) => message.raw);
      verdicts = raws.map((raw) => validateStreamValue(Buffer.from(raw, 'utf8'), ctx));
    });

    it('rejects 1066 of 6243, with these reasons', () => {
      assert.equal(raws.length, 6243);
      assert.equal(verdicts.filter((verdict) => !verdict.valid).length, 1066);
      // 11 of the 1066 carry two reasons (OUTSIDE_HOURS and another), hence the sum of 1077.
      const twoReasons = verdicts.filter((verdict) => !verdict.valid && verdict.reasons.length === 2);
      assert.equal(twoReasons.length, 11);
      assert.ok(twoReasons.every((verdict) => !verdict.valid && verdict.reasons.includes('OUTSIDE_HOURS')));
      assert.deepEqual(countReasons(verdicts), {
        MISSING_AT: 25,
        MISSING_SITE: 77,
        MISSING_VAL: 119,
        OUTSIDE_HOURS: 75,
        BAD_SITE: 64,
        UNKNOWN_SITE: 195,
        BAD_VAL: 249,
        MISSING_TYPE: 36,
        BAD_TYPE: 237,
      });
    });

    it('rejects exactly the messages that break the rule SOURCES.md counted', () => {
      // Our rules differ from that one in three places, none of which any sample message reaches, so the two
      // agree message by message and the count is the same 1066:
      // - site: theirs is the strings "0".."5"; ours also takes JSON integers and leading zeros and checks the
      //   known sites. Every sample site outside "0".."5" is "6".."12" (UNKNOWN_SITE, 195), "ERR"/"INF"/"None"
      //   (BAD_SITE, 64) or missing (MISSING_SITE, 77); none is a JSON integer or has a leading zero.
      // - type on a rating: theirs rejects any type key, ours only a type that is not null or "". No rating in
      //   the sample has a type key at all (UNEXPECTED_TYPE: 0).
      // - hours: theirs compares whole seconds, ours the fraction too, which matters only within the second
      //   after 18:15:00; no sample message is in it. FUTURE_AT: every message is before now.
      const disagreements = raws.filter((raw, i) => breaksSourcesRule(raw) === verdicts[i]?.valid);
      assert.deepEqual(disagreements, []);
    });

    it('gives every valid message the instant Date.parse reads from its at', () => {
      raws.forEach((raw, i) => {
        const verdict = verdicts[i];
        if (!verdict?.valid) return;
        const { at } = JSON.parse(raw) as { at: string };
        assert.equal(verdict.interaction.eventAt.getTime(), Date.parse(at), raw);
      });
    });
  });

  describe('historical CSV files', () => {
    const expected: [file: string, rows: number, outsideHours: number][] = [
      ['lmnh_hist_data_0.csv', 535, 9],
      ['lmnh_hist_data_1.csv', 534, 15],
      ['lmnh_hist_data_2.csv', 534, 16],
      ['lmnh_hist_data_3.csv', 534, 12],
    ];

    function readRows(file: string): string[][] {
      const lines = fs.readFileSync(path.join(DATA, file), 'utf8').split('\n');
      assert.equal(lines.shift(), 'at,site,val,type');
      assert.equal(lines.pop(), '');
      // These files have no quoting, so a plain split is the whole CSV grammar they use.
      return lines.map((line) => line.split(','));
    }

    for (const [file, rows, outsideHours] of expected) {
      it(`${file}: ${rows} rows, ${outsideHours} before opening and nothing else wrong`, () => {
        const fields = readRows(file);
        assert.equal(fields.length, rows);
        const verdicts = fields.map(([at = '', site = '', val = '', type = '']) =>
          validateCsvRecord({ at, site, val, type }, ctx),
        );
        // Independent count: the clock text compared as a string.
        const independent = fields.filter(
          ([at = '']) => at.slice(11) < '08:45:00' || at.slice(11) > '18:15:00',
        );
        assert.equal(independent.length, outsideHours);
        assert.deepEqual(countReasons(verdicts), { OUTSIDE_HOURS: outsideHours });
        verdicts.forEach((verdict, i) => {
          const [at = '', site = '', val = '', type = ''] = fields[i] ?? [];
          const early = at.slice(11) < '08:45:00';
          assert.equal(verdict.valid, !early, at);
          if (!verdict.valid) return;
          // 6 March 2023 is winter: London is on UTC.
          assert.equal(verdict.interaction.eventAt.toISOString(), `${at.replace(' ', 'T')}.000Z`);
          assert.equal(verdict.interaction.site, Number(site));
          assert.equal(verdict.interaction.kind, val === '-1' ? 'request' : 'rating');
          assert.equal(verdict.interaction.value, val === '-1' ? Number(type) : Number(val));
        });
      });
    }

    it('52 rows in all are before 08:45, as SOURCES.md says', () => {
      const total = expected.reduce((sum, [file]) => {
        const rejected = readRows(file)
          .map(([at = '', site = '', val = '', type = '']) => validateCsvRecord({ at, site, val, type }, ctx))
          .filter((verdict) => !verdict.valid);
        return sum + rejected.length;
      }, 0);
      assert.equal(total, 52);
    });
  });
});
