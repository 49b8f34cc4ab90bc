// Seeds the exhibition catalogue from the real metadata files, through the same parser and store as the
// batch path, for suites that need known sites without running a batch.
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { upsertExhibitions } from '../../batch/exhibition-store';
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
