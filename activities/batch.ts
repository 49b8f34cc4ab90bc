// The batch path's activities: run ledger, exhibition metadata, listing, extract (stream, judge and stage an
// object) and load (staging to the final tables in one transaction). Each is safe to retry.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { parseExhibitionMetadata, type ExhibitionMetadata } from '../domain/exhibition';
import { LineSplitter, type LineVisitor } from '../domain/csv-lines';
import { HistoryFileJudge } from '../domain/history-row';
import { withPgClient } from '../infra/db';
import { CopyWriter } from '../infra/copy-in';
import {
  STAGING_COLUMNS,
  STAGING_DDL,
  STAGING_SCHEMA,
  stagingPrefix,
  stagingRow,
  stagingTableName,
} from './batch-staging';
import type { ActivityDeps } from './deps';
import { knownSites, upsertExhibitions } from './exhibition-store';
import {
  EXHIBITION_OBJECT,
  HISTORY_OBJECT,
  openObjectStore,
  SourceMissingError,
  type StoredObject,
} from './object-store';
import type { BatchObject, ObjectLoadResult, RunLedger } from './batch-types';

const HEARTBEAT_EVERY_LINES = 20_000;

function nonRetryable(err: unknown): never {
  if (err instanceof SourceMissingError) {
    throw ApplicationFailure.create({ type: 'SourceMissing', message: err.message, nonRetryable: true });
  }
  throw err;
}

/** Landed within [from, to] (inclusive days, UTC ISO dates or timestamps). */
function landedWithin(o: StoredObject, from?: string, to?: string): boolean {
  const at = Date.parse(o.lastModified);
  if (from !== undefined && at < Date.parse(from)) return false;
  if (
    to !== undefined &&
    at >= Date.parse(to.length === 10 ? `${to}T23:59:59.999Z` : to) + (to.length === 10 ? 1 : 0)
  ) {
    return false;
  }
  return true;
}

async function summarizeObject(
  client: pg.Client,
  uri: string,
): Promise<Omit<ObjectLoadResult, 'uri' | 'skipped'>> {
  const counts = await client.query<{
    ratings: number;
    assistance: number;
    emergency: number;
    rejected: number;
  }>(
    `select (select count(*) from rating_interaction where source_object = $1)::int as ratings,
            (select count(*) from request_interaction where source_object = $1 and request_value = 0)::int as assistance,
            (select count(*) from request_interaction where source_object = $1 and request_value = 1)::int as emergency,
            (select count(*) from rejected_interaction where source_object = $1)::int as rejected`,
    [uri],
  );
  const reasons = await client.query<{ reason: string; n: number }>(
    `select reason, count(*)::int as n from rejected_interaction, unnest(reasons) as reason
     where source_object = $1 group by reason order by reason`,
    [uri],
  );
  const c = counts.rows[0]!;
  const loaded = c.ratings + c.assistance + c.emergency;
  return {
    read: loaded + c.rejected,
    loaded,
    rejected: c.rejected,
    rejectedByReason: Object.fromEntries(reasons.rows.map((r) => [r.reason, r.n])),
    ratingRows: c.ratings,
    assistanceRows: c.assistance,
    emergencyRows: c.emergency,
  };
}

/**
 * Replaces whatever the object loaded before with its staged rows, in one transaction. A row that repeats a
 * press already accepted (same exhibition, second and value) is rejected as DUPLICATE. A retry after a commit
 * whose reply was lost finds its own result and returns it unchanged.
 */
