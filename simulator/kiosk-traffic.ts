// Realistic kiosk traffic for the simulator: values byte-for-byte in the real producer's format (Python's
// json.dumps: `{"at": "…", "site": "4", "val": -1, "type": 0}`), and noise shaped like the real sample's:
// each fault below is weighted by how often its reason occurs in ../shared/data/lmnh (1,077 reasons on 1,066
// of 6,243 messages). Pure and seeded, so a seed reproduces a run.
import { beforeOpening, formatKioskAt } from './kiosk-clock';
import { seededRandom, weighted as pick, type Random } from './seeded-random';

/** Share of messages that break a rule in the real sample (1,066 of 6,243). */
export const REAL_NOISE = 1066 / 6243;

// Frequencies of valid presses in the real sample.
const SITES = [
  ['0', 685],
  ['1', 949],
  ['2', 859],
  ['3', 1020],
  ['4', 1233],
  ['5', 1161],
] as const;
const RATINGS = [
  [0, 914],
  [1, 1263],
  [2, 1433],
  [3, 1012],
  [4, 793],
] as const;
const REQUEST_SHARE = 195 / 5177;
const EMERGENCY_SHARE = 10 / 195;

export type Fault =
  | 'MISSING_AT'
  | 'MISSING_SITE'
  | 'MISSING_VAL'
  | 'OUTSIDE_HOURS'
  | 'BAD_SITE'
  | 'UNKNOWN_SITE'
  | 'BAD_VAL'
  | 'MISSING_TYPE'
  | 'BAD_TYPE';

// Reason counts in the real sample; the bad values are the ones seen there.
const FAULTS: readonly (readonly [Fault, number])[] = [
  ['MISSING_AT', 25],
  ['MISSING_SITE', 77],
  ['MISSING_VAL', 119],
  ['OUTSIDE_HOURS', 75],
  ['BAD_SITE', 64],
  ['UNKNOWN_SITE', 195],
  ['BAD_VAL', 249],
  ['MISSING_TYPE', 36],
  ['BAD_TYPE', 237],
];
const BAD_SITES = ['"ERR"', '"INF"', '"None"'];
const UNKNOWN_SITES = ['6', '7', '8', '9', '10', '11', '12'];
const BAD_VALS = ['"ERR"', '"INF"', '5', '6', '7', '8', '9', '-2', '-3'];
const BAD_TYPES = ['"ERR"', '"INF"', '2', '3', '4', '-1'];

/** One press as the producer writes it; absent fields are left out, as json.dumps does for missing keys. */
interface Fields {
  at?: string;
  site?: string;
  val?: string;
  type?: string;
}

/** Python's json.dumps separators: ", " between items, ": " after keys; keys in at, site, val, type order. */
function dumps(fields: Fields): string {
  const parts: string[] = [];
  if (fields.at !== undefined) parts.push(`"at": ${fields.at}`);
  if (fields.site !== undefined) parts.push(`"site": ${fields.site}`);
  if (fields.val !== undefined) parts.push(`"val": ${fields.val}`);
  if (fields.type !== undefined) parts.push(`"type": ${fields.type}`);
  return `{${parts.join(', ')}}`;
}

export interface KioskPress {
  value: string;
  /** The rule this press was made to break, or null for a valid press. */
  fault: Fault | null;
}

export class KioskTraffic {
  private readonly random: Random;

  constructor(
    seed: number,
    private readonly noise: number = REAL_NOISE,
  ) {
    this.random = seededRandom(seed);
  }

  /** A press at `instantMs` (its `at`, unless the fault moves or removes it). */
  next(instantMs: number): KioskPress {
    const r = this.random;
    const micro = Math.floor(r() * 1000);
    const isRequest = r() < REQUEST_SHARE;
    const fields: Fields = {
      at: `"${formatKioskAt(instantMs, micro)}"`,
      site: `"${pick(r, SITES)}"`,
      val: isRequest ? '-1' : String(pick(r, RATINGS)),
      type: isRequest ? (r() < EMERGENCY_SHARE ? '1' : '0') : undefined,
    };
    if (r() >= this.noise) return { value: dumps(fields), fault: null };

    const fault = pick(r, FAULTS);
    const choose = (options: readonly string[]) => options[Math.floor(r() * options.length)]!;
    switch (fault) {
      case 'MISSING_AT':
        delete fields.at;
        break;
      case 'MISSING_SITE':
        delete fields.site;
        break;
      case 'MISSING_VAL':
        // The sample has both: the key left out (88) and null (31). A request keeps its type, as there.
        if (r() < 31 / 119) fields.val = 'null';
        else delete fields.val;
        break;
      case 'OUTSIDE_HOURS':
        fields.at = `"${formatKioskAt(beforeOpening(instantMs, r()), micro)}"`;
        break;
      case 'BAD_SITE':
        fields.site = choose(BAD_SITES);
        break;
      case 'UNKNOWN_SITE':
        fields.site = `"${choose(UNKNOWN_SITES)}"`;
        break;
      case 'BAD_VAL':
        fields.val = choose(BAD_VALS);
        delete fields.type;
        break;
      case 'MISSING_TYPE':
        fields.val = '-1';
        if (r() < 0.5) fields.type = 'null';
        else delete fields.type;
        break;
      case 'BAD_TYPE':
        fields.val = '-1';
        fields.type = choose(BAD_TYPES);
        break;
    }
    return { value: dumps(fields), fault };
  }
}
