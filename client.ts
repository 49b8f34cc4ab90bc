// The operator's command line: `npm run client -- <command> --help` for each command.
import { Command, CommanderError } from 'commander';
import { registerBatchCommands } from './cli/batch';
import { registerDbCommands } from './cli/db';
import { registerDeployCommands } from './cli/deploy';
import { registerRejectsCommands } from './cli/rejects';
import { registerReportCommands } from './cli/report';
import { registerScheduleCommands } from './cli/schedule';
import { registerSimulateHistory } from './cli/simulate-history';
import { registerSimulateCommands } from './cli/simulate-kiosks';
import { registerStreamCommands } from './cli/stream';
import { ConfigError } from './infra/config';
import { loadDotEnv } from './infra/dotenv';

export function buildProgram(): Command {
  const program = new Command('client')
    .description(
      'kiosk-pipeline operator CLI: batch runs, schedules, stream state, rejects, database, reports, deploys',
    )
    .showHelpAfterError()
    .exitOverride();
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
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ConfigError) {
      console.error(`error: ${err.message}`);
      return 2;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  loadDotEnv();
  main(process.argv).then(
    (code) => process.exit(code),
    () => process.exit(1),
  );
}