async function loadInTransaction(
  databaseUrl: string,
  runId: string,
  object: BatchObject,
  stagingTable: string,
): Promise<ObjectLoadResult> {
  return withPgClient(databaseUrl, async (client) => {
    await client.query('begin');
    try {
      await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [object.uri]);
      const previous = await client.query<{ run_id: string; etag: string }>(
        'select run_id, etag from source_object where source_object = $1',
        [object.uri],
      );
      const prev = previous.rows[0];
      if (prev && prev.run_id === runId && prev.etag === object.etag) {
        const summary = await summarizeObject(client, object.uri);
        await client.query('commit');
        await client.query(`drop table if exists ${stagingTable}`);
        return { uri: object.uri, skipped: false, ...summary };
      }
      const staged = await client.query<{ exists: string | null }>('select to_regclass($1) as exists', [
        stagingTable,
      ]);
      if (!staged.rows[0]?.exists) {
        throw new Error(`staging table ${stagingTable} is missing: the extract step must run again`);
      }
      for (const table of [
        'rating_interaction',
        'request_interaction',
        'rejected_interaction',
        'source_object',
      ]) {
        await client.query(`delete from ${table} where source_object = $1`, [object.uri]);
      }
      await client.query(
        `with rated as (
             insert into rating_interaction (exhibition_id, rating_value, event_at, run_id, source_object, source_line)
             select e.exhibition_id, s.value, s.event_at, $1, $2, s.line
             from ${stagingTable} s join exhibition e on e.site = s.site
             where s.kind = 0 order by s.line
             on conflict (exhibition_id, event_at, rating_value) where source_object is not null do nothing
             returning source_line),
           requested as (
             insert into request_interaction (exhibition_id, request_value, event_at, run_id, source_object, source_line)
             select e.exhibition_id, s.value, s.event_at, $1, $2, s.line
             from ${stagingTable} s join exhibition e on e.site = s.site
             where s.kind = 1 order by s.line
             on conflict (exhibition_id, event_at, request_value) where source_object is not null do nothing
             returning source_line),
           taken as (select source_line from rated union all select source_line from requested)
           insert into rejected_interaction (raw, reasons, run_id, source_object, source_line)
           select s.raw, s.reasons, $1, $2, s.line from ${stagingTable} s where s.kind is null
           union all
           -- An anti-join, not "line not in (...)": past work_mem that becomes a scan of taken per row.
           select s.raw, array['DUPLICATE'], $1, $2, s.line from ${stagingTable} s
           where s.kind is not null and not exists (select from taken t where t.source_line = s.line)`,
        [runId, object.uri],
      );
      const summary = await summarizeObject(client, object.uri);
      const stagedCount = await client.query<{ n: number }>(`select count(*)::int as n from ${stagingTable}`);
      if (summary.read !== stagedCount.rows[0]?.n) {
        // Nothing may be lost between staging and the final tables; refuse to commit if anything was.
        throw new Error(
          `object ${object.uri}: staged ${stagedCount.rows[0]?.n} rows but placed ${summary.read}`,
        );
      }
      await client.query(
        `insert into source_object (source_object, etag, size_bytes, run_id, read_count, loaded_count, rejected_count)
           values ($1, $2, $3, $4, $5, $6, $7)`,
        [object.uri, object.etag, object.size, runId, summary.read, summary.loaded, summary.rejected],
      );
      await client.query(
        `update pipeline_run set
             read_count = read_count + $2, loaded_count = loaded_count + $3, rejected_count = rejected_count + $4,
             rejected_by_reason = (
               select coalesce(jsonb_object_agg(k, n), '{}'::jsonb) from (
                 select k, sum(n)::bigint as n from (
                   select key as k, value::bigint as n from jsonb_each_text(rejected_by_reason)
                   union all select key, value::bigint from jsonb_each_text($5::jsonb)) parts
                 group by k) totals)
           where run_id = $1`,
        [runId, summary.read, summary.loaded, summary.rejected, JSON.stringify(summary.rejectedByReason)],
      );
      await client.query(`drop table ${stagingTable}`);
      await client.query('commit');
      return { uri: object.uri, skipped: false, ...summary };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    }
  });
}

