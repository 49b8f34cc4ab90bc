// The bridge's own tuning, from the environment on top of infra/config.ts. Every value has a default that
// suits production; tests lower the timeouts and thresholds to provoke rebalances and continue-as-new quickly.
import { ConfigError } from '../infra/config';
import { DEFAULT_STREAM_SETTINGS, type StreamSettings } from '../contracts/stream';
import type { ConsumerOptions } from '../kafka/consumer';

export interface BridgeSettings {
  /** Bytes one signal carries to Temporal (a record block after its deflate): within the 2 MiB payload limit. */
  signalMaxBytes: number;
  /** Record bytes packed into one block before its deflate; a block that deflates past signalMaxBytes is split. */
  signalMaxPackedBytes: number;
  signalMaxMessages: number;
  /** Backpressure: pause a partition when its workflow holds more than this many unloaded messages... */
  maxPending: number;
  /** ...and resume it when it is back under this many. */
  resumePending: number;
  /** How often the bridge asks a workflow for its lag (while paused, and at least this often while running). */
  pollMs: number;
  /** While paused only because the workflow holds too much, how soon the bridge asks again after an answer. */
  behindPollMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Partitions handled at once; more than the topic has costs nothing. */
  partitionsConcurrently: number;
  /** A Kafka fetch returns once this many bytes are there or fetchMaxWaitMs has passed. */
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  /** Most bytes one Kafka fetch returns per partition: what one signal can be made of. */
  fetchMaxBytesPerPartition: number;
  /** Most bytes one Kafka fetch returns across its partitions. */
  fetchMaxBytes: number;
  /** Most bytes one Kafka fetch decodes to (decompressed): the fetch sizes above shrink by the measured expansion. */
  fetchMaxDecodedBytes: number;
  /** How often the consumer refreshes the topic's metadata, and so how soon it sees partitions added. */
  metadataMaxAgeMs: number;
  /** Settings a workflow starts with (later runs of a chain keep the ones they started with). */
  workflow: StreamSettings;
}

// A query sent during a load is answered as the load ends: asking again soon after costs about one query per load.
const BEHIND_POLL_MS = 100;

interface Variable {
  name: string;
  fallback: number;
  min: number;
  describe: string;
}

