// Whether a contract migration may run: no run is pinned to an older version of the Worker Deployment, and no
// worker other than the current version's still polls the pipeline's task queue. Pure, so each case is tested.

/** A poller seen within this many seconds is a live worker: an idle worker's long poll renews it about every minute. */
export const LIVE_POLLER_SECONDS = 90;

export interface GateState {
  deploymentName: string;
  /** null when no version is current (unversioned workers, or none ever polled as a version). */
  currentBuildId: string | null;
  versions: { buildId: string; openPinnedRuns: number }[];
  pollers: {
    taskQueue: string;
    kind: 'workflow' | 'activity';
    identity: string;
    /** The poller's Worker Deployment and build id; null for an unversioned worker. */
    deploymentName: string | null;
    buildId: string | null;
    secondsSinceLastPoll: number;
  }[];
}

/** What still holds the contract step back, one line each; empty when it may run. */
export function contractBlockers(s: GateState): string[] {
  const blockers: string[] = [];
  for (const v of s.versions) {
    if (v.buildId !== s.currentBuildId && v.openPinnedRuns > 0)
      blockers.push(`${s.deploymentName}:${v.buildId} still has ${v.openPinnedRuns} open pinned runs`);
  }
  const seen = new Set<string>();
  for (const p of s.pollers) {
    if (p.secondsSinceLastPoll > LIVE_POLLER_SECONDS) continue;
    const current =
      s.currentBuildId !== null && p.deploymentName === s.deploymentName && p.buildId === s.currentBuildId;
    if (current) continue;
    const version =
      p.deploymentName === null || p.buildId === null
        ? 'an unversioned worker (it cannot be told from an older release: stop it, or give workers TEMPORAL_WORKER_BUILD_ID)'
        : `a worker of ${p.deploymentName}:${p.buildId}`;
    const line = `${version} (${p.identity}) polled task queue ${p.taskQueue} ${Math.round(p.secondsSinceLastPoll)} s ago`;
    const key = `${p.identity}|${p.deploymentName}|${p.buildId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    blockers.push(line);
  }
  return blockers;
}
