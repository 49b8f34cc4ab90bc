// Exhibition metadata (lmnh_exhibition_<word>.json) parsed into the catalogue's shape, or a list of problems.

export interface ExhibitionMetadata {
  site: number;
  publicId: string;
  name: string;
  description: string;
  floor: string;
  department: string;
  startDate: string; // ISO date, YYYY-MM-DD
}

export type ExhibitionParse =
  { ok: true; exhibition: ExhibitionMetadata } | { ok: false; problems: string[] };

/** The catalogue's site column is a PostgreSQL integer. */
export const MAX_SITE = 2_147_483_647;

const REQUIRED = ['EXHIBITION_NAME', 'EXHIBITION_ID', 'FLOOR', 'DEPARTMENT', 'START_DATE'] as const;

/** dd/mm/yy (the museum's format) to an ISO date; two-digit years are this century. */
export function parseMuseumDate(text: string): string | null {
  const m = /^(\d{2})\/(\d{2})\/(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const [day, month, year] = [Number(m[1]), Number(m[2]), 2000 + Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return null;
  return date.toISOString().slice(0, 10);
}

/** EXH_04 is site 4: the site is the integer in the id's digits. */
export function siteOfExhibitionId(id: string): number | null {
  const m = /^EXH_(\d+)$/.exec(id.trim());
  return m ? Number(m[1]) : null;
}

export function parseExhibitionMetadata(text: string): ExhibitionParse {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, problems: [`not JSON: ${(err as Error).message}`] };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { ok: false, problems: ['not a JSON object'] };
  }
  const record = doc as Record<string, unknown>;
  const problems: string[] = [];
  const text_ = (key: string): string => {
    const v = record[key];
    return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
  };
  for (const key of REQUIRED) if (text_(key) === '') problems.push(`${key} is missing or empty`);
  const publicId = text_('EXHIBITION_ID');
  const site = siteOfExhibitionId(publicId);
  if (publicId !== '' && site === null) problems.push(`EXHIBITION_ID '${publicId}' is not EXH_<digits>`);
  if (site !== null && site > MAX_SITE)
    problems.push(`EXHIBITION_ID '${publicId}' does not fit the catalogue: its number is above ${MAX_SITE}`);
  const startText = text_('START_DATE');
  const startDate = parseMuseumDate(startText);
  if (startText !== '' && startDate === null)
    problems.push(`START_DATE '${startText}' is not a dd/mm/yy date`);
  if (problems.length > 0 || site === null || startDate === null) return { ok: false, problems };
  return {
    ok: true,
    exhibition: {
      site,
      publicId,
      name: text_('EXHIBITION_NAME'),
      description: text_('DESCRIPTION'),
      floor: text_('FLOOR'),
      department: text_('DEPARTMENT'),
      startDate,
    },
  };
}
