// The stream demo: the bridge and the kiosk simulator run for a short while (with a worker, unless one is
// already serving the task queue), and the rows arriving in PostgreSQL are shown as they land.
import type { Config } from '../infra/config';
import { createKnex } from '../infra/db';
import { simulateTraffic } from '../simulator/kiosk-publishing';
import { REAL_NOISE } from '../simulator/kiosk-traffic';
import { createWorker } from '../worker';
import { startBridge } from '../bridge/bridge';
import { connectPublisher } from '../kafka/publisher';
import type { BridgeSettings } from '../bridge/settings';

export interface DemoOptions {
  seconds: number;
  rate: number;
  seed: number;
  /** Start a worker in this process (false when one already serves the task queue). */
  worker: boolean;
}

export interface DemoResult {
  published: number;
  interactions: number;
  rejects: number;
}

type Log = (line: string) => void;

async function storedRows(knex: ReturnType<typeof createKnex>, topic: string) {
  const r = await knex.raw<{ rows: { interactions: number; rejects: number }[] }>(
    `select (select count(*) from rating_interaction where source_topic = :topic)
          + (select count(*) from request_interaction where source_topic = :topic) as interactions,
            (select count(*) from rejected_interaction where source_topic = :topic) as rejects`,
    { topic },
  );
  return { interactions: Number(r.rows[0]?.interactions ?? 0), rejects: Number(r.rows[0]?.rejects ?? 0) };
}

export async function runStreamDemo(
  config: Config,
  settings: BridgeSettings,
  options: DemoOptions,
  log: Log = console.log,
): Promise<DemoResult> {
  const { topic } = config.kafka;
  const knex = createKnex(config.databaseUrl, 2);
  const stops: (() => Promise<void>)[] = [async () => knex.destroy()];
  try {
    const sites = await knex('exhibition').count<{ n: number }[]>({ n: '*' });
    if (Number(sites[0]?.n ?? 0) === 0) {
      log(
        'demo: no exhibition is known yet, so every press will be rejected as UNKNOWN_SITE (run a batch first)',
      );
    }
    if (options.worker) {
      const { worker, close } = await createWorker(config);
      const running = worker.run();
      stops.unshift(async () => {
        worker.shutdown();
        await running;
        await close();
      });
      log(`demo: worker polling task queue ${config.temporal.taskQueue}`);
    }
    const bridge = await startBridge(config, settings, (line) => log(`bridge: ${line}`));
    stops.unshift(() => bridge.stop());
    const publisher = await connectPublisher(config.kafka, topic);
    stops.unshift(() => publisher.close());

    const before = await storedRows(knex, topic);
    log(`demo: publishing ${options.rate}/s for ${options.seconds}s to ${topic} (seed ${options.seed})`);
    const started = Date.now();
    const ticker = setInterval(() => {
      void storedRows(knex, topic).then((now) =>
        log(
          `demo: ${Math.round((Date.now() - started) / 1000)}s  stored ${now.interactions - before.interactions} ` +
            `interactions and ${now.rejects - before.rejects} rejects so far`,
        ),
      );
    }, 1000);
    let published;
    try {
      published = await simulateTraffic(publisher, {
        rate: options.rate,
        durationS: options.seconds,
        noise: REAL_NOISE,
        seed: options.seed,
      });
      // Give the last flush (at most the flush age after the last signal) time to land.
      const deadline = Date.now() + 15_000;
      for (;;) {
        const now = await storedRows(knex, topic);
        const stored = now.interactions - before.interactions + now.rejects - before.rejects;
        if (stored >= published.messages || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      clearInterval(ticker);
    }
    const after = await storedRows(knex, topic);
    const result = {
      published: published.messages,
      interactions: after.interactions - before.interactions,
      rejects: after.rejects - before.rejects,
    };
    log(
      `demo: published ${result.published}; stored ${result.interactions} interactions and ${result.rejects} ` +
        `rejects (${result.published - result.interactions - result.rejects} still on the way)`,
    );
    log(
      `demo: the stream workflows in the Web UI: ${config.temporal.uiUrl}/namespaces/` +
        `${config.temporal.namespace}/workflows?query=${encodeURIComponent(`KioskPipeline="stream"`)}`,
    );
    return result;
  } finally {
    for (const stop of stops) await stop();
  }
}
