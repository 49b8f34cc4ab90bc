// An in-process worker for a suite, on the suite's own task queue, with the workflow bundle built once per
// test process (bundling costs seconds; many suites start workers).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ActivityDeps } from '../../infra/activity-deps';
import type { Config } from '../../infra/config';
import { createWorker } from '../../worker';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
  return bundle;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
};

export interface TestWorker {
  env: TestWorkflowEnvironment;
  /** The worker's activity dependencies (its S3 client, database pool). */
  deps: ActivityDeps;
  stop: () => Promise<void>;
}

export async function startTestWorker(cfg: Config): Promise<TestWorker> {
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: cfg.temporal.address,
    namespace: cfg.temporal.namespace,
  });
  const { worker, close, deps } = await createWorker(cfg, cfg.temporal.taskQueue, {
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  return {
    env,
    deps,
    stop: async () => {
      worker.shutdown();
      await running;
      await close();
      await env.teardown();
    },
  };
}
