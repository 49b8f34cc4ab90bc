// The catalogue's identity sequences, to check that repeated runs do not use them up.
import type { Knex } from 'knex';

export async function catalogueSequences(knex: Knex): Promise<Record<string, number | null>> {
  const rows = await knex.raw<{ rows: { name: string; last: string | null }[] }>(
    `select sequencename as name, last_value as last from pg_sequences
     where sequencename in ('floor_floor_id_seq', 'department_department_id_seq', 'exhibition_exhibition_id_seq')
     order by 1`,
  );
  return Object.fromEntries(rows.rows.map((r) => [r.name, r.last === null ? null : Number(r.last)]));
}
