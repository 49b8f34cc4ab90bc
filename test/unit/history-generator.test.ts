import assert from 'node:assert/strict';
import { generateExhibitions, HistoryGenerator } from '../../simulator/history-generator';
import { parseExhibitionMetadata } from '../../domain/exhibition';
import { validateCsvRecord } from '../../domain/validation';

const OPTS = { seed: 11, startDate: '2023-03-01', days: 30, sites: [0, 1, 2, 3, 4, 5] };

describe('history generator', () => {
  it('is reproducible from its seed', () => {
    const a = new HistoryGenerator(OPTS);
    const b = new HistoryGenerator(OPTS);
    const c = new HistoryGenerator({ ...OPTS, seed: 12 });
    const first = Array.from({ length: 100 }, () => a.next());
    assert.deepEqual(
      Array.from({ length: 100 }, () => b.next()),
      first,
    );
    assert.notDeepEqual(
      Array.from({ length: 100 }, () => c.next()),
      first,
    );
  });

  it('writes the real format with the real noise: ~2.4% before opening, nothing else invalid', () => {
    const gen = new HistoryGenerator(OPTS);
    const ctx = { knownSites: new Set(OPTS.sites), now: new Date('2026-11-27T12:00:00Z') };
    const counts = new Map<string, number>();
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const line = gen.next();
      assert.match(line, /^2023-03-\d\d \d\d:\d\d:\d\d,[0-5],(-1,[01]\.0|[0-4],)$/);
      const [at, site, val, type] = line.split(',') as [string, string, string, string];
      const verdict = validateCsvRecord({ at, site, val, type }, ctx);
      const key = verdict.valid ? 'valid' : verdict.reasons.join('+');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), ['OUTSIDE_HOURS', 'valid']);
    const early = (counts.get('OUTSIDE_HOURS') ?? 0) / n;
    assert.ok(early > 0.02 && early < 0.03, `share before opening ${early}`);
  });

  it('writes exhibition metadata that the catalogue parser accepts, one per site', () => {
    const files = generateExhibitions([0, 1, 2, 3, 4, 5, 6], 3);
    assert.equal(new Set(files.map((f) => f.file)).size, 7);
    const sites = files.map((f) => {
      const parsed = parseExhibitionMetadata(f.json);
      assert.ok(parsed.ok, f.file);
      return parsed.exhibition.site;
    });
    assert.deepEqual(sites, [0, 1, 2, 3, 4, 5, 6]);
  });
});
