// The layer rule in eslint.config.mjs, checked on code it must refuse and code it must let through.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '..', '..');
const LAYER_RULES = new Set(['no-restricted-imports', '@typescript-eslint/no-restricted-imports']);

async function layerViolations(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => LAYER_RULES.has(m.ruleId ?? '')).map((m) => m.message);
}

describe('import layers (eslint.config.mjs)', function () {
  this.timeout(180_000);

  const refused: [string, string, RegExp][] = [
    ['bridge/bridge.ts', "import { registerBatchCommands } from '../cli/batch';", /bridge\/ may import only/],
    [
      'bridge/bridge.ts',
      "import { createStreamActivities } from '../stream/load';",
      /bridge\/ may import only/,
    ],
    ['batch/load.ts', "import { batchWorkflow } from './workflow';", /Only workflow code/],
    ['stream/store.ts', "import { OffsetBuffer } from './workflow-buffer';", /Only workflow code/],
    [
      'activities/index.ts',
      "import { healthCheck } from '../workflows/health';",
      /activities\/ may import only/,
    ],
    // The pipelines sit below the composition roots, their workflow files included, even for types.
    ['batch/activities.ts', "import { createActivities } from '../activities';", /batch\/ may import only/],
    ['stream/load.ts', "import type { ActivityDeps } from '../activities';", /stream\/ may import only/],
    ['batch/workflow.ts', "import type { Activities } from '../activities';", /batch\/ may import only/],
    ['stream/workflow.ts', "import { healthCheck } from '../workflows/health';", /stream\/ may import only/],
    ['replay/workflow.ts', "import { createActivities } from '../activities';", /replay\/ may import only/],
    // The sandbox still holds in workflow code.
    ['stream/workflow.ts', "import { loadBatch } from './load';", /proxyActivities/],
    ['batch/workflow.ts', "import { readFileSync } from 'node:fs';", /deterministic: do I\/O/],
    ['batch/workflow-objects.ts', "import { withPgClient } from '../infra/db';", /proxyActivities/],
    ['workflows/index.ts', "import { createKnex } from '../infra/db';", /proxyActivities/],
    [
      'workflows/health.ts',
      "import { createHealthActivities } from '../activities/health';",
      /proxyActivities/,
    ],
    ['domain/judge.ts', "import { createKnex } from '../infra/db';", /domain\/ may import only from itself/],
    ['infra/db.ts', "import { loadObject } from '../batch/load';", /infra\/ may import only/],
    ['report/queries.ts', "import { startBridge } from '../bridge/bridge';", /report\/ may import only/],
    ['worker.ts', "import { registerBatchCommands } from './cli/batch';", /worker\.ts may import only/],
  ];
  for (const [file, code, message] of refused) {
    it(`refuses in ${file}: ${code}`, async () => {
      const found = await layerViolations(file, `${code}\nexport const used = 1;\n`);
      assert.ok(
        found.some((m) => message.test(m)),
        `expected ${String(message)}, got ${JSON.stringify(found)}`,
      );
    });
  }

  const allowed: [string, string][] = [
    ['stream/workflow.ts', "import type { StreamActivities } from './load';"],
    ['stream/workflow.ts', "import { MAX_VALUE_BYTES } from '../contracts/stream';"],
    ['batch/workflow.ts', "import { BATCH_STEP } from '../contracts/activity-policies';"],
    ['replay/workflow.ts', "import { batchWorkflow } from '../batch/workflow';"],
    ['workflows/health.ts', "import type { HealthActivities } from '../activities/health';"],
    ['workflows/index.ts', "import { streamPartition } from '../stream/workflow';"],
    ['activities/index.ts', "import { createBatchActivities } from '../batch/activities';"],
    ['batch/activities.ts', "import { whileBeating } from '../infra/heartbeat';"],
    ['stream/load.ts', "import { exhibitionIdsBySite } from '../catalogue/exhibitions';"],
    ['batch/load.ts', "import type { BatchObject } from '../contracts/batch';"],
    ['bridge/bridge.ts', "import { encodedMessageBytes } from '../contracts/stream';"],
    ['cli/batch.ts', "import { batchWorkflow } from '../batch/workflow';"],
    ['worker.ts', "import { createActivities } from './activities';"],
  ];
  for (const [file, code] of allowed) {
    it(`lets ${file} ${code}`, async () => {
      assert.deepEqual(await layerViolations(file, `${code}\nexport const used = 1;\n`), []);
    });
  }

  it('puts every top-level folder of code in a layer', async () => {
    const configUrl = pathToFileURL(path.join(ROOT, 'eslint.config.mjs')).href;
    const { FOLDERS } = (await import(configUrl)) as { FOLDERS: string[] };
    const unlayered = ['test', 'bench', 'scripts', 'node_modules', 'dist'];
    const withCode = fs
      .readdirSync(ROOT, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !unlayered.includes(e.name))
      .filter((e) =>
        fs.readdirSync(path.join(ROOT, e.name), { recursive: true }).some((f) => String(f).endsWith('.ts')),
      )
      .map((e) => e.name);
    assert.ok(withCode.includes('batch') && withCode.includes('catalogue'), JSON.stringify(withCode));
    assert.deepEqual(
      withCode.filter((f) => !FOLDERS.includes(f)),
      [],
    );
  });
});
