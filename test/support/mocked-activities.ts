// Running the real workflow code against mocked activities: a Temporal dev server of the suite's own, started
// from the binary the stack caches (no Kafka, PostgreSQL or S3; nothing downloaded), a worker on a task queue
// of the test's own, and the same workflow bundle the worker serves.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import fs from 'node:fs';
import type { BatchActivities } from '../../batch/activities';
import { ALL_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';
import type { ReplayWorkflowActivities } from '../../replay/workflow';
import type { RunActivities } from '../../stream/workflow-run';
import { uniqueSuffix } from './isolated-env';
import { temporalCliPath } from './stack-cache';
import { workflowBundle } from './test-worker';

/** Each pipeline's workflow activities, as the pipeline types them: what its mocks must match. */
export type { BatchActivities };
export type StreamActivities = RunActivities;
export type ReplayActivities = ReplayWorkflowActivities;

type Depth = [never, 0, 1, 2, 3, 4];

/** The names of the fields `Got` has, at any depth, that `Want` lacks (never when there are none). */
type ExtraFields<Got, Want, D extends number = 4> = [D] extends [never]
  ? never
  : [Got] extends [readonly (infer G)[]]
    ? [NonNullable<Want>] extends [readonly (infer W)[]]
      ? ExtraFields<G, W, Depth[D]>
      : never
    : [Got] extends [object]
      ? {
          [K in keyof Got]-?: K extends keyof NonNullable<Want>
            ? ExtraFields<Got[K], NonNullable<Want>[K], Depth[D]>
            : K & string;
        }[keyof Got]
      : never;

type Result<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/**
 * Mocks `M` of some of `A`'s activities. Each must take the real one's input and resolve to its result, with
 * no field the real one no longer returns (a plain `Partial<A>` lets extra fields through): a mock that drifts
 * from its activity fails tsc.
 */
export type ActivityMocks<A, M> = M & {
  [K in keyof M]: K extends keyof A
    ? [ExtraFields<Result<M[K]>, Result<A[K]>>] extends [never]
      ? M[K]
      : { 'fields the activity does not return': ExtraFields<Result<M[K]>, Result<A[K]>> }
    : { 'not an activity of this pipeline': K };
};

export interface MockedWorkflows<A> {
  env: () => TestWorkflowEnvironment;
  /** Runs `fn` while a worker with these activities serves a fresh task queue. */
  withWorker: <M extends Partial<A>, T>(
    activities: ActivityMocks<A, M>,
    fn: (taskQueue: string) => Promise<T>,
  ) => Promise<T>;
}

/** The cached Temporal CLI (scripts/stack.sh installs it once per machine). */
function temporalCli(): string {
  const cli = temporalCliPath();
  if (!fs.existsSync(cli)) {
    throw new Error(`${cli} is missing: build it once with 'bash scripts/stack.sh install'`);
  }
  return cli;
}

/**
 * Sets up the environment for a mocha suite (before/after hooks) and returns its accessors; `A` is the pipeline's
 * activities type, which every mock is checked against.
 */
export function mockedWorkflowSuite<A>(label: string): MockedWorkflows<A> {
  let env: TestWorkflowEnvironment | undefined;
  before(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCli() },
        searchAttributes: [...ALL_SEARCH_ATTRIBUTES],
      },
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

// The check itself, kept honest by tsc: a mock resolving to a field its activity does not return is refused.
type Drifted = { extractObject: () => Promise<{ stem: string; lines: number; staged: number }> };
// @ts-expect-error `staged` is no field of extractObject's result
const _drifted: ActivityMocks<BatchActivities, Drifted> = {} as Drifted;
type Gone = { stageObject: () => Promise<void> };
// @ts-expect-error the batch has no activity `stageObject` any more
const _gone: ActivityMocks<BatchActivities, Gone> = {} as Gone;
