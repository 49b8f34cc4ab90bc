// The batch path's activities: run ledger, exhibition metadata, listing, and each object's chain: extract
// (S3 lines into a staging table), validate (verdicts into another), transform (presses, in SQL) and load
// (the final tables in one transaction, load.ts). Each step reads only the staging of the one before,
// so each is retried on its own and a failed load never reads S3 again. Each is safe to retry.
import { Context } from '@temporalio/activity';
import { parseExhibitionMetadata, type ExhibitionMetadata } from '../domain/exhibition';
import { inWindow } from '../domain/date-window';
import { LineSplitter, type LineVisitor } from '../domain/csv-lines';
import { HistoryFileJudge } from '../domain/history-row';
import { missingTables, withPgClient } from '../infra/db';
import { copyOut } from '../infra/copy-out';
import { CopyWriter } from '../infra/copy-in';
import {
  JUDGED_COLUMNS,
  JUDGED_DDL,
  judgedRow,
  OBJECT_SETTINGS,
  PRESSES_SQL,
  RAW_COLUMNS,
  RAW_DDL,
  rawRow,
  STAGING_SCHEMA,
  stagedTables,
  stagingPrefix,
  stagingTableName,
} from './staging';
import type { ActivityDeps } from '../infra/activity-deps';
import { beatEvery, whileBeating } from '../infra/heartbeat';
import { closeRun, openRun } from '../ledger/pipeline-run';
import { loadObject, type StagedCounts } from './load';
import { sourceMissing, stagingLost } from '../contracts/failures';
import { knownSites, upsertExhibitions } from '../catalogue/exhibitions';
import { EXHIBITION_OBJECT, HISTORY_OBJECT, openObjectStore, SourceMissingError } from './object-store';
import type {
  BatchObject,
  StoredObject,
  HistoryPage,
  ListPageInput,
  ObjectLoadResult,
  RunLedger,
  RunStatus,
} from '../contracts/batch';

// Objects examined per listing call to the store (S3 returns at most 1,000 keys per request).
const LIST_BATCH = 1000;

function nonRetryable(err: unknown): never {
  if (err instanceof SourceMissingError) throw sourceMissing(err.message);
  throw err;
}

/** Landed within the window from..to (domain/date-window.ts) and at or before `landedBy`. */
function landedWithin(o: StoredObject, from?: string, to?: string, landedBy?: string): boolean {
  const at = Date.parse(o.lastModified);
  return inWindow(at, from, to) && (landedBy === undefined || at <= Date.parse(landedBy));
}

function inScope(o: StoredObject, input: ListPageInput): boolean {
  if (!HISTORY_OBJECT.test(o.name)) return false;
  if (input.keys && input.keys.length > 0 && !input.keys.includes(o.name) && !input.keys.includes(o.uri))
    return false;
  return landedWithin(o, input.from, input.to, input.landedBy);
}

