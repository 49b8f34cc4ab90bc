// The Temporal worker: serves every workflow and activity on the project's task queue.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { closeActivityDeps, createActivityDeps } from './infra/activity-deps';
import { ConfigError, loadConfig, type Config } from './infra/config';
import { dataConverter } from './infra/payload-codec';
import { dependencyNamingInterceptor } from './infra/dependency-errors';
import { loadDotEnv } from './infra/dotenv';
import { temporalConnectionOptions } from './infra/temporal';
import { workerDeploymentOptions } from './infra/worker-deployment';
import { createJsonLogger, logProcessWarnings, maskSecrets, secretValues } from './infra/log';
import { initialiseSeries } from './infra/metrics';
import { activityMetricsInterceptor } from './ops/activity-metrics';
import { startWorkerStatusLog } from './ops/status-log';
import { installWorkerRuntime, startWorkerOps } from './ops/worker-ops';

export async function createWorker(
  config: Config,
  taskQueue = config.temporal.taskQueue,
  overrides: Partial<WorkerOptions> = {},
) {
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const deps = createActivityDeps(config);
  const activities = createActivities(deps);
  initialiseSeries(Object.keys(activities));
  const bundlePath = config.worker.bundlePath;
  const workflowSource: Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'> = bundlePath
    ? { workflowBundle: { codePath: bundlePath } }
    : { workflowsPath: require.resolve('./workflows') };
  const deployment = config.worker.deployment;
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    activities,
    ...workflowSource,
    // Compresses the stream's big signal and load payloads (infra/payload-codec.ts).
    dataConverter,
    maxConcurrentActivityTaskExecutions: config.worker.maxActivities,
    // A run that fails after its retries names the service that was down; retries and load times are counted.
    interceptors: { activity: [dependencyNamingInterceptor(config), activityMetricsInterceptor] },
    ...(deployment ? { workerDeploymentOptions: workerDeploymentOptions(deployment) } : {}),
    ...overrides,
  });
  const close = async () => {
    await closeActivityDeps(deps);
    await connection.close();
  };
  return { worker, close, connection, deps };
}

const HELP = `Usage: npm run worker

Runs the Temporal worker: every workflow (batch, stream, health) and activity of the project on the task queue
TEMPORAL_TASK_QUEUE (default kiosk-pipeline). Settings come from the environment (see .env.example), and
WORKER_MAX_ACTIVITIES (default 8) bounds the activities run at once. WORKFLOW_BUNDLE_PATH selects a prebuilt
workflow bundle (npm run build:bundle). SIGINT or SIGTERM: finish the running activities, then exit.

Deploys: TEMPORAL_WORKER_BUILD_ID (e.g. the image tag) makes the worker one version of the Worker Deployment
TEMPORAL_DEPLOYMENT_NAME (default kiosk-pipeline). It gets new runs only once that version is made current
(kiosk deploy promote <build-id>); batch and reject replay runs stay pinned to the version they started on,
stream chains move to the current version, and the previous version's workers may stop once
\`kiosk deploy drained <previous build-id>\` exits 0. Unset: an unversioned worker (local development).

Operations: WORKER_METRICS_ADDRESS (default 127.0.0.1:9464) serves /metrics (Prometheus text: kiosk_* and the
Temporal SDK's temporal_*), /healthz (alive) and /readyz (Temporal and PostgreSQL answer; 503 otherwise).
Logs are JSON, one object per line on stdout, from LOG_LEVEL (default info) up.

With NODE_ENV=production there are no local defaults: a missing setting is named and the worker exits 2.`;

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  const config = loadConfig(process.env, 'worker');
  const secrets = secretValues(config);
  const logger = createJsonLogger('worker', { secrets, level: config.logLevel });
  logProcessWarnings(logger);
  const temporalMetricsAddress = await installWorkerRuntime(logger, config.logLevel);
  const { worker, close, connection, deps } = await createWorker(config);
  const ops = await startWorkerOps({
    address: config.metrics.workerAddress,
    temporalMetricsAddress,
    knex: deps.knex,
    connection,
    worker,
    logger,
    redact: (text) => maskSecrets(text, secrets),
  });
  const version = worker.options.workerDeploymentOptions?.version;
  const versionText = version ? `version ${version.deploymentName}.${version.buildId}` : 'unversioned';
  logger.info(
    `worker: polling task queue '${worker.options.taskQueue}' on ${config.temporal.address} ` +
      `(namespace ${config.temporal.namespace}, ${versionText}); Web UI ${config.temporal.uiUrl}; ` +
      `metrics and health on http://${ops.address}`,
    { taskQueue: worker.options.taskQueue, metricsAddress: ops.address },
  );
  const stopStatus = startWorkerStatusLog(deps.knex, logger);
  try {
    await worker.run();
  } finally {
    stopStatus();
    await ops.close();
    await close();
  }
}

if (require.main === module) {
  loadDotEnv();
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      createJsonLogger('worker').error(`worker: ${(err as Error).message}`);
      process.exit(err instanceof ConfigError ? 2 : 1);
    },
  );
}
