// Recorded workflow histories (test/fixtures/histories): kept from earlier versions of the workflow code,
// they must keep replaying, or a deploy would break workflows that are running. RECORD_HISTORY=1 makes a
// replay suite save the history it has just produced as a new fixture.
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dataConverter } from '../../infra/payload-codec';
import { REPO_ROOT } from './isolated-env';
import { workflowBundle } from './test-worker';

export const HISTORY_FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'histories');

// Binary protobuf, not the SDK's JSON form: JSON histories go through a second copy of protobufjs in this
// dependency tree (under @temporalio/common) whose type checks reject the messages of the first.
const HistoryProto = temporal.api.history.v1.History;
export type History = temporal.api.history.v1.IHistory;

/** Saves `history` as fixture `name` when RECORD_HISTORY=1. */
export function recordIfAsked(name: string, history: History): void {
  if (process.env.RECORD_HISTORY !== '1') return;
  fs.writeFileSync(path.join(HISTORY_FIXTURES, name), HistoryProto.encode(history).finish());
}

/** The fixture files whose names start with `prefix`. */
function recordedHistories(prefix: string): string[] {
  return fs.existsSync(HISTORY_FIXTURES)
    ? fs.readdirSync(HISTORY_FIXTURES).filter((f) => f.startsWith(prefix) && f.endsWith('.history.pb'))
    : [];
}

/** A recorded history, by its file name. */
export function readRecorded(file: string): History {
  return HistoryProto.decode(fs.readFileSync(path.join(HISTORY_FIXTURES, file)));
}

/**
 * Replays a history against the current workflow code, with the worker's data converter (payloads of 8 KiB
 * and more are compressed); throws on nondeterminism.
 */
export async function replay(history: History, workflowId: string): Promise<void> {
  await Worker.runReplayHistory(
    { workflowBundle: await workflowBundle(), dataConverter },
    history,
    workflowId,
  );
}

/** Registers a test per recorded history whose name starts with `prefix`, and one that there are some. */
export function itReplaysRecordedHistories(prefix: string): void {
  const recorded = recordedHistories(prefix);
  it(`has recorded ${prefix} histories to replay`, () => {
    assert.ok(recorded.length > 0, `no recorded ${prefix} histories in ${HISTORY_FIXTURES}`);
  });
  for (const file of recorded) {
    it(`replays the recorded history ${file}`, () => replay(readRecorded(file), file));
  }
}
