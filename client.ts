// The operator's command line, `kiosk` (package.json "bin"; `npx kiosk` in a checkout, `kiosk` in the image):
// `kiosk <command> --help` for each command. Exit codes are in cli/exit.ts and at the end of every --help.
import { Command, CommanderError } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { registerBatchCommands } from './cli/batch';
import { registerDbCommands } from './cli/db';
import { registerDeployCommands } from './cli/deploy';
import { classifyError, EXIT, EXIT_CODES_HELP } from './cli/exit';
import { registerRejectsCommands } from './cli/rejects';
import { registerReportCommands } from './cli/report';
import { registerScheduleCommands } from './cli/schedule';
import { registerSimulateHistory } from './cli/simulate-history';
import { registerSimulateCommands } from './cli/simulate-kiosks';
import { registerStreamCommands } from './cli/stream';
import { loadDotEnv } from './infra/dotenv';
import { deploymentName } from './infra/worker-deployment';

export const COMMAND_NAME = 'kiosk';

/** The release: package.json's version, found next to the sources or one folder above dist/. */
export function releaseVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kiosk-pipeline') return pkg.version ?? 'unknown';
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

/** The release and the Worker Versioning build id this process runs as (the image tag in production). */
export function versionText(env: Record<string, string | undefined> = process.env): string {
  const buildId = (env.TEMPORAL_WORKER_BUILD_ID ?? '').trim();
  return (
    `kiosk-pipeline ${releaseVersion()}\n` +
    (buildId
      ? `build id ${buildId} (Worker Deployment ${deploymentName(env)})`
      : 'build id: none (TEMPORAL_WORKER_BUILD_ID is not set: unversioned)')
  );
}

export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function eachCommand(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) eachCommand(sub, fn);
}

export function buildProgram(): Command {
  const program = new Command(COMMAND_NAME)
    .description(
      'kiosk-pipeline operator CLI: batch runs, schedules, stream state, rejects, database, reports, deploys',
    )
    .version(versionText(), '-V, --version', 'print the release and the Worker Versioning build id')
    // Inherited by every command made after this: errors come back here instead of exiting on the spot.
    .exitOverride()
    .addHelpText(
      'after',
      '\nSettings come from the environment (.env.example lists them with their local defaults).',
    )
    .addHelpText('afterAll', EXIT_CODES_HELP);
  registerBatchCommands(program);
  registerScheduleCommands(program);
  registerDbCommands(program);
  registerStreamCommands(program);
  registerSimulateCommands(program);
  registerReportCommands(program);
  registerRejectsCommands(program);
  registerDeployCommands(program);
  // `simulate kiosks` (Kafka) and `simulate history` (CSV files) share one group.
  const simulate =
    program.commands.find((c) => c.name() === 'simulate') ??
    program.command('simulate').description('generate realistic kiosk data');
  registerSimulateHistory(simulate);
  // A usage error prints its one line and where the full usage is, not the whole help.
  eachCommand(program, (c) => c.showHelpAfterError(`(run '${commandPath(c)} --help' for usage)`));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  let acting: Command = program;
  program.hook('preAction', (_program, actionCommand) => {
    acting = actionCommand;
  });
  try {
    await program.parseAsync(argv);
    return EXIT.done;
  } catch (err) {
    // Commander has printed its message already; help and --version end with 0, every misuse with 2.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.done : EXIT.usage;
    const { code, line, help } = classifyError(err);
    console.error(`error: ${line}`);
    if (help === 'command') console.error(`(run '${commandPath(acting)} --help' for usage)`);
    if (help === 'program') console.error(`(run '${COMMAND_NAME} --help' for where settings come from)`);
    return code;
  }
}

/** Runs the command line and exits with its code once standard output is flushed (a pipe may lag behind). */
export function run(): void {
  loadDotEnv();
  // A reader that went away (`kiosk rejects export --out - | head`) ends the command, without a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.failed);
    throw err;
  });
  const exit = (code: number) => process.stdout.write('', () => process.exit(code));
  main(process.argv).then(exit, (err: unknown) => {
    console.error(`error: ${String(err)}`);
    exit(EXIT.failed);
  });
}

if (require.main === module) run();
