// The exhibition catalogue in PostgreSQL: upserts metadata (floors and departments included) and answers
// which sites are known, the set validation checks UNKNOWN_SITE against.
import type { Knex } from 'knex';
import type { ExhibitionMetadata } from '../domain/exhibition';

export async function upsertExhibitions(
  knex: Knex,
  exhibitions: readonly ExhibitionMetadata[],
): Promise<number> {
  if (exhibitions.length === 0) return 0;
  await knex.transaction(async (trx) => {
    const floors = [...new Set(exhibitions.map((e) => e.floor))].map((name) => ({ name }));
    const departments = [...new Set(exhibitions.map((e) => e.department))].map((name) => ({ name }));
    await trx('floor').insert(floors).onConflict('name').ignore();
    await trx('department').insert(departments).onConflict('name').ignore();
    for (const e of exhibitions) {
      await trx.raw(
        `insert into exhibition (site, public_id, name, description, floor_id, department_id, start_date)
         values (?, ?, ?, ?, (select floor_id from floor where name = ?),
                 (select department_id from department where name = ?), ?)
         on conflict (site) do update set public_id = excluded.public_id, name = excluded.name,
           description = excluded.description, floor_id = excluded.floor_id,
           department_id = excluded.department_id, start_date = excluded.start_date, updated_at = now()
         where (exhibition.public_id, exhibition.name, exhibition.description, exhibition.floor_id,
                exhibition.department_id, exhibition.start_date)
           is distinct from (excluded.public_id, excluded.name, excluded.description, excluded.floor_id,
                excluded.department_id, excluded.start_date)`,
        [e.site, e.publicId, e.name, e.description, e.floor, e.department, e.startDate],
      );
    }
  });
  return exhibitions.length;
}

export async function knownSites(knex: Knex): Promise<Set<number>> {
  const rows = await knex('exhibition').select<{ site: number }[]>('site');
  return new Set(rows.map((r) => r.site));
}
