// Prebuilds the Temporal workflow bundle for production images and fast test workers.
//
//   npm run build:bundle                 -> dist/workflow-bundle.js
//   npm run build:bundle -- --out FILE   -> FILE
//
// The worker loads the file instead of bundling at start-up when WORKFLOW_BUNDLE_PATH points to it.
import { bundleWorkflowCode } from '@temporalio/worker';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..');
const workflowsIndex = path.join(repoRoot, 'workflows', 'index.ts');
const defaultOut = path.join(repoRoot, 'dist', 'workflow-bundle.js');

const usage = `Usage: tsx scripts/build-workflow-bundle.ts [--out FILE]

Bundles workflows/index.ts (and everything it imports) with the Temporal SDK's bundler and
writes the result to FILE (default: dist/workflow-bundle.js). Point WORKFLOW_BUNDLE_PATH at it.`;

function parseArgs(argv: string[]): { out: string } | 'help' {
  let out = defaultOut;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--out') {
      const value = argv[++i];
      if (!value) throw new Error('--out needs a file name');
      out = path.resolve(value);
    } else if (arg?.startsWith('--out=')) {
      out = path.resolve(arg.slice('--out='.length));
    } else {
      throw new Error(`unknown argument: ${arg}`);
    }
  }
  return { out };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args === 'help') {
    console.log(usage);
    return;
  }
  if (!existsSync(workflowsIndex)) {
    throw new Error(
      `${path.relative(process.cwd(), workflowsIndex)} not found: there is no workflow code to bundle yet`,
    );
  }

  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, code);
  const kib = Math.round(Buffer.byteLength(code) / 1024);
  console.log(
    `build-workflow-bundle: wrote ${path.relative(process.cwd(), args.out)} (${kib} KiB) in ${Date.now() - started} ms`,
  );
}

main().catch((err: unknown) => {
  console.error(`build-workflow-bundle: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
