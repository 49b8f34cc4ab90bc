// The stream's load activity: validates each message with the shared rules and stores valid ones as
// interactions and invalid ones as rejects, in one transaction, idempotent on (topic, partition, offset).
import { validateStreamValue, type ReasonCode } from '../domain/validation';
import { streamSource, type StreamMessage } from '../workflows/stream-api';
import { recordStoredRows } from '../infra/metrics';
import type { ActivityDeps } from './deps';
import {
  ensureStreamRun,
  exhibitionIdsBySite,
  insertStreamRows,
  storedOffsets,
  type StoredRow,
} from './stream-store';

export interface LoadStreamInput {
  ledgerRunId: string;
  workflowId: string;
  topic: string;
  partition: number;
  /** In offset order, no offset twice (the workflow's buffer guarantees both). */
  messages: StreamMessage[];
}

export interface LoadStreamResult {
  /**
   * Messages of this batch now in the interaction tables, and in the rejects table. Offsets stored by an
   * earlier attempt count too, so loaded + rejected always equals the batch size, however often it is retried.
   */
  loaded: number;
  rejected: number;
  /** Of those, offsets that were already stored before this attempt. */
  alreadyStored: number;
  rejectedByReason: Partial<Record<ReasonCode, number>>;
}

const EMPTY = new Uint8Array(0);

export function createStreamActivities(deps: ActivityDeps) {
  return {
    async loadStreamMessages(input: LoadStreamInput): Promise<LoadStreamResult> {
      const { messages, topic, partition } = input;
      const result: LoadStreamResult = { loaded: 0, rejected: 0, alreadyStored: 0, rejectedByReason: {} };
      if (messages.length === 0) return result;
      const run = {
        ledgerRunId: input.ledgerRunId,
        workflowId: input.workflowId,
        topic,
        partition,
        source: streamSource(topic, partition),
      };
      const committed = await deps.knex.transaction(async (trx) => {
        await ensureStreamRun(trx, run);
        const exhibitions = await exhibitionIdsBySite(trx);
        const knownSites: ReadonlySet<number> = new Set(exhibitions.keys());
        const stored = await storedOffsets(
          trx,
          topic,
          partition,
          messages[0]!.offset,
          messages[messages.length - 1]!.offset,
        );
        const now = new Date();
        const rows: StoredRow[] = [];
        const delta = { loaded: 0, rejected: 0, rejectedByReason: {} as Record<string, number> };
        for (const message of messages) {
          const already = stored.get(message.offset);
          if (already !== undefined) {
            result[already]++;
            result.alreadyStored++;
            continue;
          }
          // A tombstone has no bytes; it is stored as an empty value (raw is not null) and judged MALFORMED.
          const raw = message.value === null ? EMPTY : Buffer.from(message.value, 'base64');
          const verdict = validateStreamValue(raw, { knownSites, now });
          if (verdict.valid) {
            const { site, kind, value, eventAt } = verdict.interaction;
            rows.push({ kind, offset: message.offset, exhibitionId: exhibitions.get(site)!, value, eventAt });
            delta.loaded++;
          } else {
            rows.push({
              kind: 'reject',
              offset: message.offset,
              // Re-encoded from the bytes judged, so what is stored is exactly what was validated.
              rawBase64: Buffer.from(raw).toString('base64'),
              reasons: verdict.reasons,
            });
            delta.rejected++;
            for (const reason of verdict.reasons) {
              delta.rejectedByReason[reason] = (delta.rejectedByReason[reason] ?? 0) + 1;
              result.rejectedByReason[reason] = (result.rejectedByReason[reason] ?? 0) + 1;
            }
          }
        }
        // Two overlapping attempts of this activity (a worker presumed dead that was only slow) both pass the
        // check above; the unique constraints then fail one of them, whose retry finds every offset stored.
        await insertStreamRows(trx, run, rows, delta);
        result.loaded += delta.loaded;
        result.rejected += delta.rejected;
        return rows;
      });
      recordStoredRows(
        'stream',
        committed.filter((r) => r.kind !== 'reject').length,
        committed.flatMap((r) => (r.kind === 'reject' ? [[r.reasons, 1] as const] : [])),
      );
      return result;
    },
  };
}

export type StreamActivities = ReturnType<typeof createStreamActivities>;
