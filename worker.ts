// The Temporal worker: serves every workflow and activity on the project's task queue.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { closeActivityDeps, createActivityDeps } from './activities/deps';
import { loadConfig, type Config } from './infra/config';
import { dataConverter } from './infra/payload-codec';
import { dependencyNamingInterceptor } from './infra/dependency-errors';
import { loadDotEnv } from './infra/dotenv';

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
    // Compresses the stream's big signal and load payloads (infra/payload-codec.ts).
    dataConverter,
    maxConcurrentActivityTaskExecutions: Number(process.env.WORKER_MAX_ACTIVITIES ?? 8),
    // A run that fails after its retries names the service that was down.
    interceptors: { activity: [dependencyNamingInterceptor(config)] },
    ...overrides,
  });
  const close = async () => {
    await closeActivityDeps(deps);
    await connection.close();
  };
  return { worker, close };
}

const HELP = `Usage: npm run worker

Runs the Temporal worker: every workflow (batch, stream, health) and activity of the project on the task queue
TEMPORAL_TASK_QUEUE (default kiosk-pipeline). Settings come from the environment (see .env.example), and
WORKER_MAX_ACTIVITIES (default 8) bounds the activities run at once. WORKFLOW_BUNDLE_PATH selects a prebuilt
workflow bundle (npm run build:bundle). SIGINT or SIGTERM: finish the running activities, then exit.`;

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(HELP);
    return;
  }
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
  loadDotEnv();
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`worker: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
