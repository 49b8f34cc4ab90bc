// What both benchmarks share: arguments, the machine's description, the worker child process and its memory,
// and the result files. Everything runs against the real local stack, on names of its own (isolatedConfig).
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../infra/config';
import { DEPLOYED_WORKER, type WorkerLaunch } from './worker-launch';
import {
  spawnNode,
  startEntryPoint,
  waitForOutput,
  type RunningProcess,
} from '../test/support/child-process';
import { REPO_ROOT } from '../test/support/isolated-env';

export const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

/** A mistake on the command line: reported without a stack trace, exit code 2. */
export class UsageError extends Error {}

/** A whole number argument; underscores allowed (1_000_000). */
export function countArg(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}`);
  return n;
}

/** How a bench's main() ends on an error: usage mistakes briefly (exit 2), failures with their stack (exit 1). */
export function exitOnError(bench: string): (err: unknown) => never {
  return (err: unknown) => {
    // Interrupted: the failure is the cleanup pulling things away; the signal handler exits once it is done.
    if (interrupted) return new Promise<never>(() => undefined) as never;
    if (err instanceof UsageError) {
      console.error(`${bench}: ${err.message} (--help lists the options)`);
      process.exit(2);
    }
    console.error(`${bench}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  };
}

/** Parses --name value options (all strings) and --help; unknown options fail with the usage text. */
export function parseOptions(
  argv: string[],
  names: readonly string[],
  flags: readonly string[],
  usage: string,
): Record<string, string | boolean | undefined> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const n of names) options[n] = { type: 'string' };
  for (const f of flags) options[f] = { type: 'boolean' };
  try {
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    if (values.help === true) {
      console.log(usage);
      process.exit(0);
    }
    return values;
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
}

const started = Date.now();

