// The Temporal worker: serves every workflow and activity on the project's task queue.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { closeActivityDeps, createActivityDeps } from './activities/deps';
import { loadConfig, type Config } from './infra/config';

export async function createWorker(
  config: Config,
  taskQueue = config.temporal.taskQueue,
  overrides: Partial<WorkerOptions> = {},
) {
  const connection = await NativeConnection.connect({
    address: config.temporal.address,
    tls: config.temporal.tls ? {} : undefined,
    apiKey: config.temporal.apiKey,
  });
  const deps = createActivityDeps(config);
  const bundlePath = process.env.WORKFLOW_BUNDLE_PATH;
  const workflowSource: Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'> = bundlePath
    ? { workflowBundle: { codePath: bundlePath } }
    : { workflowsPath: require.resolve('./workflows') };
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    activities: createActivities(deps),
    ...workflowSource,
    maxConcurrentActivityTaskExecutions: Number(process.env.WORKER_MAX_ACTIVITIES ?? 8),
    ...overrides,
  });
  const close = async () => {
    await closeActivityDeps(deps);
    await connection.close();
  };
  return { worker, close };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { worker, close } = await createWorker(config);
  console.log(
    `worker: polling task queue '${worker.options.taskQueue}' on ${config.temporal.address} ` +
      `(namespace ${config.temporal.namespace}); Web UI ${config.temporal.uiUrl}`,
  );
  try {
    await worker.run();
  } finally {
    await close();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`worker: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
