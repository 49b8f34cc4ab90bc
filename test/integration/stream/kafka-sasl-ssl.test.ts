// Kafka as MSK and Confluent Cloud run it: the stack's second listener is SASL_SSL, its certificate from the
// stack's own CA and its user created with Kafka's own tool (SCRAM-SHA-512). The bridge streams over it
// exactly; a wrong password or a CA that did not sign the broker's certificate is a clear error and a 503 on
// /readyz while the bridge keeps trying (no exit, no crash loop), and once the setting is fixed nothing is lost.
import assert from 'node:assert/strict';
import { connectPublisher } from '../../../kafka/publisher';
import { simulateTraffic } from '../../../simulator/kiosk-publishing';
import { REAL_NOISE } from '../../../simulator/kiosk-traffic';
import { startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import { kafkaSaslSslEnv, opsAddress, OTHER_CA, readyz, saslSslKafka } from '../../support/secure-stack';
import {
  assertStoredExactly,
  CRASH_BRIDGE_ENV,
  countStored,
  expectedOutcome,
  readTopic,
  setUpStream,
  tearDownStream,
  waitUntil,
  type StreamEnv,
} from '../../support/stream';
import { startTestWorker, type TestWorker } from '../../support/test-worker';

const MESSAGES = 1500;

describe('stream over SASL_SSL (SCRAM-SHA-512, private CA)', function () {
  this.timeout(300_000);
  let env: StreamEnv;
  let worker: TestWorker | undefined;
  const processes: RunningProcess[] = [];

  const bridge = (overrides: Record<string, string> = {}) => {
    const p = startEntryPoint('bridge/main.ts', env.cfg, [], {
      ...CRASH_BRIDGE_ENV,
      ...kafkaSaslSslEnv(overrides),
    });
    processes.push(p);
    return p;
  };

  before(async () => {
    env = await setUpStream('kafka-sasl-ssl', 2);
    worker = await startTestWorker(env.cfg);
  });
  after(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await worker?.stop();
    await tearDownStream(env);
  });

  it('refuses a wrong password and an unknown CA clearly, stays up, then stores every message exactly', async () => {
    // Published over the same listener, as SCRAM-SHA-512 with the stack's CA.
    const secure = { ...env.cfg, kafka: saslSslKafka(env.cfg) };
    const publisher = await connectPublisher(secure.kafka, secure.kafka.topic);
    try {
      await simulateTraffic(publisher, {
        rate: 3000,
        durationS: MESSAGES / 3000,
        noise: REAL_NOISE,
        seed: 24,
      });
    } finally {
      await publisher.close();
    }

    const wrongPassword = bridge({ KAFKA_SASL_PASSWORD: 'not-the-password' });
    const unknownCa = bridge({ KAFKA_SSL_CA: OTHER_CA });
    const cases = [
      {
        p: wrongPassword,
        error:
          /bridge: cannot start: Kafka refused the login: .*authentication failed.*check KAFKA_SASL_USERNAME 'kiosk-scram' and KAFKA_SASL_PASSWORD \(KAFKA_SASL_MECHANISM scram-sha-512\); trying again/,
        check: /KAFKA_SASL_PASSWORD/,
      },
      {
        p: unknownCa,
        error:
          /bridge: cannot start: Kafka's TLS certificate is not trusted \(.*\): KAFKA_SSL_CA must hold the CA that signed it.*; trying again/,
        check: /KAFKA_SSL_CA/,
      },
    ];
    for (const c of cases) {
      await waitForOutput(c.p, c.error, 120_000);
      const ready = await readyz(await opsAddress(c.p));
      assert.equal(ready.status, 503, JSON.stringify(ready));
      assert.match(ready.checks.kafka ?? '', c.check);
      assert.equal(ready.checks.postgres, 'ok');
      // It tries again rather than exiting (a restart loop would not make the password right).
      await waitUntil(
        'a second attempt',
        () => Promise.resolve(c.p.output().split('cannot start').length > 2),
        60_000,
      );
      assert.equal(c.p.child.exitCode, null, c.p.output());
      assert.doesNotMatch(c.p.output(), /not-the-password/, 'the wrong password is never printed');
    }
    assert.equal(await countStored(env.knex, env.cfg.kafka.topic), 0);
    for (const c of cases) {
      c.p.child.kill('SIGTERM');
      assert.equal(await c.p.exited, 0, c.p.output());
    }

    // The settings fixed: everything published is stored, exactly.
    const good = bridge();
    await waitForOutput(good, /bridge: consuming/, 120_000);
    await waitUntil(
      'every message stored',
      async () => (await countStored(env.knex, env.cfg.kafka.topic)) >= MESSAGES,
      180_000,
      500,
    );
    const records = await readTopic(secure, MESSAGES);
    assert.equal(records.length, MESSAGES);
    await assertStoredExactly(env.knex, env.cfg.kafka.topic, expectedOutcome(records));
    const ready = await readyz(await opsAddress(good));
    assert.equal(ready.status, 200, JSON.stringify(ready));
  });
});
