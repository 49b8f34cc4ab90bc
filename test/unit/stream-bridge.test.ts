import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Backpressure } from '../../bridge/backpressure';
import { BRIDGE_VARIABLES, loadBridgeSettings } from '../../bridge/settings';
import { REPO_ROOT } from '../support/isolated-env';
import { waitFor } from '../support/wait';
import { chunkMessages, toStreamMessage } from '../../contracts/stream-chunks';
import { ConfigError } from '../../infra/config';
import {
  encodedMessageBytes,
  MAX_VALUE_BYTES,
  OVERSIZE_KEPT_BYTES,
  resolveSettings,
  type StreamMessage,
} from '../../contracts/stream';

const message = (offset: number, bytes: number): StreamMessage => ({
  offset,
  value: 'A'.repeat(bytes),
  timestamp: 0,
});

describe('bridge: signal chunks', () => {
  it('carries values as base64 so that any byte survives, and a tombstone as null', () => {
    const raw = Buffer.from([0xff, 0x00, 0xfe, 0x41]);
    const m = toStreamMessage({ offset: 7, value: raw, timestamp: 123 });
    assert.deepEqual(m, { offset: 7, value: raw.toString('base64'), timestamp: 123 });
    assert.deepEqual(Buffer.from(m.value ?? '', 'base64'), raw);
    assert.equal(toStreamMessage({ offset: 8, value: null, timestamp: 0 }).value, null);
  });

  it('splits by bytes and by count, keeping offset order', () => {
    const messages = Array.from({ length: 10 }, (_, i) => message(i, 100));
    const size = encodedMessageBytes(messages[0]!);
    const byBytes = chunkMessages(messages, size * 3, 1000);
    assert.deepEqual(
      byBytes.map((c) => c.map((m) => m.offset)),
      [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]],
    );
    const byCount = chunkMessages(messages, 1e9, 4);
    assert.deepEqual(
      byCount.map((c) => c.length),
      [4, 4, 2],
    );
    assert.deepEqual(chunkMessages([], 100, 100), []);
  });

  it('keeps a value up to the limit whole, and of a bigger one its first 64 KiB and its length', () => {
    const atLimit = Buffer.alloc(MAX_VALUE_BYTES, 0x61);
    assert.deepEqual(toStreamMessage({ offset: 1, value: atLimit, timestamp: 0 }), {
      offset: 1,
      value: atLimit.toString('base64'),
      timestamp: 0,
    });
    const over = Buffer.concat([Buffer.alloc(OVERSIZE_KEPT_BYTES, 0x62), Buffer.alloc(3_000_000, 0x63)]);
    const m = toStreamMessage({ offset: 2, value: over, timestamp: 5 });
    assert.deepEqual(
      { ...m, value: Buffer.from(m.value ?? '', 'base64') },
      { offset: 2, value: Buffer.alloc(OVERSIZE_KEPT_BYTES, 0x62), timestamp: 5, length: over.length },
    );
  });

  it('sends a value bigger than a chunk alone', () => {
    const chunks = chunkMessages([message(0, 10), message(1, 5000), message(2, 10)], 1000, 100);
    assert.deepEqual(
      chunks.map((c) => c.map((m) => m.offset)),
      [[0], [1], [2]],
    );
  });
});

