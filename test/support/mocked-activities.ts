// Running the real workflow code against mocked activities: the stack's Temporal server, a worker on a task
// queue of the test's own, and the same workflow bundle the worker serves.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../../infra/config';
import { uniqueSuffix } from './isolated-env';
import { workflowBundle } from './test-worker';

export interface MockedWorkflows {
  env: () => TestWorkflowEnvironment;
  /** Runs `fn` while a worker with these activities serves a fresh task queue. */
  withWorker: <T>(activities: object, fn: (taskQueue: string) => Promise<T>) => Promise<T>;
}

/** Sets up the environment for a mocha suite (before/after hooks) and returns its accessors. */
export function mockedWorkflowSuite(label: string): MockedWorkflows {
  let env: TestWorkflowEnvironment | undefined;
  before(async () => {
    const cfg = loadConfig();
    env = await TestWorkflowEnvironment.createFromExistingServer({
      address: cfg.temporal.address,
      namespace: cfg.temporal.namespace,
    });
  });
  after(async () => {
    await env?.teardown();
  });
  const current = (): TestWorkflowEnvironment => {
    if (!env) throw new Error('the suite environment is not set up yet');
    return env;
  };
  return {
    env: current,
    withWorker: async (activities, fn) => {
      const taskQueue = `test-${label}-${uniqueSuffix()}`;
      const worker = await Worker.create({
        connection: current().nativeConnection,
        namespace: current().namespace,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities,
      });
      return worker.runUntil(fn(taskQueue));
    },
  };
}
