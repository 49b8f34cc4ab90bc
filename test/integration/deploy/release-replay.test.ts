// The previous release (test/fixtures/releases/PREVIOUS) against the current code, without services: every
// workflow type it served has a recorded history (deploy.test.ts records them with RECORD_HISTORY=1) that
// replays deterministically here, and its migrations are still in migrations/ unchanged, so the schema the
// current code migrates to is the release's plus additions (deploy.test.ts runs the release's worker on it).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MIGRATIONS_DIR } from '../../../infra/db';
import * as workflows from '../../../workflows';
import { previousRelease, RELEASES_DIR } from '../../support/release';
import { HISTORY_FIXTURES, itReplaysRecordedHistories } from '../../support/replay';

const commit = previousRelease();
const archive = path.join(RELEASES_DIR, `${commit}.tar.gz`);
const fromRelease = (file: string): Buffer => execFileSync('tar', ['-xzOf', archive, file]);

describe(`release ${commit}'s workflow histories replay against the current code`, function () {
  const served = fromRelease('workflows/index.ts').toString('utf8');
  // The workflow types the current code serves that the release served too (new ones have no history yet).
  const types = Object.entries(workflows)
    .filter(([name, value]) => typeof value === 'function' && new RegExp(`\\b${name}\\b`).test(served))
    .map(([name]) => name);

  it('shares workflow types with the current code', () => assert.ok(types.length > 0));
  for (const type of types) {
    it(`has a recorded history of ${type}`, function () {
      const history = path.join(HISTORY_FIXTURES, `release-${commit}-${type}.history.pb`);
      assert.ok(
        fs.existsSync(history),
        'record it: RECORD_HISTORY=1 npx mocha test/integration/deploy/deploy.test.ts',
      );
    });
  }

  itReplaysRecordedHistories('release-');
});

describe(`release ${commit}'s migrations`, function () {
  const listed = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => /^migrations\/.+\.ts$/.test(f));

  it('are all still here, unchanged (a migration that ran in production is never edited)', function () {
    assert.ok(listed.length > 0);
    for (const file of listed) {
      const current = path.join(MIGRATIONS_DIR, path.basename(file));
      assert.ok(fs.existsSync(current), `${file} was removed`);
      assert.ok(fs.readFileSync(current).equals(fromRelease(file)), `${file} was edited`);
    }
  });
});
