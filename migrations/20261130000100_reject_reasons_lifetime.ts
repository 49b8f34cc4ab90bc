// Reject reasons for values the database could not store as they are (an instant outside the range the
// pipeline stores, a value larger than a workflow signal may carry, a row the database refused), and the
// full length of a raw value kept only in part.
import type { Knex } from 'knex';
import { REASON_DESCRIPTIONS } from '../domain/reasons';

// The codes as they were before this migration, frozen for the check constraints.
const OLD_CODES = [
  'MALFORMED',
  'UNKNOWN_KEY',
  'MISSING_AT',
  'MISSING_SITE',
  'MISSING_VAL',
  'BAD_AT',
  'OUTSIDE_HOURS',
  'FUTURE_AT',
  'BAD_SITE',
  'UNKNOWN_SITE',
  'BAD_VAL',
  'MISSING_TYPE',
  'BAD_TYPE',
  'UNEXPECTED_TYPE',
  'DUPLICATE',
] as const;
const NEW_CODES = ['AT_OUT_OF_RANGE', 'OVERSIZE', 'UNSTORABLE'] as const;

const arrayOf = (codes: readonly string[]) => `array[${codes.map((c) => `'${c}'`).join(',')}]::text[]`;

async function setReasonChecks(knex: Knex, codes: readonly string[]): Promise<void> {
  await knex.raw(`
    alter table reject_reason drop constraint reject_reason_code_check;
    alter table reject_reason add constraint reject_reason_code_check check (code = any (${arrayOf(codes)}));
    alter table rejected_interaction drop constraint rejected_interaction_reasons_check;
    alter table rejected_interaction add constraint rejected_interaction_reasons_check
      check (cardinality(reasons) > 0 and reasons <@ ${arrayOf(codes)});
  `);
}

export async function up(knex: Knex): Promise<void> {
  await setReasonChecks(knex, [...OLD_CODES, ...NEW_CODES]);
  await knex('reject_reason').insert(
    NEW_CODES.map((code) => ({ code, description: REASON_DESCRIPTIONS[code] })),
  );
  // Descriptions have one home, domain/reasons.ts; databases seeded with the first wording take it up.
  for (const code of OLD_CODES) {
    await knex('reject_reason').where({ code }).update({ description: REASON_DESCRIPTIONS[code] });
  }
  // Null when raw is the whole value; otherwise raw holds only the value's first bytes.
  await knex.raw(`
    alter table rejected_interaction add column raw_length bigint
      constraint rejected_raw_length_exceeds_kept check (raw_length is null or raw_length > octet_length(raw));
  `);
}

export async function down(knex: Knex): Promise<void> {
  const blocking = await knex.raw<{ rows: { n: string }[] }>(
    `select count(*) as n from rejected_interaction where raw_length is not null or not (reasons <@ ?::text[])`,
    [[...OLD_CODES]],
  );
  const n = Number(blocking.rows[0]?.n ?? 0);
  if (n > 0) {
    // Refused rather than deleting or rewriting rejects: the older schema has no place for them.
    throw new Error(
      `cannot roll back: ${n} rejects use a reason or a truncated raw value the older schema cannot hold`,
    );
  }
  await knex.raw('alter table rejected_interaction drop column raw_length');
  await knex('reject_reason').whereIn('code', NEW_CODES).delete();
  await setReasonChecks(knex, OLD_CODES);
}