describe('bridge: settings', () => {
  it('has production defaults', () => {
    const s = loadBridgeSettings({});
    assert.equal(s.signalMaxBytes, 1024 * 1024);
    assert.equal(s.signalMaxPackedBytes, 4 * 1024 * 1024);
    assert.equal(s.signalMaxMessages, 20_000);
    assert.equal(s.fetchMaxBytesPerPartition, 4 * 1024 * 1024);
    assert.equal(s.fetchMaxBytes, 64 * 1024 * 1024);
    assert.equal(s.fetchMaxDecodedBytes, 16 * 1024 * 1024);
    assert.equal(s.maxPending, 60_000);
    // Resumed once a signal's worth fits again, and asked again soon after an answer while behind.
    assert.equal(s.resumePending, 40_000);
    assert.equal(s.behindPollMs, 100);
    assert.equal(loadBridgeSettings({ STREAM_SIGNAL_MAX_MESSAGES: '50000' }).resumePending, 30_000);
    assert.equal(loadBridgeSettings({ STREAM_SIGNAL_MAX_MESSAGES: '1000' }).resumePending, 45_000);
    assert.equal(loadBridgeSettings({ STREAM_PROBE_MS: '60' }).behindPollMs, 60);
    assert.equal(s.workflow.flush.maxMessages, 20_000);
    // The bridge's fallback, sent in full settings; the workflow's own default stays 100 for replay.
    assert.equal(s.workflow.flush.maxAgeMs, 0);
    assert.equal(resolveSettings(s.workflow).flush.maxAgeMs, 0);
    assert.equal(resolveSettings({}).flush.maxAgeMs, 100);
    assert.equal(s.pollMs, 1000);
    assert.equal(s.workflow.continueAsNewAfterEvents, 4000);
    assert.equal(s.sessionTimeoutMs, 30_000);
  });

  it('.env.example lists every tuning variable with its default', () => {
    const example = fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
    for (const v of Object.values(BRIDGE_VARIABLES)) {
      assert.match(example, new RegExp(`^# ${v.name}=${v.fallback}$`, 'm'), v.name);
    }
  });

  it('names every bad variable', () => {
    assert.throws(
      () =>
        loadBridgeSettings({
          STREAM_SIGNAL_MAX_BYTES: '12',
          STREAM_CONTINUE_AS_NEW_EVENTS: 'soon',
          KAFKA_SESSION_TIMEOUT_MS: '6000',
          KAFKA_HEARTBEAT_INTERVAL_MS: '3000',
          STREAM_FETCH_MAX_BYTES: '1048576',
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 4 &&
        /STREAM_SIGNAL_MAX_BYTES/.test(err.message) &&
        /STREAM_CONTINUE_AS_NEW_EVENTS/.test(err.message) &&
        /a third of KAFKA_SESSION_TIMEOUT_MS/.test(err.message) &&
        /STREAM_FETCH_MAX_BYTES must be at least STREAM_FETCH_MAX_BYTES_PER_PARTITION/.test(err.message),
    );
  });
});

describe('bridge: backpressure', () => {
  const limits = { maxPending: 100, resumePending: 50, pollMs: 1000 };
  const lag = (pending: number, draining = false) => ({ pending, draining });

  it('never waits for the workflow: over the limit it pauses at a batch start, goes on mid-batch, probes in the background', async () => {
    let asked = 0;
    let now = 0;
    const bp = new Backpressure(
      () => {
        asked++;
        return Promise.resolve(lag(10));
      },
      limits,
      () => undefined,
      () => now,
    );
    assert.equal(bp.mustPause(0, true), false, 'nothing sent yet');
    assert.equal(asked, 0);
    now = 10_000;
    bp.noteDelivered(0, 100);
    assert.equal(bp.mustPause(0, true), false);
    assert.equal(asked, 1, 'the interval had passed: a background probe');
    await bp.settled();
    bp.noteDelivered(0, 50);
    assert.equal(bp.mustPause(0, true), false, 'estimate 60 (the probe said 10), probed just now');
    assert.equal(bp.isOverLimit(0), false);
    bp.noteDelivered(0, 41);
    assert.equal(
      bp.mustPause(0, false),
      false,
      'estimate 101 is over the limit, but mid-batch the batch goes on',
    );
    assert.equal(bp.isOverLimit(0), true, 'and ends with a pause');
    assert.equal(bp.mustPause(0, true), true, 'at the start of a batch it pauses');
    assert.equal(asked, 1, 'without asking: the poll that follows the pause asks');
    now += 1000;
    assert.equal(bp.mustPause(0, false), false);
    assert.equal(asked, 2, 'interval passed again');
  });

  it('sends record blocks only once the workflow said it takes them, and stops when it no longer says so', async () => {
    let answer: { pending: number; draining: boolean; takesBlocks?: boolean } | Error = new Error(
      'not found',
    );
    let asked = 0;
    let now = 0;
    const bp = new Backpressure(
      () => {
        asked++;
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
      limits,
      () => undefined,
      () => now,
    );
    assert.equal(await bp.format(0), 'unknown', 'no chain yet: one message starts it');
    assert.equal(asked, 1);
    answer = { ...lag(0), takesBlocks: true };
    assert.equal(await bp.format(0), 'blocks', 'asked again at once: the chain now exists');
    assert.equal(await bp.format(0), 'blocks');
    assert.equal(asked, 2, 'an answer is kept: not asked before every chunk');
    assert.equal(await bp.format(1), 'blocks', 'per partition');
    // A rollback to code older than blocks: a background probe's answer has no flag.
    answer = lag(0);
    now = 5000;
    bp.noteDelivered(0, 10);
    bp.mustPause(0, true);
    await bp.settled();
    assert.equal(await bp.format(0), 'messages');
    assert.equal(asked, 4);
  });

  it('pauses once a background probe finds the workflow draining to continue as new', async () => {
    let now = 0;
    const logged: [string, Record<string, unknown> | undefined][] = [];
    const bp = new Backpressure(
      () => Promise.resolve(lag(5, true)),
      limits,
      (line, fields) => logged.push([line, fields]),
      () => now,
    );
    bp.noteDelivered(2, 5);
    now = 5000;
    assert.equal(bp.mustPause(2, false), false, 'the probe starts now; its answer counts next time');
    await bp.settled();
    assert.equal(bp.mustPause(2, false), true);
    bp.resumeWhenDrained(
      2,
      () => undefined,
      () => false,
    );
    // The log line names the partition as a field too, for the JSON log.
    assert.deepEqual(logged, [['partition 2: workflow is behind, pausing the partition', { partition: 2 }]]);
  });

  it('logs a stop once, as soon as a probe sees it, pauses before the next chunk and resumes once cleared', async () => {
    let now = 0;
    let answer: { pending: number; draining: boolean; stopped?: string } = {
      ...lag(0),
      stopped: 'offsets went backwards',
    };
    const logged: [string, string | undefined][] = [];
    const bp = new Backpressure(
      () => Promise.resolve(answer),
      { ...limits, pollMs: 1 },
      (line, _fields, level) => logged.push([line, level]),
      () => now,
    );
    bp.noteDelivered(3, 1);
    now = 10;
    assert.equal(bp.mustPause(3, false), false, 'the probe starts now');
    await bp.settled();
    assert.equal(bp.mustPause(3, false), true);
    assert.deepEqual(logged, [
      [
        'partition 3 stopped: offsets went backwards; nothing more is taken until an operator runs ' +
          '`kiosk stream resume 3`',
        'error',
      ],
    ]);
    let resumed = false;
    bp.resumeWhenDrained(
      3,
      () => (resumed = true),
      () => true,
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(resumed, false, 'still stopped');
    assert.equal(logged.length, 2, 'the stop is not logged again while polling');
    answer = lag(0);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(resumed, true);
    assert.equal(bp.mustPause(3, true), false);
  });

  it('pauses at a batch start once the estimate is over the limit, whatever the workflow would say', () => {
    let asked = 0;
    const bp = new Backpressure(
      () => {
        asked++;
        return Promise.resolve(lag(0));
      },
      limits,
      () => undefined,
    );
    bp.noteDelivered(1, 100);
    assert.equal(bp.mustPause(1, true), false, 'at the limit, not over it');
    assert.equal(bp.isOverLimit(1), true, 'but a batch that ends there pauses');
    bp.noteDelivered(1, 1);
    assert.equal(bp.mustPause(1, true), true);
    assert.equal(asked, 1, 'only the background probe of the first call asked');
  });

  it('keeps the estimate when the workflow gives no answer, so the next batch still pauses', async () => {
    let asked = 0;
    let now = 0;
    const bp = new Backpressure(
      () => {
        asked++;
        return Promise.reject(new Error('no worker'));
      },
      limits,
      () => undefined,
      () => now,
    );
    bp.noteDelivered(6, 60);
    now = 5000;
    assert.equal(bp.mustPause(6, false), false, 'under the limit; a background probe starts');
    await bp.settled();
    assert.equal(asked, 1);
    bp.noteDelivered(6, 60);
    assert.equal(bp.mustPause(6, false), false, 'mid-batch the batch goes on');
    assert.equal(
      bp.isOverLimit(6),
      true,
      'the unanswered probe left the estimate at 120: the batch ends paused',
    );
    assert.equal(bp.mustPause(6, true), true, 'and a batch that starts over the limit pauses at once');
  });

  it('resumes only once the workflow answers under the resume mark and is not draining', async () => {
    const answers: (ReturnType<typeof lag> | Error)[] = [
      new Error('no worker'),
      lag(500),
      lag(10, true),
      lag(80),
      lag(40),
    ];
    const bp = new Backpressure(
      () => {
        const next = answers.shift() ?? lag(0);
        return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
      },
      { ...limits, pollMs: 5 },
      () => undefined,
    );
    await new Promise<void>((done) => {
      bp.resumeWhenDrained(3, done, () => true);
      assert.deepEqual(bp.pausedPartitions(), [3]);
    });
    assert.deepEqual(answers, [], 'resumed at the fifth answer');
    assert.deepEqual(bp.pausedPartitions(), []);
  });

  it('asks again soon while the workflow is only behind, and at the poll interval while it drains', async () => {
    const asked: number[] = [];
    const started = Date.now();
    const answers = [lag(500), lag(500), lag(10, true), lag(10, true), lag(40)];
    const bp = new Backpressure(
      () => {
        asked.push(Date.now() - started);
        return Promise.resolve(answers.shift() ?? lag(0));
      },
      { ...limits, pollMs: 400, behindPollMs: 5 },
      () => undefined,
    );
    await new Promise<void>((done) => bp.resumeWhenDrained(5, done, () => true));
    assert.deepEqual(answers, [], 'resumed at the fifth answer');
    const gaps = asked.slice(1).map((at, i) => at - asked[i]!);
    // After a "behind" answer the next ask comes within the short wait; after "draining", a poll interval later.
    assert.ok(gaps[0]! < 200 && gaps[1]! < 200, `quick re-asks: ${gaps.join(', ')}`);
    assert.ok(gaps[2]! >= 390 && gaps[3]! >= 390, `draining waits the poll interval: ${gaps.join(', ')}`);
  });

  it('resumes a paused partition whose workflow is closed, and forgets what the closed chain said', async () => {
    let answer: { pending: number; draining: boolean; stopped?: string; takesBlocks?: boolean } | 'closed' = {
      ...lag(5000),
      stopped: 'offsets went backwards',
      takesBlocks: true,
    };
    const logged: string[] = [];
    const bp = new Backpressure(
      () => Promise.resolve(answer),
      { ...limits, pollMs: 5 },
      (line) => logged.push(line),
    );
    bp.noteDelivered(4, 5000);
    assert.equal(bp.mustPause(4, true), true, 'over the limit');
    await bp.settled();
    assert.equal(await bp.format(4), 'blocks');
    let resumed = false;
    bp.resumeWhenDrained(
      4,
      () => (resumed = true),
      () => true,
    );
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(resumed, false, 'a slow or stopped workflow keeps the partition paused');
    // An operator terminates it: the query is rejected at once.
    answer = 'closed';
    await waitFor('the partition resumed', () => Promise.resolve(resumed ? true : undefined), 5000);
    assert.deepEqual(bp.pausedPartitions(), []);
    assert.ok(
      logged.some((l) => /partition 4: its workflow is closed/.test(l)),
      logged.join('\n'),
    );
    // Nothing of the closed chain is kept: no stop, no estimate, and one message starts the next chain.
    assert.equal(bp.mustPause(4, true), false);
    assert.equal(await bp.format(4), 'unknown');
    bp.noteDelivered(4, 5000);
    assert.equal(bp.mustPause(4, false), false, 'the new chain takes the rest of the batch');
    assert.equal(bp.mustPause(4, true), true, 'and pauses before more once over the limit');
  });
});
