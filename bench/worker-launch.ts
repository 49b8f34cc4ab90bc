// How the benchmarks run the worker: by default as deployed, so that what they measure is what runs.

/** How the worker process runs: as deployed (compiled, the image's node flags) or from source through tsx. */
export interface WorkerLaunch {
  compiled: boolean;
  /** --max-old-space-size; undefined leaves Node's default (a share of the machine's memory). */
  heapMb: number | undefined;
}

/**
 * The worker's V8 heap cap as deployed: the Dockerfile's CMD and `npm run worker` pass the same number
 * (test/unit/worker-heap.test.ts holds them together).
 */
export const DEPLOYED_WORKER_HEAP_MB = 768;

/** As the Dockerfile's CMD runs it. */
export const DEPLOYED_WORKER: WorkerLaunch = { compiled: true, heapMb: DEPLOYED_WORKER_HEAP_MB };

/**
 * The bridge's V8 heap cap as deployed: the Dockerfile's bridge command, the ECS bridge task and `npm run
 * bridge` pass the same number (test/unit/worker-heap.test.ts holds them together).
 */
export const DEPLOYED_BRIDGE_HEAP_MB = 512;

/** The bridge's ECS task memory (terraform/variables.tf, bridge_memory's default): what its RSS must stay under. */
export const BRIDGE_TASK_MEMORY_MIB = 1024;