/** Progress on stderr, with the time since the bench started: stdout keeps the summary line only. */
export function progress(line: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(1).padStart(7);
  process.stderr.write(`[${s}s] ${line}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value at quantile q (0..1) of already sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const round = (n: number, digits = 0) => Number(n.toFixed(digits));

export interface Machine {
  host: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  /** 1-minute load average at the start and end of the bench: other engineers' test suites share the box. */
  loadAverage: { start: number; end?: number };
}

export function describeMachine(databaseUrl: string): Machine {
  let postgres = 'unknown';
  try {
    postgres = execFileSync('psql', [databaseUrl, '-Atc', 'show server_version'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    // Reported as unknown; the bench itself will fail loudly if the database is really unreachable.
  }
  return {
    host: os.hostname(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    postgres,
    loadAverage: { start: round(os.loadavg()[0]!, 2) },
  };
}

/** Samples a process's resident memory every `everyMs` (VmRSS) and reads the kernel's high-water mark (VmHWM). */
export class RssSampler {
  private peakKb = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private read(field: 'VmRSS' | 'VmHWM'): number {
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) : 0;
    } catch {
      return 0; // the process has exited
    }
  }

  private sample(): void {
    this.peakKb = Math.max(this.peakKb, this.read('VmRSS'));
  }

  /** The sampled peak so far, MiB. */
  get peakMiB(): number {
    return round(this.peakKb / 1024, 1);
  }

  /** Peak resident set in MiB: the larger of the sampled maximum and the kernel's high-water mark. */
  stop(): { peakRssMiB: number; sampledPeakMiB: number; hwmMiB: number } {
    this.sample();
    clearInterval(this.timer);
    const hwm = this.read('VmHWM');
    return {
      peakRssMiB: round(Math.max(hwm, this.peakKb) / 1024, 1),
      sampledPeakMiB: round(this.peakKb / 1024, 1),
      hwmMiB: round(hwm / 1024, 1),
    };
  }
}

let bundlePath: Promise<string> | undefined;

/** The workflow bundle, built once per bench and shared by its worker processes (bundling costs seconds). */
export function workflowBundleFile(): Promise<string> {
  bundlePath ??= (async () => {
    const file = path.join(os.tmpdir(), `kiosk-bench-bundle-${process.pid}.js`);
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m) },
    });
    fs.writeFileSync(file, code);
    process.once('exit', () => fs.rmSync(file, { force: true }));
    return file;
  })();
  return bundlePath;
}

let compiledDir: string | undefined;

/**
 * The project compiled as the Dockerfile's build stage compiles it (tsc -p tsconfig.build.json), once per
 * bench, into dist/ (ignored) so that its requires find node_modules; removed at exit.
 */
export function compiledProject(): string {
  if (compiledDir !== undefined) return compiledDir;
  const dir = path.join(REPO_ROOT, 'dist', `bench-${process.pid}`);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  compiledDir = dir;
  return dir;
}

/**
 * Runs the worker as a child process on the config's task queue, and waits until it polls. `nodeFlags`: more
 * of node's own flags (a bench's --cpu-prof).
 */
export async function startWorkerProcess(
  cfg: Config,
  launch: WorkerLaunch = DEPLOYED_WORKER,
  nodeFlags: readonly string[] = [],
): Promise<RunningProcess> {
  const env = { WORKFLOW_BUNDLE_PATH: await workflowBundleFile() };
  const nodeArgs = [
    ...(launch.heapMb === undefined ? [] : [`--max-old-space-size=${launch.heapMb}`]),
    ...nodeFlags,
  ];
  const worker = launch.compiled
    ? spawnNode(['--enable-source-maps', ...nodeArgs, path.join(compiledProject(), 'worker.js')], cfg, {
        NODE_OPTIONS: '',
        ...env,
      })
    : startEntryPoint('worker.ts', cfg, [], {
        ...env,
        ...(nodeArgs.length > 0 ? { NODE_OPTIONS: nodeArgs.join(' ') } : {}),
      });
  await waitForOutput(worker, /polling task queue/, 120_000);
  return worker;
}

/** SIGTERM (the worker drains and exits), then SIGKILL if it takes longer than `graceMs`. */
export async function stopProcess(p: RunningProcess, graceMs = 15_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

/** Writes bench/results/<name>-latest.json (earlier results live in git's history); returns its path. */
export function writeResult(name: string, result: unknown): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}-latest.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}

/**
 * What to undo if the bench stops early (an error, Ctrl-C): run in reverse order, reporting (not throwing)
 * failures, so one leak does not hide others.
 */
export class Cleanup {
  private readonly steps: { what: string; fn: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;
  private readonly late: Promise<void>[] = [];

  /**
   * Registers a step; the returned function unregisters it (once the caller has done it itself). Once the
   * cleanup has started, a step registered late (something created meanwhile) runs at once instead.
   */
  add(what: string, fn: () => Promise<unknown>): () => void {
    if (this.running !== undefined) {
      this.late.push(this.attempt({ what, fn }));
      return () => undefined;
    }
    const step = { what, fn };
    this.steps.push(step);
    return () => {
      const i = this.steps.indexOf(step);
      if (i !== -1) this.steps.splice(i, 1);
    };
  }

  private async attempt(step: { what: string; fn: () => Promise<unknown> }): Promise<void> {
    try {
      await step.fn();
    } catch (err) {
      progress(`cleanup: ${step.what} failed: ${(err as Error).message}`);
    }
  }

  /** Runs the steps once; a second caller (a signal during the normal ending) waits for the same run. */
  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) await this.attempt(this.steps.pop()!);
    })();
    return this.running;
  }

  /** Waits for the steps registered after run() started. */
  async settle(): Promise<void> {
    await Promise.all(this.late);
  }
}

let interrupted = false;

/**
 * On SIGINT or SIGTERM: undo what the bench created, give whatever was being created a moment to finish (and
 * be undone as it registers), then exit 130.
 */
export function cleanUpOnSignals(cleanup: Cleanup): void {
  const onSignal = () => {
    interrupted = true;
    progress('interrupted: cleaning up');
    void cleanup
      .run()
      .then(() => sleep(3000))
      .then(() => cleanup.settle())
      .then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

export interface ActivityTiming {
  count: number;
  /** Sum of the attempts' durations (start to completion), seconds. */
  totalS: number;
  maxS: number;
}

/** Per activity type, how long its completed attempts ran, read from a workflow's history. */
export function activityTimings(history: temporal.api.history.v1.IHistory): Record<string, ActivityTiming> {
  const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) =>
    Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  const byId = new Map<number, temporal.api.history.v1.IHistoryEvent>();
  for (const e of history.events ?? []) byId.set(Number(e.eventId), e);
  const out: Record<string, ActivityTiming> = {};
  for (const e of history.events ?? []) {
    const done = e.activityTaskCompletedEventAttributes;
    if (!done) continue;
    const scheduled = byId.get(Number(done.scheduledEventId));
    const startedAt = byId.get(Number(done.startedEventId));
    const type = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? 'unknown';
    const seconds = (ms(e.eventTime) - ms(startedAt?.eventTime)) / 1000;
    const t = (out[type] ??= { count: 0, totalS: 0, maxS: 0 });
    t.count++;
    t.totalS = round(t.totalS + seconds, 3);
    t.maxS = round(Math.max(t.maxS, seconds), 3);
  }
  return out;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds a process has used: its own (utime + stime) and, with `reaped`, its waited-for children's. */
function cpuSeconds(pid: number, reaped = false): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
    return ticks / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Parent pid of every live process. */
function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  return parents;
}

/** The process and all its live descendants. */
function processTree(root: number): number[] {
  const parents = parentPids();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, parent] of parents) if (parent === tree[i]) tree.push(pid);
  }
  return tree;
}

/** The first process whose command line contains every one of `parts`. */
export function findProcess(...parts: string[]): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (parts.every((p) => cmd.includes(p))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** The local stack's services (scripts/stack.sh), found by the state folder on their command lines. */
export function stackProcesses(): Record<string, { pid: number; tree: boolean }> {
  // Where scripts/stack.sh keeps the stack's state (STACK_DIR, as the script reads it).
  const state = process.env.STACK_DIR ?? path.join(REPO_ROOT, '.stack');
  const found: Record<string, { pid: number; tree: boolean }> = {};
  const temporal = findProcess('temporal', 'server', `${state}/temporal`);
  const kafka = findProcess('java', `${state}/kafka`);
  const postgres = findProcess('postgres', '-D', `${state}/postgres`);
  const s3 = findProcess('versitygw', state);
  if (temporal) found.temporal = { pid: temporal, tree: false };
  if (kafka) found.kafka = { pid: kafka, tree: false };
  // PostgreSQL is a process per connection: the postmaster and all its descendants (other users' sessions too).
  if (postgres) found.postgres = { pid: postgres, tree: true };
  if (s3) found.s3 = { pid: s3, tree: false };
  return found;
}

/**
 * CPU seconds each named process (or process tree) used between construction and stop(): where the time of a
 * run went. Trees count exited descendants through their ancestors' reaped-children time.
 */
export class CpuMeter {
  private readonly start = new Map<string, number>();

  constructor(private readonly processes: Record<string, { pid: number; tree: boolean }>) {
    for (const [name, p] of Object.entries(processes)) this.start.set(name, this.read(p));
  }

  private read(p: { pid: number; tree: boolean }): number {
    if (!p.tree) return cpuSeconds(p.pid);
    // An exited process's time is in the reaped-children time of exactly one live ancestor.
    return processTree(p.pid).reduce((sum, pid) => sum + cpuSeconds(pid, true), 0);
  }

  stop(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, p] of Object.entries(this.processes)) {
      out[name] = round(this.read(p) - (this.start.get(name) ?? 0), 1);
    }
    return out;
  }
}
