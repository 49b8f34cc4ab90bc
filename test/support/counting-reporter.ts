// Mocha's spec output for people, plus the counts in a file so scripts/test.sh can print one summary line
// for the whole run (lint, typecheck, unit and integration suites together).
import fs from 'node:fs';
import Mocha from 'mocha';

const { EVENT_RUN_END } = Mocha.Runner.constants;

class CountingReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.MOCHA_STATS_FILE;
      if (!file || !runner.stats) return;
      const { passes, failures, pending } = runner.stats;
      fs.writeFileSync(file, JSON.stringify({ passes, failures, pending }));
    });
  }
}

export = CountingReporter;