export const BRIDGE_VARIABLES = {
  signalMaxBytes: {
    name: 'STREAM_SIGNAL_MAX_BYTES',
    fallback: 1024 * 1024,
    min: 1024,
    describe: 'bytes a signal carries (a record block after deflate, or messages as JSON)',
  },
  signalMaxPackedBytes: {
    name: 'STREAM_SIGNAL_MAX_PACKED_BYTES',
    // Kiosk JSON deflates several times, so 4 MiB of records usually make a signal well under 1 MiB; a block
    // of values that do not shrink is split until it fits STREAM_SIGNAL_MAX_BYTES.
    fallback: 4 * 1024 * 1024,
    min: 1024,
    describe: 'record bytes packed into one signal before deflate',
  },
  signalMaxMessages: {
    name: 'STREAM_SIGNAL_MAX_MESSAGES',
    // Each signal and each load costs Temporal and the worker about the same whatever its size: fewer, larger
    // ones halve that overhead (bench/README.md).
    fallback: 20_000,
    min: 1,
    describe: 'messages per signal',
  },
  maxPending: {
    name: 'STREAM_MAX_PENDING',
    // A few flushes' worth: enough to keep loads full, small enough to drain quickly for continue-as-new.
    fallback: 60_000,
    min: 1,
    describe: 'unloaded messages per workflow before the partition is paused',
  },
  pollMs: {
    name: 'STREAM_PROBE_MS',
    // Each probe is a query: a round trip through the server and a workflow activation, which under a backlog
    // outnumbered signals five to one at 250 ms (bench/README.md).
    fallback: 1000,
    min: 50,
    describe: "most time between two queries of a workflow's lag",
  },
  sessionTimeoutMs: {
    name: 'KAFKA_SESSION_TIMEOUT_MS',
    fallback: 30_000,
    min: 6000,
    describe: 'consumer group session timeout',
  },
  heartbeatIntervalMs: {
    name: 'KAFKA_HEARTBEAT_INTERVAL_MS',
    fallback: 3000,
    min: 100,
    describe: 'consumer group heartbeat interval',
  },
  partitionsConcurrently: {
    name: 'STREAM_PARTITIONS_CONCURRENTLY',
    fallback: 16,
    min: 1,
    describe: 'partitions processed at once',
  },
  fetchMinBytes: {
    name: 'STREAM_FETCH_MIN_BYTES',
    // A fetch that returns the first bytes available fills the workflows' histories with tiny signals (see
    // bench/README.md); waiting a little for more costs at most fetchMaxWaitMs of latency.
    fallback: 64 * 1024,
    min: 1,
    describe: 'bytes a Kafka fetch waits for (or the wait below)',
  },
  metadataMaxAgeMs: {
    name: 'KAFKA_METADATA_MAX_AGE_MS',
    // kafkajs rejoins the group when a refresh shows partitions it was not assigned; its default is 5 minutes.
    fallback: 30_000,
    min: 1000,
    describe: 'most time before partitions added to the topic are consumed',
  },
  fetchMaxBytesPerPartition: {
    name: 'STREAM_FETCH_MAX_BYTES_PER_PARTITION',
    // kafkajs' 1 MiB default held a backlog's signals to about 4,000 kiosk messages each.
    fallback: 4 * 1024 * 1024,
    min: 1024,
    describe: 'most bytes a Kafka fetch returns per partition',
  },
  fetchMaxBytes: {
    name: 'STREAM_FETCH_MAX_BYTES',
    // kafkajs asks for a broker's partitions in the same order on every fetch and the broker fills them in
    // that order: under a backlog, partitions past this total would wait until the first ones pause. 16
    // partitions' worth (kafkajs' default is 10 MiB; the broker's fetch.max.bytes caps it too, 55 MiB).
    fallback: 64 * 1024 * 1024,
    min: 1024,
    describe: 'most bytes a Kafka fetch returns across partitions',
  },
  fetchMaxDecodedBytes: {
    name: 'STREAM_FETCH_MAX_DECODED_BYTES',
    // kafkajs decodes a whole fetch into message objects before handing any on, and compressed batches decode
    // to several times their size: this bounds the bridge's memory, not the sizes above (bench/README.md).
    fallback: 16 * 1024 * 1024,
    min: 64 * 1024,
    describe: 'most bytes a Kafka fetch decodes to (fetch sizes shrink under compression)',
  },
  fetchMaxWaitMs: {
    name: 'STREAM_FETCH_MAX_WAIT_MS',
    fallback: 200,
    min: 0,
    describe: 'most a Kafka fetch waits for those bytes',
  },
  flushMaxMessages: {
    name: 'STREAM_FLUSH_MAX_MESSAGES',
    fallback: DEFAULT_STREAM_SETTINGS.flush.maxMessages,
    min: 1,
    describe: 'workflow: messages per load',
  },
  flushMaxBytes: {
    name: 'STREAM_FLUSH_MAX_BYTES',
    fallback: DEFAULT_STREAM_SETTINGS.flush.maxBytes,
    min: 1024,
    describe: 'workflow: encoded bytes per load',
  },
  flushMaxAgeMs: {
    name: 'STREAM_FLUSH_MAX_AGE_MS',
    // 0, not the workflow's default (100): loaded at once unless a load runs, so light traffic does not wait
    // for a second signal (bench/README.md); the bridge always sends the full settings.
    fallback: 0,
    min: 0,
    describe: 'workflow: oldest buffered message age before a load',
  },
  continueAsNewAfterEvents: {
    name: 'STREAM_CONTINUE_AS_NEW_EVENTS',
    fallback: DEFAULT_STREAM_SETTINGS.continueAsNewAfterEvents,
    min: 20,
    describe: 'workflow: history events before continue-as-new',
  },
  loadTimeoutMs: {
    name: 'STREAM_LOAD_TIMEOUT_MS',
    fallback: DEFAULT_STREAM_SETTINGS.loadTimeoutMs,
    min: 1000,
    describe: 'workflow: load activity start-to-close timeout',
  },
} satisfies Record<string, Variable>;

type Env = Record<string, string | undefined>;

