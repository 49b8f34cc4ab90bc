// Comments that stay true: every repository path a comment names exists, and no comment or code carries an
// issue-tracker number. The checker itself is tested first on comments it must refuse and let through.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { commentsOf, issueNumbers, pathsNamed, RepositoryTree, stalePaths } from '../support/comments';

describe('comments', function () {
  this.timeout(60_000);
  const tree = new RepositoryTree();
  const sources = tree.files
    .map((file) => ({ file, source: fs.readFileSync(path.join(tree.root, file), 'utf8') }))
    .filter(({ file, source }) => commentsOf(file, source).length > 0);

  describe('the checker', () => {
    const stale = (file: string, source: string) => stalePaths(tree, file, source).map((s) => s.named);

    it('finds comments in code, in shell scripts, and not in strings or here-documents', () => {
      const ts = "const url = 'http://x/y.ts'; // one\n/* two */ const s = `// no`;\n/** three */\n";
      assert.deepEqual(
        commentsOf('a.ts', ts).map((c) => c.text),
        ['// one', '/* two */', '/** three */'],
      );
      const sh = '#!/usr/bin/env bash\n# one\necho "# no" $# ${#a[@]} # two\ncat <<EOF\n# no\nEOF\n';
      assert.deepEqual(
        commentsOf('a.sh', sh).map((c) => c.text),
        ['# one', '# two'],
      );
    });

    it('refuses the names of files that are gone, bare or with their folder', () => {
      assert.deepEqual(
        stale(
          'batch/activities.ts',
          '// see batch-load.ts, batch-objects.ts and stream-topic.ts\n' +
            '/** activities/object-tables.ts and workflows/gone.ts, test/integration/gone.test.ts */\n' +
            'export const x = 1; // scripts/gone.sh, ./gone.ts, ../batch/gone.ts, migrations/gone/\n',
        ),
        [
          'batch-load.ts',
          'batch-objects.ts',
          'stream-topic.ts',
          'activities/object-tables.ts',
          'workflows/gone.ts',
          'test/integration/gone.test.ts',
          'scripts/gone.sh',
          './gone.ts',
          '../batch/gone.ts',
          'migrations/gone/',
        ],
      );
      assert.deepEqual(stale('scripts/demo.sh', '# runs scripts/stack.sh, then gone.sh\n'), ['gone.sh']);
    });

    it('lets through paths that exist, URLs, packages, globs, outputs and what lies beyond the repository', () => {
      const fine =
        '// batch/load.ts, load.ts, ./load.ts, ../stream/load.ts, scripts/stack.sh, package.json, kafka/, test/\n' +
        '// https://github.com/temporalio/samples-typescript/blob/main/x/src/shared.ts, file:///data/a.ts\n' +
        '// @temporalio/workflow, node:fs, s3://bucket/key.json, test/**/*.test.ts, */workflow*.ts, *.ts\n' +
        '// lmnh_exhibition_*.json, <name>-latest.json, ${DIR}/x.sh, dist/worker.js, .stack/logs/\n' +
        '// ../shared/docs/SPEC.md, a.csv, temporal.toml, Node.js, e.g. i.e. v1.5.1, read/written\n';
      assert.deepEqual(stale('batch/activities.ts', fine), []);
      assert.deepEqual(pathsNamed('// (see batch/load.ts).'), ['batch/load.ts']);
    });

    it('finds issue numbers in code and comments, not colours', () => {
      const src = "// fixed in issue 12 (#25)\nconst help = 'Targets (Issue 7)';\nconst c = '#222';\n";
      assert.deepEqual(
        issueNumbers('a.ts', src).map((i) => i.text),
        ['issue 12', 'Issue 7', '#25'],
      );
    });
  });

  it(`reads the comments of the repository's code (${sources.length} files)`, () => {
    for (const f of ['batch/activities.ts', 'scripts/stack.sh', 'eslint.config.mjs', 'terraform/ecs.tf']) {
      assert.ok(
        sources.some((s) => s.file === f),
        `${f} has comments`,
      );
    }
  });

  it('names no repository path that does not exist (migrations aside: one shipped is never edited)', () => {
    // A migration's comments describe the tree of the release that shipped it, and a shipped one changed by
    // a byte fails test/integration/deploy/release-replay.test.ts, comments included.
    const stale = sources
      .filter((s) => !s.file.startsWith('migrations/'))
      .flatMap(({ file, source }) => stalePaths(tree, file, source));
    assert.deepEqual(
      stale.map((s) => `${s.file}:${s.line}: ${s.named}`),
      [],
    );
  });

  it('carries no issue numbers', () => {
    // This file's own examples above name some on purpose.
    const self = path.relative(tree.root, __filename).split(path.sep).join('/');
    const found = sources
      .filter((s) => s.file !== self)
      .flatMap(({ file, source }) => issueNumbers(file, source));
    assert.deepEqual(
      found.map((s) => `${s.file}:${s.line}: ${s.text}`),
      [],
    );
  });
});
