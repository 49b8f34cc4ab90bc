// The shipped artifact, made as the Dockerfile makes it: dist/ compiled by tsc -p tsconfig.build.json with the
// prebuilt workflow bundle beside it, and production dependencies only (npm ci --omit=dev --ignore-scripts),
// in a folder of its own so nothing from the checkout's node_modules or sources can be picked up.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULTS, type Config } from '../../infra/config';
import { configToEnv, spawnNode, type RunningProcess } from './child-process';
import { REPO_ROOT } from './isolated-env';

const run = promisify(execFile);

export interface Artifact {
  dir: string;
  bundle: string;
  remove: () => void;
}

export async function buildArtifact(): Promise<Artifact> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-artifact-'));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    for (const file of ['package.json', 'package-lock.json'])
      fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
    const dist = path.join(dir, 'dist');
    const bundle = path.join(dist, 'workflow-bundle.js');
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const options = { cwd: REPO_ROOT, maxBuffer: 16 << 20 };
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dist], options);
    await run(
      process.execPath,
      ['--require', 'tsx/cjs', 'scripts/build-workflow-bundle.ts', '--out', bundle],
      options,
    );
    // npm itself runs on the Node first on PATH (the project's, under npm scripts and npx).
    await run(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
      {
        ...options,
        cwd: dir,
        env: { ...process.env, npm_config_update_notifier: 'false' },
      },
    );
    return { dir, bundle, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

/**
 * The environment of a production task: NODE_ENV=production and every setting given explicitly, nothing
 * inherited from this process but PATH and HOME.
 */
export function productionEnv(artifact: Artifact, cfg: Config, extra: Record<string, string> = {}) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    NODE_ENV: 'production',
    NODE_OPTIONS: '--enable-source-maps',
    WORKFLOW_BUNDLE_PATH: artifact.bundle,
    ...configToEnv(cfg),
    TEMPORAL_UI_URL: cfg.temporal.uiUrl,
    KAFKA_CLIENT_ID: cfg.kafka.clientId,
    LOG_LEVEL: cfg.logLevel,
    WORKER_MAX_ACTIVITIES: String(cfg.worker.maxActivities),
    DASHBOARD_PORT: String(cfg.dashboardPort),
    ...extra,
  };
  const missing = Object.keys(DEFAULTS).filter((name) => env[name] === undefined);
  if (missing.length > 0) throw new Error(`productionEnv sets no ${missing.join(', ')}`);
  return env;
}

/** `node <script> args...` from the artifact's folder, in the production environment. */
export function startArtifact(
  artifact: Artifact,
  cfg: Config,
  script: string,
  args: string[] = [],
  extra: Record<string, string> = {},
  nodeFlags: string[] = [],
): RunningProcess {
  const env = productionEnv(artifact, cfg, extra);
  return spawnNode([...nodeFlags, script, ...args], cfg, {}, { cwd: artifact.dir, baseEnv: env });
}
