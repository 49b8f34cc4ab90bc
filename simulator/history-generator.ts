// Realistic kiosk history in the exact format of the real lmnh_hist_data_<N>.csv files: naive London
// wall-clock times, unsorted, `type` as float text for requests and empty for ratings. The noise matches the
// real files: about 2.4% of presses fall before opening (08:30..08:45; the real files have 52 of 2,137) and
// about 0.3% repeat a press already written to another file (6 of 2,137). Weights are the real files' shares.
import { seededRandom, weighted, type Random } from './seeded-random';

const VALUES: readonly (readonly [string, number])[] = [
  ['0,', 353],
  ['1,', 499],
  ['2,', 555],
  ['3,', 370],
  ['4,', 287],
  ['-1,0.0', 71],
  ['-1,1.0', 2],
];
const FIRST_SECOND = 8 * 3600 + 30 * 60; // 08:30:00, the earliest press in the real files
const LAST_SECOND = 18 * 3600 + 14 * 60 + 59; // the latest is 18:14:25; the museum closes at 18:15
const DUPLICATE_SHARE = 6 / 2137;

export interface HistoryOptions {
  seed: number;
  /** First day, YYYY-MM-DD. */
  startDate: string;
  days: number;
  sites: readonly number[];
}

const pad = (n: number) => String(n).padStart(2, '0');

export class HistoryGenerator {
  private readonly random: Random;
  private readonly startMs: number;
  private readonly recent: string[] = [];

  constructor(private readonly opts: HistoryOptions) {
    this.random = seededRandom(opts.seed);
    this.startMs = Date.parse(`${opts.startDate}T00:00:00Z`);
    if (Number.isNaN(this.startMs)) throw new Error(`start date '${opts.startDate}' is not YYYY-MM-DD`);
  }

  /** One CSV data line (no newline). */
  next(): string {
    if (this.recent.length > 0 && this.random() < DUPLICATE_SHARE) {
      return this.recent[Math.floor(this.random() * this.recent.length)]!;
    }
    const r = this.random;
    const day = new Date(this.startMs + Math.floor(r() * this.opts.days) * 86_400_000);
    const second = FIRST_SECOND + Math.floor(r() * (LAST_SECOND - FIRST_SECOND + 1));
    const site = this.opts.sites[Math.floor(r() * this.opts.sites.length)]!;
    const at =
      `${day.getUTCFullYear()}-${pad(day.getUTCMonth() + 1)}-${pad(day.getUTCDate())} ` +
      `${pad(Math.floor(second / 3600))}:${pad(Math.floor(second / 60) % 60)}:${pad(second % 60)}`;
    const line = `${at},${site},${weighted(r, VALUES)}`;
    // Keep a small window of earlier presses to repeat: enough for realistic cross-file duplicates.
    if (this.recent.length < 1000) this.recent.push(line);
    else this.recent[Math.floor(r() * 1000)] = line;
    return line;
  }
}

export interface GeneratedExhibition {
  file: string;
  json: string;
}

const EXHIBITIONS = [
  ['caves', 'Under the Fells', '1', 'Geology', 'A walk through the limestone caves beneath the Pennines.'],
  [
    'beetles',
    'Six Legs, Many Lives',
    'Vault',
    'Entomology',
    'Beetles, ants and the insects that outlast us all.',
  ],
  ['explorers', 'The Harrow Voyages', '2', 'Zoology', 'Specimens from a century of northern expeditions.'],
  ['seas', 'Deep Blue Giants', '1', 'Zoology', 'The great whales, their songs and their migrations.'],
  ['climate', 'A Warming World', '3', 'Ecology', 'How a changing climate reshapes the living landscape.'],
  ['fossils', 'Footprints in Stone', '1', 'Paleontology', 'Dinosaur trackways found on the Wirral shore.'],
] as const;

/** Exhibition metadata in the real JSON format (dd/mm/yy dates), one per site in `sites`. */
export function generateExhibitions(sites: readonly number[], seed: number): GeneratedExhibition[] {
  const r = seededRandom(seed ^ 0x5eed);
  return sites.map((site, i) => {
    const [word, name, floor, department, description] = EXHIBITIONS[i % EXHIBITIONS.length]!;
    const day = 1 + Math.floor(r() * 28);
    const month = 1 + Math.floor(r() * 12);
    const year = 18 + Math.floor(r() * 5);
    const doc = {
      EXHIBITION_NAME: i < EXHIBITIONS.length ? name : `${name} ${Math.floor(i / EXHIBITIONS.length) + 1}`,
      EXHIBITION_ID: `EXH_${pad(site)}`,
      FLOOR: floor,
      DEPARTMENT: department,
      START_DATE: `${pad(day)}/${pad(month)}/${pad(year)}`,
      DESCRIPTION: description,
    };
    return {
      file: `lmnh_exhibition_${word}${i < EXHIBITIONS.length ? '' : site}.json`,
      json: JSON.stringify(doc, null, 4),
    };
  });
}
