// The stream's load activity: validates each message with the shared rules and stores valid ones as
// interactions and invalid ones as rejects, in one transaction, idempotent on (topic, partition, offset).
// A batch the database refuses as data is split until the refused messages are found; each is stored as an
// UNSTORABLE reject, so no value can hold its partition up.
import { validateStreamValue, type ReasonCode } from '../domain/validation';
import { streamSource, type StreamMessage, type TakenBlock } from '../contracts/stream';
import { decodeRecordBlock, takenRecords, type RawMessage } from '../contracts/record-block';
import { recordStoredRows } from '../infra/metrics';
import type { ActivityDeps } from '../infra/activity-deps';
import { exhibitionIdsBySite } from '../catalogue/exhibitions';
import {
  ensureStreamRun,
  insertStreamRows,
  isDataError,
  storedOffsets,
  type StoredRow,
  type StreamRun,
} from './store';

export interface LoadStreamInput {
  ledgerRunId: string;
  workflowId: string;
  topic: string;
  partition: number;
  /**
   * The rows' source_topic: the topic's name, or `<topic>@<topicId>` for a recreated topic's later incarnation
   * (see topic.ts). Absent from workflows started by older code: the name.
   */
  sourceTopic?: string;
  /** In offset order, no offset twice (the workflow's buffer guarantees both). */
  messages: StreamMessage[];
}

/** The same for record blocks: their bytes are the activity's further arguments, one per block, in order. */
export type LoadBlocksInput = Omit<LoadStreamInput, 'messages'> & { blocks: TakenBlock[] };

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

const EMPTY = Buffer.alloc(0);

/** Messages judged and inserted per statement within a load's transaction. */
const STORE_SLICE = 5000;

function emptyResult(): LoadStreamResult {
  return { loaded: 0, rejected: 0, alreadyStored: 0, rejectedByReason: {} };
}

function addResult(into: LoadStreamResult, part: LoadStreamResult): void {
  into.loaded += part.loaded;
  into.rejected += part.rejected;
  into.alreadyStored += part.alreadyStored;
  for (const [reason, n] of Object.entries(part.rejectedByReason) as [ReasonCode, number][]) {
    into.rejectedByReason[reason] = (into.rejectedByReason[reason] ?? 0) + n;
  }
}

/**
 * Judges and stores messages in one transaction. With `unstorable`, every message not stored yet becomes an
 * UNSTORABLE reject instead of being judged: the database refused it as data.
 */
