// Rejects tooling against the real stack: presses for an exhibition nobody has catalogued yet are rejected
// UNKNOWN_SITE by the stream workflow; its metadata then lands and a batch run loads it; `rejects replay`
// moves exactly the presses now valid into the interaction tables, once however often it runs. Also list,
// show and export as an operator runs them.
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKnex } from '../../../infra/db';
import {
  messagesSignal,
  stateQuery,
  STREAM_WORKFLOW_TYPE,
  streamWorkflowId,
  type StreamMessage,
  type StreamWorkflowInput,
} from '../../../contracts/stream';
import { createBucketWith, deleteBucket, runBatch } from '../../support/batch';
import { startEntryPoint } from '../../support/child-process';
import { seedRealExhibitions } from '../../support/exhibitions';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';
import { waitUntil } from '../../support/stream';
import { startTestWorker, type TestWorker } from '../../support/test-worker';

const TOPIC_AT = '2026-07-01T12:00:00.000000+01:00';
const press = (site: string, val: number, type?: number, at = TOPIC_AT) =>
  Buffer.from(JSON.stringify(type === undefined ? { at, site, val } : { at, site, val, type }));

// What the kiosks sent, by offset, and what each should become once site 6 is catalogued.
const VALUES: { value: Buffer; after: 'rating' | 'request' | string[] }[] = [
  { value: press('6', 4), after: 'rating' },
  { value: press('6', -1, 1), after: 'request' },
  { value: press('1', 3), after: 'rating' }, // valid from the start
  { value: press('6', 9), after: ['BAD_VAL', 'UNKNOWN_SITE'] }, // still bad for another reason
  { value: press('9', 2), after: ['UNKNOWN_SITE'] }, // a site still unknown
  {
    value: press('6', 2, undefined, '2026-07-01T20:00:00.000000+01:00'),
    after: ['OUTSIDE_HOURS', 'UNKNOWN_SITE'],
  },
  {
    value: Buffer.concat([Buffer.from('{"site":"6\u001b[2J",'), Buffer.from([0xff, 0x0a])]),
    after: ['MALFORMED'],
  },
  { value: press('6', 0), after: 'rating' },
];

const SITE_6 = {
  EXHIBITION_NAME: 'Deep Time',
  EXHIBITION_ID: 'EXH_06',
  FLOOR: '2',
  DEPARTMENT: 'Geology',
  START_DATE: '01/11/26',
  DESCRIPTION: 'A gallery opened after its kiosk went live',
};

interface Outcome {
  code: number | string;
  out: string;
}