export function createBatchActivities(deps: ActivityDeps) {
  const { knex, s3 } = deps;

  return {
    async startRun(input: { runId: string; workflowId: string; source: string }): Promise<void> {
      await knex('pipeline_run')
        .insert({ run_id: input.runId, kind: 'batch', workflow_id: input.workflowId, source: input.source })
        .onConflict('run_id')
        .ignore();
    },

    async finishRun(input: { runId: string; status: 'completed' | 'failed' }): Promise<RunLedger> {
      type LedgerRow = {
        read_count: number;
        loaded_count: number;
        rejected_count: number;
        rejected_by_reason: Record<string, number>;
      };
      const rows: LedgerRow[] = await knex('pipeline_run')
        .where({ run_id: input.runId })
        .update({ status: input.status, finished_at: knex.fn.now() })
        .returning<LedgerRow[]>(['read_count', 'loaded_count', 'rejected_count', 'rejected_by_reason']);
      const r = rows[0];
      if (!r) throw new Error(`run ${input.runId} has no ledger row`);
      return {
        read: r.read_count,
        loaded: r.loaded_count,
        rejected: r.rejected_count,
        rejectedByReason: r.rejected_by_reason,
      };
    },

    /** Extract: every exhibition JSON in the source, upserted into the catalogue. */
    async loadExhibitionMetadata(input: {
      source: string;
    }): Promise<{ loaded: string[]; failed: { uri: string; problems: string[] }[] }> {
      const store = openObjectStore(input.source, s3);
      const objects = await store.list().catch(nonRetryable);
      const good: ExhibitionMetadata[] = [];
      const loaded: string[] = [];
      const failed: { uri: string; problems: string[] }[] = [];
      for (const o of objects.filter((x) => EXHIBITION_OBJECT.test(x.name))) {
        const parsed = parseExhibitionMetadata(await store.readText(o.uri));
        if (parsed.ok) {
          good.push(parsed.exhibition);
          loaded.push(o.uri);
        } else {
          failed.push({ uri: o.uri, problems: parsed.problems });
        }
      }
      await upsertExhibitions(knex, good);
      return { loaded, failed };
    },

    /** Extract: the history objects in scope, each marked when this exact version was loaded before. */
    async listHistoryObjects(input: {
      source: string;
      keys?: string[];
      from?: string;
      to?: string;
    }): Promise<BatchObject[]> {
      const store = openObjectStore(input.source, s3);
      const all = (await store.list().catch(nonRetryable)).filter((o) => HISTORY_OBJECT.test(o.name));
      let chosen = all;
      if (input.keys && input.keys.length > 0) {
        const wanted = new Set(input.keys);
        chosen = all.filter((o) => wanted.has(o.name) || wanted.has(o.uri));
        const found = new Set(chosen.flatMap((o) => [o.name, o.uri]));
        const missing = input.keys.filter((k) => !found.has(k));
        if (missing.length > 0) {
          throw ApplicationFailure.create({
            type: 'SourceMissing',
            message: `not found in ${store.sourceUri}: ${missing.join(', ')}`,
            nonRetryable: true,
          });
        }
      }
      chosen = chosen.filter((o) => landedWithin(o, input.from, input.to));
      const loadedBefore = await knex('source_object')
        .whereIn(
          'source_object',
          chosen.map((o) => o.uri),
        )
        .select<{ source_object: string; etag: string }[]>('source_object', 'etag');
      const etags = new Map(loadedBefore.map((r) => [r.source_object, r.etag]));
      return chosen.map((o) => ({
        ...o,
        source: input.source,
        unchangedSinceLoad: etags.get(o.uri) === o.etag,
      }));
    },

    /**
     * Extract, validate and transform, streamed: reads the object line by line, judges each line with the
     * shared rules and COPYs the normalised rows and the rejects into a staging table. Returns its name.
     */
    async stageObject(input: {
      runId: string;
      object: BatchObject;
    }): Promise<{ stagingTable: string; staged: number }> {
      const { runId, object } = input;
      const table = stagingTableName(runId, object.uri);
      const store = openObjectStore(object.source, s3);
      const judge = new HistoryFileJudge({ knownSites: await knownSites(knex), now: new Date() });
      const ctx = Context.current();
      return withPgClient(deps.config.databaseUrl, async (client) => {
        await client.query(STAGING_DDL(table));
        const body = await store.open(object.uri).catch(nonRetryable);
        const copy = new CopyWriter(client, `copy ${table} ${STAGING_COLUMNS} from stdin`);
        let staged = 0;
        let beatAt = 0;
        const stageLine: LineVisitor = (line, buf, start, end) => {
          const outcome = judge.judgeLine(line, buf, start, end);
          if (outcome.header) return;
          copy.add(stagingRow(line, buf, start, end, outcome));
          staged++;
        };
        try {
          const splitter = new LineSplitter();
          for await (const chunk of body as AsyncIterable<Buffer>) {
            splitter.push(chunk, stageLine);
            // Once per chunk, not per line: the send waits for PostgreSQL, the beat is a message to Temporal.
            await copy.flush();
            if (staged - beatAt >= HEARTBEAT_EVERY_LINES) {
              ctx.heartbeat({ staged });
              beatAt = staged;
            }
          }
          splitter.end(stageLine);
          await copy.end();
        } catch (err) {
          body.destroy();
          throw err;
        }
        ctx.heartbeat({ staged });
        return { stagingTable: table, staged };
      });
    },

    /** Load: the staged rows into the final tables (see loadInTransaction). */
    async loadObject(input: {
      runId: string;
      object: BatchObject;
      stagingTable: string;
    }): Promise<ObjectLoadResult> {
      const { runId, object, stagingTable } = input;
      // One long SQL transaction: beat meanwhile so that a dead worker is noticed in seconds, not hours.
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat({ loading: object.uri }), 2000);
      try {
        return await loadInTransaction(deps.config.databaseUrl, runId, object, stagingTable);
      } finally {
        clearInterval(beat);
      }
    },

    /** Drops the staging tables a failed run left between extract and load. */
    async dropRunStaging(input: { runId: string }): Promise<number> {
      const tables = await knex.raw<{ rows: { name: string }[] }>(
        `select schemaname || '.' || tablename as name from pg_tables where schemaname = ? and tablename like ?`,
        [STAGING_SCHEMA, `${stagingPrefix(input.runId)}%`],
      );
      for (const t of tables.rows) await knex.raw(`drop table if exists ${t.name}`);
      return tables.rows.length;
    },
  };
}