async function storeMessages(
  deps: ActivityDeps,
  run: StreamRun,
  messages: readonly RawMessage[],
  unstorable: boolean,
): Promise<LoadStreamResult> {
  const result = emptyResult();
  const committed = { loaded: 0, rejects: [] as (readonly string[])[] };
  await deps.knex.transaction(async (trx) => {
    await ensureStreamRun(trx, run);
    const exhibitions = await exhibitionIdsBySite(trx);
    const knownSites: ReadonlySet<number> = new Set(exhibitions.keys());
    const stored = await storedOffsets(
      trx,
      run.topic,
      run.partition,
      messages[0]!.offset,
      messages[messages.length - 1]!.offset,
    );
    const now = new Date();
    // A statement per slice: a load of 20,000 messages built as one array of rows kept them all alive long
    // enough to reach the old generation, and the worker spent a fifth of its time collecting them.
    for (let from = 0; from < messages.length; from += STORE_SLICE) {
      const rows: StoredRow[] = [];
      const delta = { loaded: 0, rejected: 0, rejectedByReason: {} as Record<string, number> };
      for (const message of messages.slice(from, from + STORE_SLICE)) {
        const already = stored.get(message.offset);
        if (already !== undefined) {
          result[already]++;
          result.alreadyStored++;
          continue;
        }
        // A tombstone has no bytes; it is stored as an empty value (raw is not null) and judged MALFORMED.
        const raw = message.value ?? EMPTY;
        // An oversize value arrives cut to its first bytes: there is nothing left to judge but its size.
        const verdict =
          message.length !== undefined
            ? { valid: false as const, reasons: ['OVERSIZE' as const] }
            : unstorable
              ? { valid: false as const, reasons: ['UNSTORABLE' as const] }
              : validateStreamValue(raw, { knownSites, now });
        if (verdict.valid) {
          const { site, kind, value, eventAt } = verdict.interaction;
          rows.push({ kind, offset: message.offset, exhibitionId: exhibitions.get(site)!, value, eventAt });
          delta.loaded++;
        } else {
          rows.push({
            kind: 'reject',
            offset: message.offset,
            // Re-encoded from the bytes judged, so what is stored is exactly what was validated.
            rawBase64: raw.toString('base64'),
            reasons: verdict.reasons,
            rawLength: message.length,
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
      committed.loaded += delta.loaded;
      for (const row of rows) if (row.kind === 'reject') committed.rejects.push(row.reasons);
    }
  });
  // Counted after the commit: what this transaction stored, not what an earlier attempt had.
  recordStoredRows(
    'stream',
    committed.loaded,
    committed.rejects.map((reasons) => [reasons, 1] as const),
  );
  return result;
}

/**
 * Stores the messages; when the database refuses the batch as data, halves it and stores each half the same
 * way, down to single messages, which become UNSTORABLE rejects. A handful of bad values among thousands costs
 * a few dozen small transactions; the good values around them are stored as usual. Anything else (the
 * database unreachable, a lock timeout) is thrown for the activity's retry.
 */
async function storeOrSplit(
  deps: ActivityDeps,
  run: StreamRun,
  messages: readonly RawMessage[],
): Promise<LoadStreamResult> {
  try {
    return await storeMessages(deps, run, messages, false);
  } catch (err) {
    if (!isDataError(err)) throw err;
    if (messages.length === 1) return storeMessages(deps, run, messages, true);
    const middle = Math.ceil(messages.length / 2);
    const result = await storeOrSplit(deps, run, messages.slice(0, middle));
    addResult(result, await storeOrSplit(deps, run, messages.slice(middle)));
    return result;
  }
}

function streamRun(input: Omit<LoadStreamInput, 'messages'>): StreamRun {
  return {
    ledgerRunId: input.ledgerRunId,
    workflowId: input.workflowId,
    topic: input.sourceTopic ?? input.topic,
    partition: input.partition,
    source: streamSource(input.topic, input.partition),
  };
}

/** Validates and stores messages of one partition, as the load activities do (also the bench's baseline). */
export async function storeStreamMessages(
  deps: ActivityDeps,
  target: Omit<LoadStreamInput, 'messages'>,
  messages: readonly RawMessage[],
): Promise<LoadStreamResult> {
  if (messages.length === 0) return emptyResult();
  return storeOrSplit(deps, streamRun(target), messages);
}

function fromBase64(message: StreamMessage): RawMessage {
  const raw: RawMessage = {
    offset: message.offset,
    timestamp: message.timestamp,
    value: message.value === null ? null : Buffer.from(message.value, 'base64'),
  };
  if (message.length !== undefined) raw.length = message.length;
  return raw;
}

/** A block's taken records, checked against what the workflow counted: a mismatch is a bug, never data. */
function blockMessages(block: TakenBlock, data: Uint8Array | undefined): RawMessage[] {
  if (data === undefined)
    throw new Error(`record block ${block.info.firstOffset}.. arrived without its bytes`);
  const all = decodeRecordBlock(data);
  const { info } = block;
  const taken = takenRecords(all, block.skipThrough);
  if (
    all.length !== info.count ||
    all[0]!.offset !== info.firstOffset ||
    all[all.length - 1]!.offset !== info.lastOffset ||
    taken.length !== block.taken
  ) {
    throw new Error(
      `record block ${info.firstOffset}..${info.lastOffset} does not match its description ` +
        `(${all.length} records, ${taken.length} taken; described ${info.count}, ${block.taken} taken)`,
    );
  }
  return taken;
}

export function createStreamActivities(deps: ActivityDeps) {
  return {
    /** Messages one by one (older workflows, and the first run's re-read). */
    async loadStreamMessages(input: LoadStreamInput): Promise<LoadStreamResult> {
      return storeStreamMessages(deps, input, input.messages.map(fromBase64));
    },

    async loadStreamBlocks(input: LoadBlocksInput, ...data: Uint8Array[]): Promise<LoadStreamResult> {
      const messages = input.blocks.flatMap((block, i) => blockMessages(block, data[i]));
      return storeStreamMessages(deps, input, messages);
    },
  };
}

export type StreamActivities = ReturnType<typeof createStreamActivities>;
