// Seeds the exhibition catalogue from the real metadata files, through the same parser and store as the
// batch path, for suites that need known sites without running a batch.
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { upsertExhibitions } from '../../catalogue/exhibitions';
import { parseExhibitionMetadata, type ExhibitionMetadata } from '../../domain/exhibition';
import { SHARED_DATA } from './isolated-env';

export function realExhibitions(dir = SHARED_DATA): ExhibitionMetadata[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^lmnh_exhibition_.*\.json$/.test(f))
    .sort()
    .map((f) => {
      const parsed = parseExhibitionMetadata(fs.readFileSync(path.join(dir, f), 'utf8'));
      if (!parsed.ok) throw new Error(`${f}: ${parsed.problems.join('; ')}`);
      return parsed.exhibition;
    });
}

export async function seedRealExhibitions(knex: Knex): Promise<number> {
  return upsertExhibitions(knex, realExhibitions());
}

/** The metadata file of a site the real files lack: presses of site 6 are UNKNOWN_SITE until it lands. */
export const SITE_6 = {
  EXHIBITION_NAME: 'Deep Time',
  EXHIBITION_ID: 'EXH_06',
  FLOOR: '2',
  DEPARTMENT: 'Geology',
  START_DATE: '01/11/22',
  DESCRIPTION: 'A gallery whose kiosk went live before its metadata',
};
