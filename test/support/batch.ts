// Helpers for batch suites: a bucket filled from a folder, a batch run through the real workflow, the
// DUPLICATE registry checked, and hand-made staging tables for the load step on its own.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  DeleteBucketCommand,
} from '@aws-sdk/client-s3';
import type { Client, WorkflowClient } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../infra/config';
import { createS3Client } from '../../infra/s3';
import type pg from 'pg';
import { batchWorkflow, type BatchInput, type BatchSummary } from '../../batch/workflow';
import { registryOf, type StagedCounts } from '../../batch/load';
import {
  JUDGED_COLUMNS,
  JUDGED_DDL,
  PRESSES_SQL,
  RAW_DDL,
  stagedTables,
  stagingTableName,
} from '../../batch/staging';
import type { BatchObject } from '../../contracts/batch';
import { uniqueSuffix } from './isolated-env';

export async function createBucketWith(
  cfg: Config,
  dir: string,
  files?: string[],
  prefix = '',
): Promise<string[]> {
  const s3 = createS3Client(cfg.s3);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: cfg.s3.bucket })).catch((err: { name?: string }) => {
      if (err.name !== 'BucketAlreadyOwnedByYou') throw err;
    });
    const names = files ?? fs.readdirSync(dir).filter((f) => /\.(csv|json)$/.test(f) && !f.includes('kafka'));
    for (const name of names) {
      await s3.send(
        new PutObjectCommand({
          Bucket: cfg.s3.bucket,
          Key: prefix + name,
          Body: fs.readFileSync(path.join(dir, name)),
        }),
      );
    }
    return names;
  } finally {
    s3.destroy();
  }
}

