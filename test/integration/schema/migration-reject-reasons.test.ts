import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { REASON_DESCRIPTIONS } from '../../../domain/reasons';
import { createKnex } from '../../../infra/db';
import { migrateLatest } from '../../../infra/migrate';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';

const MIGRATION = '20261130000100_reject_reasons_lifetime';

/** Applies migrations one by one up to and including `name`, so later ones do not mask this one. */
async function migrateUpTo(knex: Knex, name: string): Promise<void> {
  for (;;) {
    const [, applied] = (await knex.migrate.up()) as [number, string[]];
    if (applied.length === 0) throw new Error(`${name} was never applied`);
    if (applied.includes(name)) return;
  }
}

const SETUP = `
  insert into pipeline_run (run_id, kind, workflow_id, source) values ('run-1', 'stream', 'stream-test', 'lmnh');
  insert into rejected_interaction (raw, reasons, run_id, source_topic, source_partition, source_offset)
    values ('\\x7b7d'::bytea, '{MISSING_AT,MISSING_SITE,MISSING_VAL}', 'run-1', 'lmnh', 0, 1);
`;
const newReject = (offset: number, reasons: string, rawLength: string) =>
  `insert into rejected_interaction (raw, reasons, raw_length, run_id, source_topic, source_partition, source_offset)
   values ('\\x7b2261'::bytea, '${reasons}', ${rawLength}, 'run-1', 'lmnh', 0, ${offset})`;

async function sqlState(knex: Knex, sql: string): Promise<string> {
  try {
    await knex.raw(sql);
    return 'accepted';
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).message;
  }
}

describe('migration: reject reasons for unstorable values, and raw_length', function () {
  const cfg = isolatedConfig('reject-reasons');
  let knex: Knex;

  before(async () => {
    await createDatabase(cfg.databaseUrl, false);
    knex = createKnex(cfg.databaseUrl, 2);
    await migrateUpTo(knex, MIGRATION);
    await knex.raw(SETUP);
  });
  after(async () => {
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  it('seeds the new codes and accepts rejects that carry them, with the full length of a truncated value', async () => {
    const codes = await knex('reject_reason')
      .whereIn('code', ['AT_OUT_OF_RANGE', 'OVERSIZE', 'UNSTORABLE'])
      .orderBy('code')
      .pluck('code');
    assert.deepEqual(codes, ['AT_OUT_OF_RANGE', 'OVERSIZE', 'UNSTORABLE']);
    assert.equal(await sqlState(knex, newReject(2, '{OVERSIZE}', '3145728')), 'accepted');
    assert.equal(await sqlState(knex, newReject(3, '{UNSTORABLE}', 'null')), 'accepted');
    assert.equal(await sqlState(knex, newReject(4, '{AT_OUT_OF_RANGE}', 'null')), 'accepted');
  });

  it('refuses a raw_length that is not longer than the bytes kept, and still refuses unknown codes', async () => {
    assert.equal(await sqlState(knex, newReject(5, '{OVERSIZE}', '3')), '23514');
    assert.equal(await sqlState(knex, newReject(6, '{NOT_A_CODE}', 'null')), '23514');
    assert.equal(
      await sqlState(knex, `insert into reject_reason (code, description) values ('NOPE', 'x')`),
      '23514',
    );
  });

  it('refuses to roll back while rejects use what the older schema cannot hold, then rolls back keeping the rest', async () => {
    await assert.rejects(knex.migrate.down(), /cannot roll back: 3 rejects/);
    assert.equal(Number((await knex('rejected_interaction').count<{ n: number }[]>({ n: '*' }))[0]?.n), 4);

    await knex('rejected_interaction').where('source_offset', '>', 1).delete();
    await knex.migrate.down();
    const rows = await knex('rejected_interaction').select('raw', 'reasons', 'source_offset');
    assert.deepEqual(rows, [
      { raw: Buffer.from('{}'), reasons: ['MISSING_AT', 'MISSING_SITE', 'MISSING_VAL'], source_offset: 1 },
    ]);
    assert.equal(await sqlState(knex, newReject(7, '{OVERSIZE}', 'null')), '42703'); // no raw_length column
    assert.equal(
      await sqlState(
        knex,
        `insert into rejected_interaction (raw, reasons, run_id, source_topic, source_partition, source_offset)
         values ('x', '{OVERSIZE}', 'run-1', 'lmnh', 0, 8)`,
      ),
      '23514',
    );
    await migrateUpTo(knex, MIGRATION);
  });

  it('leaves, at the latest migration, exactly the codes and descriptions of domain/reasons.ts', async () => {
    await migrateLatest(knex);
    const rows = await knex('reject_reason').orderBy('code').select('code', 'description');
    const expected = Object.entries(REASON_DESCRIPTIONS)
      .map(([code, description]) => ({ code, description }))
      .sort((a, b) => (a.code < b.code ? -1 : 1));
    assert.deepEqual(rows, expected);
  });
});
