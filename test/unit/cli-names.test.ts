// One command name everywhere: every `kiosk …` command the READMEs, the alerts, the Dockerfile, the bridge's
// messages and the CLI's own help texts name exists in the program, with the options they pass.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../client';
import { checkCommand, namedCommands } from '../support/cli-names';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCUMENTS = [
  'README.md',
  'terraform/README.md',
  'bridge/README.md',
  'monitoring/alerts.yml',
  'monitoring/tests/alerts.test.yml',
  'Dockerfile',
  'worker.ts',
  'report/database.ts',
  'bridge/backpressure.ts',
  'bridge/main.ts',
  'bridge/signal-sink.ts',
  'cli/stream.ts',
];

/** Every command's full --help text, the texts added before and after it included. */
function helpTexts(program: Command): string[] {
  const texts: string[] = [];
  const walk = (cmd: Command) => {
    let text = '';
    cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    cmd.outputHelp();
    texts.push(text);
    cmd.commands.forEach(walk);
  };
  walk(program);
  return texts;
}

describe('one command name everywhere', () => {
  const program = buildProgram();

  it('finds the commands a text names, and refuses names and options the program does not have', () => {
    const text = [
      'Check `kiosk stream status` and `npx kiosk rejects list --json`; a kiosk at the exit is prose.',
      '```sh',
      'npx kiosk batch run --wait            # a comment naming kiosk nothing',
      'run_once kiosk deploy drained $PREV',
      '```',
      '  kiosk report --format html --out report.html',
    ].join('\n');
    const named = namedCommands(text);
    assert.deepEqual(named, [
      'stream status',
      'rejects list --json',
      'batch run --wait',
      'deploy drained $PREV',
      'report --format html --out report.html',
    ]);
    assert.deepEqual(
      named.map((c) => checkCommand(program, c)),
      named.map(() => undefined),
    );
    assert.match(checkCommand(program, 'stream stauts') ?? '', /stream has no command 'stauts'/);
    assert.match(checkCommand(program, 'client stream status') ?? '', /has no command 'client'/);
    assert.match(checkCommand(program, 'rejects replay --dryrun') ?? '', /takes no option --dryrun/);
    assert.match(checkCommand(program, 'db') ?? 'x', /x/, 'a group alone names no missing command');
  });

  for (const file of DOCUMENTS) {
    it(`every kiosk command ${file} names exists`, () => {
      const named = namedCommands(fs.readFileSync(path.join(ROOT, file), 'utf8'));
      assert.ok(named.length > 0, `${file} names no kiosk command`);
      assert.deepEqual(
        named.map((c) => checkCommand(program, c)).filter((e) => e !== undefined),
        [],
      );
      assert.doesNotMatch(
        fs.readFileSync(path.join(ROOT, file), 'utf8'),
        /npm run client|node dist\/client\.js/,
      );
    });
  }

  it('every kiosk command the help texts name exists, and every help lists the exit codes', () => {
    const texts = helpTexts(buildProgram());
    assert.ok(texts.length > 30, `only ${texts.length} help texts`);
    const named = texts.flatMap(namedCommands);
    assert.ok(named.length >= 3, `the help texts name ${named.length} commands`);
    assert.deepEqual(
      named.map((c) => checkCommand(program, c)).filter((e) => e !== undefined),
      [],
    );
    for (const text of texts) {
      assert.match(text, /^Usage: kiosk /m);
      assert.match(
        text,
        /Exit codes:\n {2}0 {2}done[\s\S]*\n {2}2 {2}usage or configuration[\s\S]*\n {2}3 {2}not yet/,
      );
    }
  });

  it('the README and the worker help name the same deploy command', () => {
    const readme = namedCommands(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    const worker = fs.readFileSync(path.join(ROOT, 'worker.ts'), 'utf8');
    const help = /const HELP = `([\s\S]*?)`;\n/.exec(worker)?.[1] ?? '';
    assert.match(help, /\(kiosk deploy promote <build-id>\)/);
    assert.doesNotMatch(help, /set-current-version/);
    assert.ok(readme.some((c) => c.startsWith('deploy promote')));
    assert.ok(readme.some((c) => c.startsWith('deploy drained')));
  });
});