describe('rejects: list, show, export and replay', function () {
  this.timeout(240_000);
  const cfg = isolatedConfig('rejects');
  let knex: Knex;
  let tw: TestWorker;
  let client: Client;
  let dir: string;

  const cli = async (args: string[]): Promise<Outcome> => {
    const p = startEntryPoint('client.ts', cfg, args);
    const code = await p.exited;
    return { code, out: p.output() };
  };
  const lastJson = (o: Outcome) => {
    const lines = o.out.trim().split('\n');
    return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  };
  const rejectsByOffset = async () =>
    (
      await knex('rejected_interaction')
        .select<{ o: number; reasons: string[] }[]>({ o: 'source_offset', reasons: 'reasons' })
        .orderBy('source_offset')
    ).map((r) => [Number(r.o), r.reasons] as const);
  const interactions = async () =>
    (
      await knex.raw<{ rows: { kind: string; o: number; run_id: string }[] }>(
        `select 'rating' as kind, source_offset as o, run_id from rating_interaction
         union all select 'request', source_offset, run_id from request_interaction order by 2`,
      )
    ).rows.map((r) => ({ kind: r.kind, offset: Number(r.o), runId: r.run_id }));

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    await seedRealExhibitions(knex); // sites 0..5
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rejects-'));
    fs.writeFileSync(path.join(dir, 'lmnh_exhibition_deeptime.json'), JSON.stringify(SITE_6, null, 4));
    tw = await startTestWorker(cfg);
    client = tw.env.client;

    const messages: StreamMessage[] = VALUES.map((v, offset) => ({
      offset,
      value: v.value.toString('base64'),
      timestamp: Date.now(),
    }));
    const input: StreamWorkflowInput = { topic: cfg.kafka.topic, partition: 0 };
    await client.workflow.signalWithStart(STREAM_WORKFLOW_TYPE, {
      workflowId: streamWorkflowId(cfg.kafka.topic, 0),
      taskQueue: cfg.temporal.taskQueue,
      args: [input],
      signal: messagesSignal,
      signalArgs: [{ messages }],
    });
    const handle = client.workflow.getHandle(streamWorkflowId(cfg.kafka.topic, 0));
    await waitUntil(
      'the stream to store every press',
      async () => {
        const s = await handle.query(stateQuery);
        return s.loaded + s.rejected === VALUES.length;
      },
      60_000,
    );
  });
  after(async () => {
    await client?.workflow
      .getHandle(streamWorkflowId(cfg.kafka.topic, 0))
      .terminate('test finished')
      .catch(() => undefined);
    await tw?.stop();
    await knex?.destroy();
    await deleteBucket(cfg).catch(() => undefined);
    await dropDatabase(cfg.databaseUrl);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the stream rejects with their reasons, filtered by reason, as JSON lines', async () => {
    const o = await cli(['rejects', 'list', '--reason', 'UNKNOWN_SITE', '--source', 'stream', '--json']);
    assert.equal(o.code, 0, o.out);
    const listed = o.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { offset: number; reasons: string[] });
    assert.deepEqual(
      listed.map((r) => [r.offset, r.reasons]),
      [
        [0, ['UNKNOWN_SITE']],
        [1, ['UNKNOWN_SITE']],
        [3, ['UNKNOWN_SITE', 'BAD_VAL']],
        [4, ['UNKNOWN_SITE']],
        [5, ['OUTSIDE_HOURS', 'UNKNOWN_SITE']],
        [7, ['UNKNOWN_SITE']],
      ],
    );
    const batchOnly = await cli(['rejects', 'list', '--source', 'batch', '--json']);
    assert.equal(batchOnly.code, 0, batchOnly.out);
    assert.equal(batchOnly.out.trim(), '');
  });

  it('refuses an unknown reason code and a reversed date range with a one-line error', async () => {
    const bad = await cli(['rejects', 'list', '--reason', 'NOPE']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.out, /not a reason code/);
    const reversed = await cli(['rejects', 'list', '--from', '2026-02-02', '--to', '2026-02-01']);
    assert.notEqual(reversed.code, 0);
    assert.match(reversed.out, /is after/);
  });

  it('shows one reject with its raw bytes escaped and in hex, its reasons and its run', async () => {
    const row = await knex('rejected_interaction')
      .where({ source_offset: 6 })
      .first<{ rejected_interaction_id: number; run_id: string }>();
    const o = await cli(['rejects', 'show', String(row.rejected_interaction_id)]);
    assert.equal(o.code, 0, o.out);
    assert.ok(!o.out.includes('\u001b'), 'no raw escape character reaches the terminal');
    assert.ok(o.out.includes('{"site":"6\\x1b[2J",\\xff\\n'), o.out);
    assert.match(o.out, /7b 22 73 69 74 65 22 3a {2}22 36 1b 5b 32 4a 22 2c/);
    assert.match(o.out, /MALFORMED: /);
    assert.ok(o.out.includes(`run         ${row.run_id} (stream stream-`), o.out);
    const listed = await cli(['rejects', 'list', '--reason', 'MALFORMED']);
    assert.equal(listed.code, 0, listed.out);
    assert.ok(!listed.out.includes('\u001b'), 'the list escapes too');
    assert.match(
      listed.out,
      /^\s+\d+ {2}\S+ {2}MALFORMED\s+stream \S+\[0\] offset 6 {2}\{"site":"6\\x1b\[2J",\\xff\\n$/m,
    );
    const missing = await cli(['rejects', 'show', '999999']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.out, /no reject with id 999999/);
  });

  it('exports every reject as CSV and as JSONL, raw bytes in base64 equal to the stored bytes', async () => {
    const stored = await knex('rejected_interaction')
      .select<{ rejected_interaction_id: number; raw: Buffer }[]>('rejected_interaction_id', 'raw')
      .orderBy('rejected_interaction_id');
    const jsonl = path.join(dir, 'rejects.jsonl');
    const j = await cli(['rejects', 'export', '--out', jsonl]);
    assert.equal(j.code, 0, j.out);
    const rows = fs
      .readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; rawBase64: string });
    assert.deepEqual(
      rows.map((r) => [r.id, Buffer.from(r.rawBase64, 'base64')]),
      stored.map((s) => [s.rejected_interaction_id, s.raw]),
    );
    const csv = path.join(dir, 'out.data');
    const c = await cli(['rejects', 'export', '--out', csv, '--format', 'csv', '--reason', 'MALFORMED']);
    assert.equal(c.code, 0, c.out);
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    assert.equal(
      lines[0],
      'id,source,sourceObject,sourceLine,topic,partition,offset,reasons,runId,rejectedAt,rawLength,rawTruncated,rawBase64',
    );
    assert.equal(lines.length, 2);
    assert.ok(lines[1]!.endsWith(`,${VALUES[6]!.value.toString('base64')}`), lines[1]);
    const unknown = await cli(['rejects', 'export', '--out', path.join(dir, 'x.txt')]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.out, /cannot tell the format/);
  });

  it('after site 6 lands and a batch loads it, replay admits the presses now valid exactly once', async () => {
    // A reject stored in January for a press stamped the next day: FUTURE_AT then, and it must stay so,
    // because replay judges time against when the reject was stored, not today.
    await knex('pipeline_run').insert({
      run_id: 'old-stream-run',
      kind: 'stream',
      workflow_id: 'stream-old',
      source: 'old',
    });
    await knex('rejected_interaction').insert({
      raw: press('6', 3, undefined, '2026-01-02T12:00:00.000000+00:00'),
      reasons: ['FUTURE_AT', 'UNKNOWN_SITE'],
      run_id: 'old-stream-run',
      rejected_at: new Date('2026-01-01T12:00:00Z'),
      source_topic: cfg.kafka.topic,
      source_partition: 1,
      source_offset: 0,
    });
    // A value kept only in part (OVERSIZE) is never moved, whatever its first bytes say.
    await knex('rejected_interaction').insert({
      raw: press('6', 1),
      raw_length: 5_000_000,
      reasons: ['OVERSIZE', 'UNKNOWN_SITE'],
      run_id: 'old-stream-run',
      source_topic: cfg.kafka.topic,
      source_partition: 1,
      source_offset: 1,
    });

    // Dates select by the London day a reject was stored.
    const january = await cli(['rejects', 'list', '--to', '2026-01-01', '--json']);
    assert.equal(january.code, 0, january.out);
    assert.deepEqual(
      january.out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { reasons: string[] }).reasons),
      [['FUTURE_AT', 'UNKNOWN_SITE']],
    );
    const later = await cli(['rejects', 'list', '--from', '2026-01-02', '--reason', 'FUTURE_AT']);
    assert.equal(later.code, 0, later.out);
    assert.match(later.out, /no rejects match/);

    await createBucketWith(cfg, dir, ['lmnh_exhibition_deeptime.json']);
    const batch = await runBatch(client, cfg, { source: `s3://${cfg.s3.bucket}/` });
    assert.equal(batch.failedMetadata.length, 0);
    assert.ok(await knex('exhibition').where({ site: 6 }).first(), 'site 6 is catalogued');
    const before = await interactions();
    assert.deepEqual(
      before.map((i) => i.offset),
      [2],
    );

    const first = await cli(['rejects', 'replay', '--reason', 'UNKNOWN_SITE', '--page-size', '2', '--json']);
    assert.equal(first.code, 0, first.out);
    const r1 = lastJson(first);
    assert.equal(r1.admitted, 3);
    assert.equal(r1.examined, 8); // six from the stream, two stored by hand
    assert.ok((r1.pages as number) >= 4, 'paged through the rejects');

    const after = await interactions();
    assert.deepEqual(
      after.map((i) => [i.kind, i.offset]),
      [
        ['rating', 0],
        ['request', 1],
        ['rating', 2],
        ['rating', 7],
      ],
    );
    assert.ok(
      after.filter((i) => i.offset !== 2).every((i) => i.runId === r1.runId),
      'moved rows name the replay run',
    );
    const expectedLeft = VALUES.flatMap((v, offset) => (Array.isArray(v.after) ? [offset] : []));
    assert.deepEqual(
      (await rejectsByOffset()).map(([o]) => o),
      [0, 1, ...expectedLeft].sort((a, b) => a - b),
    );
    const ledger = await knex('pipeline_run').where({ run_id: r1.runId }).first<Record<string, unknown>>();
    assert.deepEqual(
      {
        kind: ledger.kind,
        status: ledger.status,
        read: ledger.read_count,
        loaded: ledger.loaded_count,
        rejected: ledger.rejected_count,
      },
      { kind: 'replay', status: 'completed', read: 3, loaded: 3, rejected: 0 },
    );
    // The moved rows keep their exact values and instants.
    const moved = await knex('rating_interaction')
      .where({ source_offset: 0, source_partition: 0 })
      .first<{ rating_value: number; event_at: Date }>();
    assert.deepEqual([moved.rating_value, moved.event_at.toISOString()], [4, '2026-07-01T11:00:00.000Z']);

    const second = await cli(['rejects', 'replay', '--reason', 'UNKNOWN_SITE', '--json']);
    assert.equal(second.code, 0, second.out);
    const r2 = lastJson(second);
    assert.equal(r2.admitted, 0);
    assert.deepEqual(await interactions(), after);
    const ledger2 = await knex('pipeline_run').where({ run_id: r2.runId }).first<Record<string, unknown>>();
    assert.deepEqual([ledger2.kind, ledger2.status, ledger2.loaded_count], ['replay', 'completed', 0]);
  });
});
