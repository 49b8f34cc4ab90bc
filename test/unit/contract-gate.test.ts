// When a contract migration may run: every case of what can still hold it back.
import assert from 'node:assert/strict';
import { contractBlockers, LIVE_POLLER_SECONDS, type GateState } from '../../cli/contract-gate';

const poller = (over: Partial<GateState['pollers'][number]>): GateState['pollers'][number] => ({
  taskQueue: 'kiosk-pipeline',
  kind: 'workflow',
  identity: '1@new-task',
  deploymentName: 'kiosk-pipeline',
  buildId: 'v2',
  secondsSinceLastPoll: 5,
  ...over,
});

const state = (over: Partial<GateState>): GateState => ({
  deploymentName: 'kiosk-pipeline',
  currentBuildId: 'v2',
  versions: [
    { buildId: 'v1', openPinnedRuns: 0 },
    { buildId: 'v2', openPinnedRuns: 3 },
  ],
  pollers: [poller({}), poller({ kind: 'activity' })],
  ...over,
});

describe('contract gate', () => {
  it('lets a contract step run when only the current version polls and nothing is pinned to an older one', () => {
    assert.deepEqual(contractBlockers(state({})), []);
  });

  it('holds it while runs stay pinned to an older version', () => {
    const s = state({ versions: [{ buildId: 'v1', openPinnedRuns: 2 }] });
    assert.deepEqual(contractBlockers(s), ['kiosk-pipeline:v1 still has 2 open pinned runs']);
  });

  it("holds it while an older version's worker polls, named once however many queues it polls", () => {
    const old = { identity: '7@old-task', buildId: 'v1' };
    const s = state({ pollers: [poller({}), poller(old), poller({ ...old, kind: 'activity' })] });
    assert.deepEqual(contractBlockers(s), [
      'a worker of kiosk-pipeline:v1 (7@old-task) polled task queue kiosk-pipeline 5 s ago',
    ]);
  });

  it('forgets a worker whose last poll is older than a long poll can be', () => {
    const gone = poller({
      identity: '7@old-task',
      buildId: 'v1',
      secondsSinceLastPoll: LIVE_POLLER_SECONDS + 1,
    });
    const live = poller({
      identity: '7@old-task',
      buildId: 'v1',
      secondsSinceLastPoll: LIVE_POLLER_SECONDS - 1,
    });
    assert.deepEqual(contractBlockers(state({ pollers: [gone] })), []);
    assert.equal(contractBlockers(state({ pollers: [live] })).length, 1);
  });

  it('counts an unversioned worker as possibly older, and a version of another deployment as not current', () => {
    const s = state({
      pollers: [
        poller({ identity: '9@laptop', deploymentName: null, buildId: null }),
        poller({ identity: '3@other', deploymentName: 'elsewhere', buildId: 'v2' }),
      ],
    });
    const lines = contractBlockers(s);
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^an unversioned worker .*TEMPORAL_WORKER_BUILD_ID\) \(9@laptop\)/);
    assert.match(lines[1]!, /^a worker of elsewhere:v2 \(3@other\)/);
  });

  it('with no current version, any live worker holds it back (none can be told to be the new release)', () => {
    const s = state({
      currentBuildId: null,
      versions: [],
      pollers: [poller({ deploymentName: null, buildId: null })],
    });
    assert.equal(contractBlockers(s).length, 1);
    assert.deepEqual(contractBlockers(state({ currentBuildId: null, versions: [], pollers: [] })), []);
  });
});
