// Every patched() of the stream workflow. A run replays its history on whatever code is deployed (a chain moves
// to the current version at its next task: workflows/index.ts), so each change to the commands a run issues is
// behind a patch whose old side stays while a run that took it may be open. Each flag is read where it always
// was (their order is part of the history). Removal takes two deploys: deprecatePatch(id) once no run started
// before the patch's first release is open, then the call itself once no run started before that deploy is.
// A run ends at its next continue-as-new, but a stopped or quiet partition's run can stay open for days.
import { patched } from '@temporalio/workflow';

/**
 * A new chain first re-reads from Kafka what an earlier chain took but never stored.
 * Added in e1cd807, first released in 15a4087: deprecatePatch once no run started before 15a4087 is open.
 */
export const rereadsUnstored = (): boolean => patched('reread-unstored-before-first-load');

/**
 * A run resolves a source_topic per topic id, takes over a recreated topic and stops when offsets go backwards.
 * Added in a947947, first released after 15a4087: deprecatePatch once no run started before that release is open.
 */
export const knowsTopicIncarnations = (): boolean => patched('topic-incarnations');

/**
 * The flush age is judged at every workflow task, not only when its timer fires.
 * Added in 6d60fe4, first released after 15a4087: deprecatePatch once no run started before that release is open.
 */
export const judgesAgeOnEveryTask = (): boolean => patched('flush-age-on-every-task');

/**
 * A takeover loads the old topic's messages that came during closeStreamRun, and keeps any further topic id
 * for a takeover of its own (before: both were dropped). Read at each takeover.
 * Added in 03fd613, first released after 15a4087: deprecatePatch once no run started before that release is open.
 */
export const takeoverKeepsLateMessages = (): boolean => patched('takeover-keeps-late-messages');

/**
 * Record-block loads run as local activities: the blocks, already in the history as the signals that brought
 * them, no longer pass through the server a second time as an activity's input (113 KB a load in a drain), and
 * a load starts without an activity task's round trip. Read once per run, after the flags above.
 * Added in the commit that brought it, first released after 15a4087: deprecatePatch once no run started
 * before that release is open.
 */
export const loadsBlocksLocally = (): boolean => patched('load-blocks-as-local-activity');
