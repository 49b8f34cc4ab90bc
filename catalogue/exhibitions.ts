// The exhibition catalogue in PostgreSQL: upserts metadata (floors and departments included) and answers
// which sites are known, the set validation checks UNKNOWN_SITE against, in batch, stream and replay alike.
// Every run upserts the whole catalogue, so it inserts only new rows and updates only changed ones: an
// INSERT .. ON CONFLICT evaluates the identity default first, and would use up the smallint sequences
// (32,767 values) a few at a time on every run.
import type { Knex } from 'knex';
import type { ExhibitionMetadata } from '../domain/exhibition';

/** Inserts the names not there yet (ON CONFLICT only for a concurrent run inserting the same name). */
async function insertMissingNames(trx: Knex.Transaction, table: 'floor' | 'department', names: string[]) {
  await trx.raw(
    `insert into ${table} (name) select n from unnest(?::text[]) as n
     where not exists (select 1 from ${table} t where t.name = n) on conflict (name) do nothing`,
    [[...new Set(names)]],
  );
}

export async function upsertExhibitions(
  knex: Knex,
  exhibitions: readonly ExhibitionMetadata[],
): Promise<number> {
  if (exhibitions.length === 0) return 0;
  await knex.transaction(async (trx) => {
    await insertMissingNames(
      trx,
      'floor',
      exhibitions.map((e) => e.floor),
    );
    await insertMissingNames(
      trx,
      'department',
      exhibitions.map((e) => e.department),
    );
    for (const e of exhibitions) {
      const values = [e.publicId, e.name, e.description, e.floor, e.department, e.startDate];
      await trx.raw(
        `update exhibition set public_id = v.public_id, name = v.name, description = v.description,
           floor_id = v.floor_id, department_id = v.department_id, start_date = v.start_date, updated_at = now()
         from (select ?::text as public_id, ?::text as name, ?::text as description,
                 (select floor_id from floor where name = ?) as floor_id,
                 (select department_id from department where name = ?) as department_id,
                 ?::date as start_date) v
         where exhibition.site = ?
           and (exhibition.public_id, exhibition.name, exhibition.description, exhibition.floor_id,
                exhibition.department_id, exhibition.start_date)
             is distinct from (v.public_id, v.name, v.description, v.floor_id, v.department_id, v.start_date)`,
        [...values, e.site],
      );
      await trx.raw(
        `insert into exhibition (site, public_id, name, description, floor_id, department_id, start_date)
         select ?, ?, ?, ?, (select floor_id from floor where name = ?),
           (select department_id from department where name = ?), ?
         where not exists (select 1 from exhibition where site = ?)
         on conflict (site) do nothing`,
        [e.site, ...values, e.site],
      );
    }
  });
  return exhibitions.length;
}

export async function knownSites(knex: Knex): Promise<Set<number>> {
  const rows = await knex('exhibition').select<{ site: number }[]>('site');
  return new Set(rows.map((r) => r.site));
}

/** Exhibition id by site, read in the caller's transaction so validation and foreign keys agree. */
export async function exhibitionIdsBySite(trx: Knex.Transaction): Promise<Map<number, number>> {
  const rows = await trx('exhibition').select<{ site: number; exhibition_id: number }[]>(
    'site',
    'exhibition_id',
  );
  return new Map(rows.map((r) => [r.site, r.exhibition_id]));
}
