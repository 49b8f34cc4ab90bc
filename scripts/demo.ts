// The demo on the embedded defaults (run by `npm run demo` after the stack is up and migrated): generates
// realistic history, uploads it to the bucket and loads it through the batch workflow with a worker of its
// own; then runs the Kafka bridge and the kiosk simulator for a short while so live rows arrive; then writes
// the analysis report. It prints each step's result and where to look in the Temporal Web UI.
import { Upload } from '@aws-sdk/lib-storage';
import fs from 'node:fs';
import path from 'node:path';
import { runStreamDemo } from '../cli/stream-demo';
import { loadBridgeSettings } from '../bridge/settings';
import { runReport } from '../cli/report';
import { generateHistory } from '../simulator/history-files';
import { batchWorkflowId, formatSummary, startBatch } from '../cli/batch';
import { connectOrExplain, webUiLink } from '../cli/temporal-preflight';
import { loadConfig } from '../infra/config';
import { createS3Client } from '../infra/s3';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorker } from '../worker';
import { batchProgressQuery } from '../batch/workflow';

const ROWS = Number(process.env.DEMO_ROWS ?? 200_000);
const DATA_DIR = path.resolve(__dirname, '..', '.stack', 'demo', `history-${ROWS}`);
const PREFIX = 'demo/';
const STREAM_SECONDS = Number(process.env.DEMO_STREAM_SECONDS ?? 15);
const STREAM_RATE = Number(process.env.DEMO_STREAM_RATE ?? 200);
const REPORT_FILE = path.resolve(__dirname, '..', '.stack', 'demo', 'report.html');

function step(text: string): void {
  console.log(`\n== ${text}`);
}

async function main(): Promise<void> {
  const cfg = loadConfig();
  // The demo prints its own progress; the SDK's INFO lines (bundle statistics, worker states) would bury it.
  Runtime.install({ logger: new DefaultLogger('WARN') });

  step(`generating ${ROWS.toLocaleString('en-GB')} rows of kiosk history (the real format and noise)`);
  if (!fs.existsSync(path.join(DATA_DIR, 'lmnh_hist_data_0.csv'))) {
    await generateHistory({
      rows: ROWS,
      files: 4,
      seed: 2026,
      out: DATA_DIR,
      startDate: '2023-03-01',
      days: 30,
      sites: [0, 1, 2, 3, 4, 5],
    });
  }
  const files = fs.readdirSync(DATA_DIR).sort();
  console.log(`${files.length} files in ${DATA_DIR}`);

  step(`uploading to s3://${cfg.s3.bucket}/${PREFIX}`);
  const s3 = createS3Client(cfg.s3);
  for (const name of files) {
    await new Upload({
      client: s3,
      params: {
        Bucket: cfg.s3.bucket,
        Key: PREFIX + name,
        Body: fs.createReadStream(path.join(DATA_DIR, name)),
      },
    }).done();
  }
  s3.destroy();

  step('starting a worker and running the batch workflow');
  const client = await connectOrExplain(cfg);
  const { worker, close } = await createWorker(cfg);
  const running = worker.run();
  try {
    const handle = await startBatch(
      client,
      cfg,
      // reprocess: every demo run loads the files again (replacing its own earlier rows), so there is work to see.
      { source: `s3://${cfg.s3.bucket}/${PREFIX}`, reprocess: true },
      batchWorkflowId('batch'),
    );
    const link = webUiLink(cfg, handle.workflowId, handle.firstExecutionRunId);
    console.log(`workflow ${handle.workflowId}: ${link}`);
    const timer = setInterval(() => {
      handle
        .query(batchProgressQuery)
        .then((p) =>
          console.log(`  ${p.phase}: ${p.objectsLoaded}/${p.objectsTotal} objects, ${p.read} rows read`),
        )
        .catch(() => undefined);
    }, 2000);
    const started = Date.now();
    const summary = await handle.result().finally(() => clearInterval(timer));
    const seconds = (Date.now() - started) / 1000;
    step(
      `batch summary (${seconds.toFixed(1)} s, ${Math.round(summary.read / seconds).toLocaleString('en-GB')} rows/s)`,
    );
    console.log(formatSummary(summary, link));

    step(
      `stream: the bridge and the kiosk simulator for ${STREAM_SECONDS} s (${STREAM_RATE} presses/s, real noise)`,
    );
    await runStreamDemo(cfg, loadBridgeSettings(), {
      seconds: STREAM_SECONDS,
      rate: STREAM_RATE,
      seed: 2026,
      worker: false,
    });

    step(`report: written to ${REPORT_FILE} (open it in a browser); the text version follows`);
    await runReport({ format: 'html', out: REPORT_FILE });
    await runReport({ format: 'text' });
  } finally {
    worker.shutdown();
    await running;
    await close();
    await client.connection.close();
  }

  step('next');
  console.log(`Temporal Web UI: ${cfg.temporal.uiUrl} (every run, its search attributes and history)`);
  console.log('Live dashboard:  npm run dashboard  (then http://127.0.0.1:8787)');
  console.log('The stack keeps running; stop it with: npm run stack:down');
}

main().catch((err: unknown) => {
  console.error(`demo: ${(err as Error).message}`);
  process.exit(1);
});