export async function deleteBucket(cfg: Config): Promise<void> {
  const s3 = createS3Client(cfg.s3);
  try {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: cfg.s3.bucket, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? [])
        await s3.send(new DeleteObjectCommand({ Bucket: cfg.s3.bucket, Key: o.Key }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    await s3.send(new DeleteBucketCommand({ Bucket: cfg.s3.bucket }));
  } finally {
    s3.destroy();
  }
}

export function runBatch(client: Client, cfg: Config, input: BatchInput): Promise<BatchSummary> {
  return client.workflow.execute(batchWorkflow, {
    taskQueue: cfg.temporal.taskQueue,
    workflowId: `batch-test-${uniqueSuffix()}`,
    args: [input],
  });
}

/** Everything a run leaves that must not depend on how it got there (ids, run ids and times excluded). */
export async function finalBatchState(knex: Knex) {
  const rows = (sql: string) => knex.raw<{ rows: unknown[] }>(sql).then((r) => r.rows);
  return {
    ratings: await rows(
      `select source_object, source_line, exhibition_id, rating_value, event_at from rating_interaction
       order by source_object, source_line`,
    ),
    requests: await rows(
      `select source_object, source_line, exhibition_id, request_value, event_at from request_interaction
       order by source_object, source_line`,
    ),
    rejects: await rows(
      `select source_object, source_line, reasons, encode(raw, 'hex') as raw from rejected_interaction
       order by source_object, source_line`,
    ),
    objects: await rows(
      `select source_object, etag, read_count, loaded_count, rejected_count from source_object order by 1`,
    ),
    staging: await rows(`select tablename from pg_tables where schemaname = 'batch_staging'`),
  };
}

/**
 * Where the registry is, as the load itself finds it (registryOf, over one of knex's pooled pg clients):
 * batch_press, batch_line, or (after 20261207000600) the rows and batch_line_archive.
 */
export async function registryTables(
  knex: Knex,
): Promise<{ press: boolean; lines: 'batch_line' | 'batch_line_archive'; rowRaw: boolean }> {
  const pool = knex.client as Knex.Client;
  const client = (await pool.acquireConnection()) as pg.ClientBase;
  const { mode, rowRaw } = await registryOf(client).finally(async () => {
    await pool.releaseConnection(client);
  });
  return {
    press: mode === 'batch_press',
    lines: mode === 'row' ? 'batch_line_archive' : 'batch_line',
    rowRaw,
  };
}

/**
 * Every registered batch line with its key and raw bytes, as SQL: batch_press; or after the contract step
 * 20261207000400 the accepted rows' keys and batch_duplicate's, with batch_line's raw bytes; or after
 * 20261207000600 with the rows' own raw bytes (else batch_line_archive's) and the DUPLICATE rejects'.
 */
export async function registeredPresses(knex: Knex): Promise<string> {
  const { press, lines } = await registryTables(knex);
  if (press) return 'select * from batch_press';
  const archived = lines === 'batch_line_archive';
  const own = (t: string) => (archived ? `${t}.raw` : 'null::bytea');
  return `select k.kind, k.exhibition_id, k.event_at, k.value, k.source_object, k.source_line,
      ${archived ? 'coalesce(k.raw, l.raw)' : 'l.raw'} as raw from (
      select 0::smallint as kind, exhibition_id, event_at, rating_value as value, source_object, source_line,
        ${own('t')} as raw from rating_interaction t where source_object is not null
      union all select 1::smallint, exhibition_id, event_at, request_value, source_object, source_line,
        ${own('t')} from request_interaction t where source_object is not null
      union all select d.kind, d.exhibition_id, d.event_at, d.value, d.source_object, d.source_line, ${own('r')}
      from batch_duplicate d ${archived ? 'left join rejected_interaction r using (source_object, source_line)' : ''}
    ) k left join ${lines} l using (source_object, source_line)`;
}

/**
 * The raw bytes of every registered line are known, and wherever two places keep a line's raw bytes (its
 * row, its reject, batch_line or batch_line_archive) they are the same.
 */
export async function assertRawKept(knex: Knex): Promise<void> {
  const { press, lines, rowRaw } = await registryTables(knex);
  const unknown = await knex.raw<{ rows: { n: string }[] }>(
    `select count(*) as n from (${await registeredPresses(knex)}) p where raw is null`,
  );
  assert.equal(Number(unknown.rows[0]!.n), 0, 'registered lines without raw bytes');
  if (press) return;
  const same = (t: string) => `select count(*) from ${t} x join ${lines} l using (source_object, source_line)
    where x.raw is not null and l.raw is distinct from x.raw`;
  const differ = await knex.raw<{ rows: { n: string }[] }>(
    `select (${[
      same(`(select * from rejected_interaction where reasons = '{DUPLICATE}')`),
      ...(rowRaw ? [same('rating_interaction'), same('request_interaction')] : []),
    ]
      .map((q) => `(${q})`)
      .join(' + ')}) as n`,
  );
  assert.equal(Number(differ.rows[0]!.n), 0, `lines whose raw bytes differ from ${lines}'s`);
}

/**
 * SPEC 3 over every batch line stored: each natural key's lowest registered (object key, line) is its accepted
 * row, every other registered line a DUPLICATE reject, and every batch line is registered or another reject.
 */
export async function assertDuplicateExact(knex: Knex): Promise<void> {
  const line = (t: string) => `exists (select 1 from ${t} x where x.source_object = p.source_object
    and x.source_line = p.source_line)`;
  const dup = `rejected_interaction x where x.source_object = p.source_object and x.source_line = p.source_line
    and x.reasons = '{DUPLICATE}'`;
  const r = await knex.raw<{ rows: Record<string, string>[] }>(`
    with p as (${await registeredPresses(knex)}),
    lowest as (select distinct on (kind, exhibition_id, event_at, value) * from p
               order by kind, exhibition_id, event_at, value, source_object collate "C", source_line)
    select (select count(*) from lowest) as keys,
      (select count(*) from lowest p where ${line('rating_interaction')} or ${line('request_interaction')}) as lowest_accepted,
      (select count(*) from rating_interaction where source_object is not null)
        + (select count(*) from request_interaction where source_object is not null) as accepted,
      (select count(*) from p) as registered,
      (select count(*) from p where not exists (select 1 from lowest l where l.source_object = p.source_object
         and l.source_line = p.source_line) and exists (select 1 from ${dup})) as duplicates,
      (select count(*) from rejected_interaction where source_object is not null and reasons = '{DUPLICATE}')
        as duplicate_rejects`);
  const row = r.rows[0]!;
  const c = {
    keys: Number(row.keys),
    lowestAccepted: Number(row.lowest_accepted),
    accepted: Number(row.accepted),
    registered: Number(row.registered),
    duplicates: Number(row.duplicates),
    duplicateRejects: Number(row.duplicate_rejects),
  };
  assert.equal(c.lowestAccepted, c.keys, 'each key is accepted at its lowest line');
  assert.equal(c.accepted, c.keys, 'one accepted row per key');
  assert.equal(c.duplicates, c.registered - c.keys, 'every other registered line is a DUPLICATE reject');
  assert.equal(c.duplicateRejects, c.duplicates, 'no DUPLICATE reject outside the registry');
  assert.ok(c.keys > 0 && c.duplicates > 0, `vacuous: ${JSON.stringify(c)}`);
}

/**
 * The final batch state with exhibitions named by site (two databases number them in other orders), and
 * the registry of every valid batch line that DUPLICATE is judged from.
 */
export async function stateBySite(knex: Knex) {
  const sites = new Map(
    (await knex('exhibition').select<{ exhibition_id: number; site: number }[]>('exhibition_id', 'site')).map(
      (e) => [e.exhibition_id, e.site],
    ),
  );
  const state = await finalBatchState(knex);
  const bySite = (rows: unknown[]) =>
    (rows as { exhibition_id: number }[]).map(({ exhibition_id, ...rest }) => ({
      ...rest,
      site: sites.get(exhibition_id),
    }));
  const presses = await knex.raw<{ rows: unknown[] }>(
    `select kind, exhibition_id, event_at, value, source_object, source_line, encode(raw, 'hex') as raw
     from (${await registeredPresses(knex)}) p order by source_object, source_line`,
  );
  return {
    ...state,
    ratings: bySite(state.ratings),
    requests: bySite(state.requests),
    presses: bySite(presses.rows),
  };
}

/** The types of the workflow's activities that a worker is running now. */
export async function pendingActivityTypes(client: WorkflowClient, workflowId: string): Promise<string[]> {
  const d = await client.getHandle(workflowId).describe();
  const raw = d.raw.pendingActivities ?? [];
  return raw
    .filter((a) => a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)
    .map((a) => a.activityType?.name ?? '');
}

/** The instant of second 0 of hand-staged lines. */
export const STAGED_AT = Date.parse('2023-03-06T10:00:00Z');

/** A hand-staged data line (line 1 is the header): a valid press (kind 0 rating, 1 request) or a reject. */
export type StagedLine =
  | { line: number; site: number; kind: 0 | 1; value: number; atSecond: number }
  | { line: number; reasons: string[] };

/** The raw bytes a hand-staged line is given: its object's file name and its line number. */
export const stagedRaw = (uri: string, line: number) => `${uri.split('/').pop()} line ${line}`;

export function stagedObject(uri: string, etag = 'etag-1'): BatchObject {
  return { uri, name: uri, etag, size: 1, lastModified: '', source: 's3://b' };
}

/** Stages an object's lines the way extract, validate and transform leave them. */
export async function stageLines(
  client: pg.ClientBase,
  runId: string,
  uri: string,
  lines: StagedLine[],
): Promise<{ stem: string; staged: StagedCounts }> {
  const stem = stagingTableName(runId, uri);
  const t = stagedTables(stem);
  await client.query(RAW_DDL(t.raw));
  await client.query(JUDGED_DDL(t.judged));
  const raw = [`(1, '\\x${Buffer.from('at,site,val,type').toString('hex')}')`].concat(
    lines.map((l) => `(${l.line}, '\\x${Buffer.from(stagedRaw(uri, l.line)).toString('hex')}')`),
  );
  await client.query(`insert into ${t.raw} (line, raw) values ${raw.join(', ')}`);
  if (lines.length > 0) {
    const judged = lines.map((l) =>
      'reasons' in l
        ? `(${l.line}, null, null, null, null, array[${l.reasons.map((x) => `'${x}'`).join(',')}])`
        : `(${l.line}, ${l.site}, ${l.kind}, ${l.value}, ${STAGED_AT + l.atSecond * 1000}, null)`,
    );
    await client.query(`insert into ${t.judged} ${JUDGED_COLUMNS} values ${judged.join(', ')}`);
  }
  await client.query(PRESSES_SQL(t.presses, t.judged, t.raw));
  return { stem, staged: { lines: lines.length + 1, header: true } };
}
