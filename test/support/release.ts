// The previous release's worker, from the fixture scripts/release-fixture.sh saved (test/fixtures/releases):
// extracted to a temporary folder with that release's dependencies, and run as a child process the way that
// release runs in production.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../infra/config';
import { spawnNode, type RunningProcess } from './child-process';
import { REPO_ROOT } from './isolated-env';

export const RELEASES_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'releases');

/** The commit of the release the current code deploys over. */
export function previousRelease(): string {
  return fs.readFileSync(path.join(RELEASES_DIR, 'PREVIOUS'), 'utf8').trim();
}

export interface ExtractedRelease {
  commit: string;
  dir: string;
  /** Whether the release's worker knows Worker Versioning (TEMPORAL_WORKER_BUILD_ID). */
  versioned: boolean;
  remove: () => void;
}

function dependencies(packageJson: string): Record<string, string> {
  return (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { dependencies: Record<string, string> })
    .dependencies;
}

/** Whether any source file under `dir` (node_modules aside) contains `text`. */
function mentions(dir: string, text: string): boolean {
  return fs.readdirSync(dir, { withFileTypes: true }).some((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name !== 'node_modules' && mentions(file, text);
    return entry.isFile() && entry.name.endsWith('.ts') && fs.readFileSync(file, 'utf8').includes(text);
  });
}

/**
 * Unpacks a release's worker. It links this checkout's node_modules when every dependency it names is here at
 * the same version (packages added since then do not matter to it); otherwise it installs its own from its
 * lockfile, as that release's image did.
 */
export function extractRelease(commit = previousRelease()): ExtractedRelease {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kiosk-release-${commit}-`));
  execFileSync('tar', ['-xzf', path.join(RELEASES_DIR, `${commit}.tar.gz`), '-C', dir]);
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  const ours = dependencies(path.join(REPO_ROOT, 'package.json'));
  const differing = Object.entries(dependencies(path.join(dir, 'package.json')))
    .filter(([name, version]) => ours[name] !== version)
    .map(([name, version]) => `${name}@${version} (here ${ours[name] ?? 'absent'})`);
  if (differing.length === 0) {
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  } else if (fs.existsSync(path.join(dir, 'package-lock.json'))) {
    execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } else {
    remove();
    throw new Error(
      `release ${commit} was built with other dependencies than this checkout's: ${differing.join(', ')}, ` +
        `and its fixture has no package-lock.json to install them from (see test/fixtures/releases/README.md)`,
    );
  }
  return { commit, dir, versioned: mentions(dir, 'TEMPORAL_WORKER_BUILD_ID'), remove };
}

/** The release's worker entry point as a process (it bundles its own workflow code at start). */
export function startReleaseWorker(
  release: ExtractedRelease,
  cfg: Config,
  extraEnv: Record<string, string> = {},
): RunningProcess {
  return spawnNode(['--require', 'tsx/cjs', path.join(release.dir, 'worker.ts')], cfg, extraEnv);
}