export function createBatchActivities(deps: ActivityDeps) {
  const { knex, s3 } = deps;

  return {
    async startRun(input: { runId: string; workflowId: string; source: string }): Promise<void> {
      await openRun(knex, { ...input, kind: 'batch' });
    },

    async finishRun(input: { runId: string; status: RunStatus }): Promise<RunLedger> {
      return closeRun(knex, input.runId, input.status);
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

    /**
     * Extract: the next page of history objects in scope, in key order after `after`: up to `limit` objects
     * to load (not loaded before in this version, or all when reprocessing), counting those skipped. `next` is
     * the cursor for the following page, absent at the end of the source.
     */
    async listHistoryPage(input: ListPageInput): Promise<HistoryPage> {
      const store = openObjectStore(input.source, s3);
      const page: HistoryPage = { objects: [], listed: 0, skipped: 0 };
      let after = input.after;
      for (;;) {
        const listed = await store.listPage(after, LIST_BATCH).catch(nonRetryable);
        const chosen = listed.filter((o) => inScope(o, input));
        const loadedBefore = await knex('source_object')
          .whereIn(
            'source_object',
            chosen.map((o) => o.uri),
          )
          .select<{ source_object: string; etag: string }[]>('source_object', 'etag');
        const etags = new Map(loadedBefore.map((r) => [r.source_object, r.etag]));
        for (const o of listed) {
          after = o.uri;
          if (!chosen.includes(o)) continue;
          page.listed++;
          if (input.reprocess !== true && etags.get(o.uri) === o.etag) {
            page.skipped++;
            continue;
          }
          page.objects.push({ ...o, source: input.source });
          if (page.objects.length >= input.limit) return { ...page, next: after };
        }
        if (listed.length < LIST_BATCH) return page; // the end of the source
        // Bound one call's work when most objects are skipped; the workflow asks again from here.
        if (page.listed >= input.limit * 20) return { ...page, next: after };
      }
    },

    /** Fails (SourceMissing) when a named object is not in the source: checked once, before the first page. */
    async checkNamedObjects(input: { source: string; keys: string[] }): Promise<void> {
      const store = openObjectStore(input.source, s3);
      const all = await store.list().catch(nonRetryable);
      const found = new Set(all.flatMap((o) => [o.name, o.uri]));
      const missing = input.keys.filter((k) => !found.has(k));
      if (missing.length > 0) {
        throw sourceMissing(`not found in ${store.sourceUri}: ${missing.join(', ')}`);
      }
    },

    /**
     * Extract, streamed: reads the object line by line and COPYs every line's bytes, as read, into the
     * object's raw staging table. Returns how many lines it read (the load checks the staging against it).
     */
    async extractObject(input: {
      runId: string;
      object: BatchObject;
    }): Promise<{ stem: string; lines: number }> {
      const { runId, object } = input;
      const stem = stagingTableName(runId, object.uri);
      const { raw } = stagedTables(stem);
      const store = openObjectStore(object.source, s3);
      const ctx = Context.current();
      return withPgClient(deps.config.databaseUrl, async (client) => {
        await client.query(RAW_DDL(raw));
        const body = await store.open(object.uri).catch(nonRetryable);
        const copy = new CopyWriter(client, `copy ${raw} ${RAW_COLUMNS} from stdin`);
        let lines = 0;
        const stopBeating = beatEvery(
          ctx,
          () => ({ lines }),
          (cancelled) => body.destroy(cancelled),
        );
        const stageLine: LineVisitor = (line, buf, start, end, fullLength) => {
          copy.add(rawRow(line, buf, start, end, fullLength));
          lines = line;
        };
        try {
          const splitter = new LineSplitter();
          for await (const chunk of body as AsyncIterable<Buffer>) {
            splitter.push(chunk, stageLine);
            // Once per chunk, not per line: the send waits for PostgreSQL, the beat is a message to Temporal.
            await copy.flush();
          }
          splitter.end(stageLine);
          await copy.end();
        } catch (err) {
          body.destroy();
          throw err;
        } finally {
          stopBeating();
        }
        return { stem, lines };
      });
    },

    /**
     * Validate, streamed: judges every staged line with the shared rules (the header on line 1 first) and
     * COPYs one verdict per data line into the judged staging table. Reads nothing from S3.
     */
    async validateObject(input: {
      stem: string;
    }): Promise<{ header: boolean; valid: number; rejected: number }> {
      const { raw, judged } = stagedTables(input.stem);
      const judge = new HistoryFileJudge({ knownSites: await knownSites(knex), now: new Date() });
      const ctx = Context.current();
      // Two connections: one streams the raw lines out while the other COPYs the verdicts in.
      return withPgClient(deps.config.databaseUrl, (reader) =>
        withPgClient(deps.config.databaseUrl, async (writer) => {
          const missing = await missingTables(reader, [raw]);
          if (missing.length > 0) throw stagingLost(`${raw} is missing`);
          await writer.query(JUDGED_DDL(judged));
          const copy = new CopyWriter(writer, `copy ${judged} ${JUDGED_COLUMNS} from stdin`);
          let header = false;
          let valid = 0;
          let rejected = 0;
          const judgeRow = ([lineText, hex, rawLength]: string[]) => {
            const line = Number(lineText);
            const buf = Buffer.from(hex!, 'hex');
            const fullLength = rawLength === undefined || rawLength === '\\N' ? undefined : Number(rawLength);
            const outcome = judge.judgeLine(line, buf, 0, buf.length, fullLength);
            if (outcome.header) {
              header = true;
              return;
            }
            copy.add(judgedRow(line, outcome));
            if (outcome.valid) valid++;
            else rejected++;
          };
          // Line 1 decides whether the file has its header, so it is judged before the others (any order).
          const select = (where: string) =>
            `copy (select line, encode(raw, 'hex'), raw_length from ${raw} where ${where}) to stdout`;
          await copyOut(reader, select('line = 1'), judgeRow);
          await copyOut(reader, select('line > 1'), judgeRow, async () => {
            await copy.flush();
            ctx.heartbeat({ valid, rejected });
          });
          await copy.end();
          return { header, valid, rejected };
        }),
      );
    },

    /** Transform, in SQL: the valid verdicts as presses of known exhibitions, instants as timestamps. */
    async transformObject(input: { stem: string }): Promise<{ presses: number }> {
      const { judged, presses, raw } = stagedTables(input.stem);
      return whileBeating(Context.current(), { transforming: input.stem }, () =>
        withPgClient(deps.config.databaseUrl, async (client) => {
          const missing = await missingTables(client, [judged, raw]);
          if (missing.length > 0) throw stagingLost(`${missing.join(', ')} is missing`);
          await client.query(OBJECT_SETTINGS);
          await client.query(PRESSES_SQL(presses, judged, raw));
          const n = await client.query<{ n: number }>(`select count(*)::int as n from ${presses}`);
          return { presses: n.rows[0]?.n ?? 0 };
        }),
      );
    },

    /** Load: the staged object into the final tables, DUPLICATE judged again (see load.ts). */
    async loadObject(input: {
      runId: string;
      object: BatchObject;
      stem: string;
      staged: StagedCounts;
    }): Promise<ObjectLoadResult> {
      const { runId, object, stem, staged } = input;
      return whileBeating(Context.current(), { loading: object.uri }, () =>
        withPgClient(deps.config.databaseUrl, (client) => loadObject(client, runId, object, stem, staged)),
      );
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

export type BatchActivities = ReturnType<typeof createBatchActivities>;
