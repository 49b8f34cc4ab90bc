// Harness for the stream suites: an isolated database (with the real exhibitions), topic and task queue, a way
// to read back what Kafka holds, and the checks that compare the tables with an independent verdict per record.
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Knex } from 'knex';
import { temporal } from '@temporalio/proto';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBridge, type Logger, type RunningBridge } from '../../bridge/bridge';
import { connectPublisher, type Publisher } from '../../kafka/publisher';
import { loadBridgeSettings, type BridgeSettings } from '../../bridge/settings';
import { validateStreamValue, type ReasonCode } from '../../domain/validation';
import type { Config } from '../../infra/config';
import { createKnex } from '../../infra/db';
import { createKafka } from '../../infra/kafka';
import { createTemporalClient } from '../../infra/temporal';
import { stateQuery, streamWorkflowId, type StreamState } from '../../contracts/stream';
import { seedRealExhibitions } from './exhibitions';
import { createTopic, withKafkaAdmin } from './kafka-topics';
import { createDatabase, dropDatabase, isolatedConfig, SHARED_DATA, uniqueSuffix } from './isolated-env';
import { startTestWorker, workflowBundle, type TestWorker } from './test-worker';

export const SAMPLE_FILE = path.join(SHARED_DATA, 'lmnh_kafka_sample_messages.json');

export interface StreamEnv {
  cfg: Config;
  knex: Knex;
  client: Client;
  partitions: number;
}

export async function setUpStream(label: string, partitions: number): Promise<StreamEnv> {
  const cfg = isolatedConfig(label);
  await createDatabase(cfg.databaseUrl);
  const knex = createKnex(cfg.databaseUrl, 4);
  await seedRealExhibitions(knex);
  await createTopic(cfg, partitions);
  const client = await createTemporalClient(cfg.temporal);
  return { cfg, knex, client, partitions };
}

export async function tearDownStream(env: StreamEnv | undefined): Promise<void> {
  if (env === undefined) return;
  const { cfg } = env;
  for (let p = 0; p < env.partitions; p++) {
    try {
      await env.client.workflow.getHandle(streamWorkflowId(cfg.kafka.topic, p)).terminate('test finished');
    } catch (err) {
      // Never started, or already closed.
      if (!(err instanceof WorkflowNotFoundError)) console.warn(`terminate: ${(err as Error).message}`);
    }
  }
  await env.client.connection.close();
  await env.knex.destroy();
  await withKafkaAdmin(cfg, async (admin) => {
    await admin.deleteTopics({ topics: [cfg.kafka.topic] });
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((id) => id.startsWith(cfg.kafka.groupId));
    // Best effort: a group whose member has not left yet cannot be deleted, and expires on its own.
    await admin.deleteGroups(groups).catch(() => undefined);
  });
  await dropDatabase(cfg.databaseUrl);
}

/** Bridge settings for tests: production defaults with overrides, validated like the environment's. */
export function bridgeSettings(overrides: Record<string, string> = {}): BridgeSettings {
  return loadBridgeSettings({
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    STREAM_FLUSH_MAX_AGE_MS: '200',
    ...overrides,
  });
}

/** The workflow bundle as a file, for worker child processes (WORKFLOW_BUNDLE_PATH): bundling costs seconds. */
export async function workflowBundleFile(): Promise<string> {
  const file = path.join(os.tmpdir(), `kiosk-stream-bundle-${process.pid}.js`);
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, (await workflowBundle()).code);
    process.once('exit', () => fs.rmSync(file, { force: true }));
  }
  return file;
}

export interface TopicRecord {
  partition: number;
  offset: number;
  value: Buffer | null;
}

export const recordKey = (partition: number, offset: number): string => `${partition}:${offset}`;

