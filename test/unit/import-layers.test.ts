// The layer rule in eslint.config.mjs, checked on code it must refuse and code it must let through.
import assert from 'node:assert/strict';
import path from 'node:path';
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
    ['batch/load.ts', "import { batchWorkflow } from './workflow';", /Only workflow code/],
    ['stream/store.ts', "import { OffsetBuffer } from './workflow-buffer';", /Only workflow code/],
    ['stream/workflow.ts', "import { loadBatch } from './load';", /proxyActivities/],
    ['workflows/index.ts', "import { createKnex } from '../infra/db';", /proxyActivities/],
    ['domain/judge.ts', "import { createKnex } from '../infra/db';", /domain\/ may import only from itself/],
    ['infra/db.ts', "import { loadObject } from '../batch/load';", /infra\/ may import only/],
    ['report/queries.ts', "import { startBridge } from '../bridge/bridge';", /report\/ may import only/],
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
    ['stream/workflow.ts', "import type { Activities } from '../activities';"],
    ['stream/workflow.ts', "import { MAX_VALUE_BYTES } from '../contracts/stream';"],
    ['batch/load.ts', "import type { BatchObject } from '../contracts/batch';"],
    ['bridge/bridge.ts', "import { encodedMessageBytes } from '../contracts/stream';"],
    ['cli/batch.ts', "import { batchWorkflow } from '../batch/workflow';"],
  ];
  for (const [file, code] of allowed) {
    it(`lets ${file} ${code}`, async () => {
      assert.deepEqual(await layerViolations(file, `${code}\nexport const used = 1;\n`), []);
    });
  }
});