function readInteger(env: Env, v: Variable, problems: string[]): number {
  const raw = env[v.name];
  if (raw === undefined || raw.trim() === '') return v.fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < v.min) {
    problems.push(`${v.name} must be an integer >= ${v.min}, got '${raw}'`);
    return v.fallback;
  }
  return value;
}

export function loadBridgeSettings(env: Env = process.env): BridgeSettings {
  const problems: string[] = [];
  const read = (v: Variable) => readInteger(env, v, problems);
  const V = BRIDGE_VARIABLES;
  const settings: BridgeSettings = {
    signalMaxBytes: read(V.signalMaxBytes),
    signalMaxPackedBytes: read(V.signalMaxPackedBytes),
    signalMaxMessages: read(V.signalMaxMessages),
    maxPending: read(V.maxPending),
    resumePending: 0,
    pollMs: read(V.pollMs),
    behindPollMs: 0,
    sessionTimeoutMs: read(V.sessionTimeoutMs),
    heartbeatIntervalMs: read(V.heartbeatIntervalMs),
    partitionsConcurrently: read(V.partitionsConcurrently),
    fetchMinBytes: read(V.fetchMinBytes),
    fetchMaxWaitMs: read(V.fetchMaxWaitMs),
    fetchMaxBytesPerPartition: read(V.fetchMaxBytesPerPartition),
    fetchMaxBytes: read(V.fetchMaxBytes),
    fetchMaxDecodedBytes: read(V.fetchMaxDecodedBytes),
    metadataMaxAgeMs: read(V.metadataMaxAgeMs),
    workflow: {
      flush: {
        maxMessages: read(V.flushMaxMessages),
        maxBytes: read(V.flushMaxBytes),
        maxAgeMs: read(V.flushMaxAgeMs),
      },
      continueAsNewAfterEvents: read(V.continueAsNewAfterEvents),
      loadTimeoutMs: read(V.loadTimeoutMs),
    },
  };
  // Resumed once a signal's worth fits again: the answer comes only as a load ends, and a lower mark left
  // workflows idle, waiting for the bridge to refill them (bench/README.md). The gap is at least a quarter of
  // the limit, so small signals do not make a partition pause and resume at every load, and the mark never
  // falls below half.
  settings.resumePending = Math.max(
    Math.floor(settings.maxPending / 2),
    settings.maxPending - Math.max(settings.signalMaxMessages, Math.ceil(settings.maxPending / 4)),
  );
  settings.behindPollMs = Math.min(settings.pollMs, BEHIND_POLL_MS);
  if (settings.heartbeatIntervalMs * 3 > settings.sessionTimeoutMs) {
    problems.push('KAFKA_HEARTBEAT_INTERVAL_MS must be at most a third of KAFKA_SESSION_TIMEOUT_MS');
  }
  if (settings.fetchMaxBytes < settings.fetchMaxBytesPerPartition) {
    problems.push('STREAM_FETCH_MAX_BYTES must be at least STREAM_FETCH_MAX_BYTES_PER_PARTITION');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

/** The Kafka consumer's options these settings give (the bridge's, and the bench's direct consumer's). */
export function consumerOptions(settings: BridgeSettings, topic: string, groupId: string): ConsumerOptions {
  return {
    topic,
    groupId,
    sessionTimeoutMs: settings.sessionTimeoutMs,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    partitionsConcurrently: settings.partitionsConcurrently,
    fetchMinBytes: settings.fetchMinBytes,
    fetchMaxWaitMs: settings.fetchMaxWaitMs,
    fetchMaxBytesPerPartition: settings.fetchMaxBytesPerPartition,
    fetchMaxBytes: settings.fetchMaxBytes,
    fetchMaxDecodedBytes: settings.fetchMaxDecodedBytes,
    metadataMaxAgeMs: settings.metadataMaxAgeMs,
  };
}

/** The variables with their defaults, for --help. */
export function describeBridgeVariables(): string {
  const variables = Object.values(BRIDGE_VARIABLES);
  const width = Math.max(...variables.map((v) => v.name.length));
  return variables
    .map((v) => `  ${v.name.padEnd(width)} ${String(v.fallback).padStart(8)}  ${v.describe}`)
    .join('\n');
}