/** Reads the whole topic back with a consumer group of its own: the ground truth of what was published. */
export async function readTopic(cfg: Config, expected: number, timeoutMs = 60_000): Promise<TopicRecord[]> {
  const consumer = createKafka(cfg.kafka, '-test-verify').consumer({
    // A group of its own per read, so every read starts at the beginning.
    groupId: `${cfg.kafka.groupId}-verify-${uniqueSuffix()}`,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await consumer.connect();
  const records: TopicRecord[] = [];
  try {
    await consumer.subscribe({ topics: [cfg.kafka.topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${records.length} of ${expected} records back from Kafka`)),
        timeoutMs,
      );
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              records.push({ partition: batch.partition, offset: Number(m.offset), value: m.value });
            }
            if (records.length >= expected) {
              clearTimeout(timer);
              resolve();
            }
            await Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

export interface Expected {
  valid: Map<string, { site: number; kind: string; value: number; eventAt: number }>;
  invalid: Map<string, { raw: Buffer; reasons: ReasonCode[] }>;
  reasons: Partial<Record<ReasonCode, number>>;
}

/** The verdicts the shared rules give each record, computed here independently of the pipeline. */
export function expectedOutcome(records: readonly TopicRecord[], now = new Date()): Expected {
  const knownSites = new Set([0, 1, 2, 3, 4, 5]);
  const expected: Expected = { valid: new Map(), invalid: new Map(), reasons: {} };
  for (const r of records) {
    const raw = r.value ?? Buffer.alloc(0);
    const verdict = validateStreamValue(raw, { knownSites, now });
    const key = recordKey(r.partition, r.offset);
    if (verdict.valid) {
      const { site, kind, value, eventAt } = verdict.interaction;
      expected.valid.set(key, { site, kind, value, eventAt: eventAt.getTime() });
    } else {
      expected.invalid.set(key, { raw, reasons: verdict.reasons });
      for (const reason of verdict.reasons) expected.reasons[reason] = (expected.reasons[reason] ?? 0) + 1;
    }
  }
  return expected;
}

/** Rows of this topic across the three tables. */
export async function countStored(knex: Knex, topic: string): Promise<number> {
  const r = await knex.raw<{ rows: { n: number }[] }>(
    `select (select count(*) from rating_interaction where source_topic = :topic)
          + (select count(*) from request_interaction where source_topic = :topic)
          + (select count(*) from rejected_interaction where source_topic = :topic) as n`,
    { topic },
  );
  return Number(r.rows[0]?.n ?? 0);
}

function firstDifferences(
  what: string,
  actual: Map<string, unknown>,
  expected: Map<string, unknown>,
): string[] {
  const problems: string[] = [];
  for (const [key, want] of expected) {
    if (!actual.has(key)) problems.push(`${what} ${key} missing`);
    else if (JSON.stringify(actual.get(key)) !== JSON.stringify(want)) {
      problems.push(`${what} ${key}: got ${JSON.stringify(actual.get(key))}, want ${JSON.stringify(want)}`);
    }
  }
  for (const key of actual.keys()) if (!expected.has(key)) problems.push(`${what} ${key} unexpected`);
  return problems;
}

/**
 * Every valid record is in an interaction table exactly once with its site, value and instant; every invalid
 * one is in the rejects table with its exact bytes and reasons; nothing else is stored for the topic.
 */
export async function assertStoredExactly(knex: Knex, topic: string, expected: Expected): Promise<void> {
  const interactions = await knex.raw<{
    rows: { p: number; o: number; kind: string; site: number; value: number; event_at: Date }[];
  }>(
    `select i.source_partition as p, i.source_offset as o, 'rating' as kind, e.site, i.rating_value as value,
            i.event_at
       from rating_interaction i join exhibition e using (exhibition_id) where i.source_topic = :topic
     union all
     select i.source_partition, i.source_offset, 'request', e.site, i.request_value, i.event_at
       from request_interaction i join exhibition e using (exhibition_id) where i.source_topic = :topic`,
    { topic },
  );
  const rejects = await knex.raw<{ rows: { p: number; o: number; raw: Buffer; reasons: string[] }[] }>(
    `select source_partition as p, source_offset as o, raw, reasons from rejected_interaction
      where source_topic = :topic`,
    { topic },
  );
  const valid = new Map<string, unknown>();
  for (const r of interactions.rows) {
    const key = recordKey(r.p, Number(r.o));
    assert.ok(!valid.has(key), `offset ${key} stored twice in the interaction tables`);
    valid.set(key, { site: r.site, kind: r.kind, value: r.value, eventAt: r.event_at.getTime() });
  }
  const invalid = new Map<string, unknown>();
  for (const r of rejects.rows) {
    const key = recordKey(r.p, Number(r.o));
    assert.ok(!valid.has(key), `offset ${key} is both loaded and rejected`);
    invalid.set(key, { raw: r.raw.toString('hex'), reasons: r.reasons });
  }
  const wantInvalid = new Map(
    [...expected.invalid].map(([k, v]) => [k, { raw: v.raw.toString('hex'), reasons: v.reasons }]),
  );
  const problems = [
    ...firstDifferences('valid', valid, expected.valid),
    ...firstDifferences('invalid', invalid, wantInvalid),
  ];
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} differences`);
  assert.equal(valid.size, expected.valid.size);
  assert.equal(invalid.size, expected.invalid.size);
}

/** The ledger rows of this topic's stream runs: the counts balance and match the tables, nothing counted twice. */
export async function assertLedger(knex: Knex, topic: string, expected: Expected): Promise<number> {
  const runs = await knex('pipeline_run')
    .where('kind', 'stream')
    .andWhere('source', 'like', `kafka://${topic}/%`)
    .select<
      {
        read_count: number;
        loaded_count: number;
        rejected_count: number;
        rejected_by_reason: Record<string, number>;
      }[]
    >('read_count', 'loaded_count', 'rejected_count', 'rejected_by_reason');
  const sum = (f: (r: (typeof runs)[number]) => number) => runs.reduce((s, r) => s + f(r), 0);
  assert.equal(
    sum((r) => r.loaded_count),
    expected.valid.size,
    'ledger loaded',
  );
  assert.equal(
    sum((r) => r.rejected_count),
    expected.invalid.size,
    'ledger rejected',
  );
  assert.equal(
    sum((r) => r.read_count),
    expected.valid.size + expected.invalid.size,
    'ledger read',
  );
  const reasons: Record<string, number> = {};
  for (const run of runs) {
    for (const [code, n] of Object.entries(run.rejected_by_reason)) reasons[code] = (reasons[code] ?? 0) + n;
  }
  assert.deepEqual(reasons, expected.reasons);
  return runs.length;
}

export async function queryState(env: StreamEnv, partition: number): Promise<StreamState> {
  return env.client.workflow.getHandle(streamWorkflowId(env.cfg.kafka.topic, partition)).query(stateQuery);
}

/** Per partition: the workflow took each record once and accounted for it as loaded or rejected. */
export async function assertWorkflowsBalanced(
  env: StreamEnv,
  records: readonly TopicRecord[],
): Promise<StreamState[]> {
  const states: StreamState[] = [];
  for (let p = 0; p < env.partitions; p++) {
    const published = records.filter((r) => r.partition === p);
    if (published.length === 0) continue;
    const state = await queryState(env, p);
    assert.equal(state.buffered + state.loading, 0, `partition ${p} still holds messages`);
    assert.equal(state.received, published.length, `partition ${p} received`);
    assert.equal(state.loaded + state.rejected, state.received, `partition ${p} loaded + rejected`);
    assert.equal(state.lastOffset, Math.max(...published.map((r) => r.offset)), `partition ${p} last offset`);
    states.push(state);
  }
  return states;
}

export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A suite's whole stream: its environment, an in-process worker, a publisher and a bridge. */
export interface RunningStream {
  env: StreamEnv;
  worker: TestWorker;
  publisher: Publisher;
  bridge: RunningBridge;
}

export async function startStream(
  label: string,
  partitions: number,
  overrides: Record<string, string> = {},
  log: Logger = () => undefined,
): Promise<RunningStream> {
  const env = await setUpStream(label, partitions);
  const worker = await startTestWorker(env.cfg);
  const publisher = await connectPublisher(env.cfg.kafka, env.cfg.kafka.topic);
  const bridge = await startBridge(env.cfg, bridgeSettings(overrides), log);
  return { env, worker, publisher, bridge };
}

/** Stops what startStream started, in reverse, and removes the suite's topic, workflows and database. */
export async function stopStream(stream: Partial<RunningStream> | undefined): Promise<void> {
  await stream?.publisher?.close();
  await stream?.bridge?.stop();
  await stream?.worker?.stop();
  await tearDownStream(stream?.env);
}

/** A valid rating at site 1, on 2026-06-02 from 10:00:00 +01:00 plus `i` seconds (i below 3,600). */
export function press(i: number, val = 3): Buffer {
  const mm = String(Math.floor(i / 60)).padStart(2, '0');
  const ss = String(i % 60).padStart(2, '0');
  return Buffer.from(`{"at": "2026-06-02T10:${mm}:${ss}+01:00", "site": "1", "val": ${val}}`);
}

/** Where each stored offset of a topic and partition went, with a reject's reasons and bytes. */
export interface StoredOffset {
  offset: number;
  table: 'rating' | 'request' | 'reject';
  value: number | null;
  reasons: string[] | null;
  raw: Buffer | null;
  rawLength: number | null;
}

export async function storedByOffset(
  knex: Knex,
  topic: string,
  partition = 0,
): Promise<Map<number, StoredOffset>> {
  const r = await knex.raw<{ rows: StoredOffset[] }>(
    `select source_offset::int as "offset", 'rating' as "table", rating_value as value, null::text[] as reasons,
            null::bytea as raw, null::bigint as "rawLength"
       from rating_interaction where source_topic = :topic and source_partition = :partition
     union all
     select source_offset::int, 'request', request_value, null, null, null
       from request_interaction where source_topic = :topic and source_partition = :partition
     union all
     select source_offset::int, 'reject', null, reasons, raw, raw_length
       from rejected_interaction where source_topic = :topic and source_partition = :partition`,
    { topic, partition },
  );
  const byOffset = new Map<number, StoredOffset>();
  for (const row of r.rows) {
    assert.ok(!byOffset.has(row.offset), `offset ${row.offset} stored twice`);
    byOffset.set(row.offset, { ...row, rawLength: row.rawLength === null ? null : Number(row.rawLength) });
  }
  return byOffset;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Bridge settings for suites that kill processes: short timeouts so that a killed process's share is taken over
 * within seconds, and small batches so that kills land between signal and commit and in the middle of loads.
 */
export const CRASH_BRIDGE_ENV: Record<string, string> = {
  KAFKA_SESSION_TIMEOUT_MS: '6000',
  KAFKA_HEARTBEAT_INTERVAL_MS: '500',
  STREAM_SIGNAL_MAX_MESSAGES: '100',
  STREAM_FLUSH_MAX_MESSAGES: '250',
  STREAM_FLUSH_MAX_AGE_MS: '200',
  STREAM_LOAD_TIMEOUT_MS: '5000',
  STREAM_MAX_PENDING: '2000',
};

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A marker's details under `key` (JSON payloads), as text. */
export function markerDetail(event: HistoryEvent, key: string): string {
  return (event.markerRecordedEventAttributes?.details?.[key]?.payloads ?? [])
    .map((p) => Buffer.from(p.data ?? []).toString('utf8'))
    .join('');
}

/**
 * The stream loads of a history in order: an activity task by its type, a local activity (its marker, which
 * names its type in its data) as `local:` and its type.
 */
export function loadsInHistory(events: readonly HistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const task = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (task !== undefined && task !== null) return task.startsWith('loadStream') ? [task] : [];
    if (e.markerRecordedEventAttributes?.markerName !== 'core_local_activity') return [];
    const type = /"activity_type":"(loadStream\w+)"/.exec(markerDetail(e, 'data'))?.[1];
    return type === undefined ? [] : [`local:${type}`];
  });
}
