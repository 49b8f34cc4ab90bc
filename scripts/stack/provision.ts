// Creates what the project needs inside the running services (databases, bucket, topic, search attributes),
// or with --check reports each service as healthy or not, with the reason. Idempotent.
import { CreateBucketCommand, HeadBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import pg from 'pg';
import { loadConfig, type Config } from '../../infra/config';
import { createKafka } from '../../infra/kafka';
import { createS3Client } from '../../infra/s3';
import { connectTemporal } from '../../infra/temporal';
import { ALL_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';

export const TOPIC_PARTITIONS = Number(process.env.KAFKA_TOPIC_PARTITIONS ?? 4);
// The role pg_hba.conf admits only over TLS (scripts/stack.sh, postgres_tls_conf); a local-only password.
const PG_TLS_ROLE = 'kiosk_tls';
const PG_TLS_PASSWORD = 'kiosk-tls-local';

type Probe = {
  name: string;
  check: (cfg: Config) => Promise<string>;
  provision: (cfg: Config) => Promise<void>;
};

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const INDEXED_TYPE: Record<string, number> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.DATETIME]: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

function adminUrl(databaseUrl: string): { admin: string; database: string } {
  const url = new URL(databaseUrl);
  const database = url.pathname.replace(/^\//, '') || 'postgres';
  url.pathname = '/postgres';
  return { admin: url.toString(), database };
}

async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const probes: Probe[] = [
  {
    name: 'postgres',
    async check(cfg) {
      const { admin } = adminUrl(cfg.databaseUrl);
      const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 3000 });
      await client.connect();
      try {
        const r = await client.query<{ v: string }>("select current_setting('server_version') as v");
        return `PostgreSQL ${r.rows[0]?.v ?? '?'}`;
      } finally {
        await client.end();
      }
    },
    async provision(cfg) {
      const { admin, database } = adminUrl(cfg.databaseUrl);
      const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 3000 });
      await client.connect();
      try {
        const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
        if (exists.rowCount === 0) await client.query(`create database "${database.replace(/"/g, '""')}"`);
        const role = await client.query('select 1 from pg_roles where rolname = $1', [PG_TLS_ROLE]);
        if (role.rowCount === 0) {
          await client.query(`create role ${PG_TLS_ROLE} login password '${PG_TLS_PASSWORD}'`);
        }
      } finally {
        await client.end();
      }
    },
  },
  {
    name: 's3',
    async check(cfg) {
      const s3 = createS3Client(cfg.s3);
      try {
        await s3.send(new HeadBucketCommand({ Bucket: cfg.s3.bucket }));
        return `bucket ${cfg.s3.bucket} reachable at ${cfg.s3.endpoint ?? 'AWS'}`;
      } finally {
        s3.destroy();
      }
    },
    async provision(cfg) {
      const s3 = createS3Client(cfg.s3);
      try {
        const list = await s3.send(new ListBucketsCommand({}));
        if (!list.Buckets?.some((b) => b.Name === cfg.s3.bucket)) {
          await s3.send(new CreateBucketCommand({ Bucket: cfg.s3.bucket }));
        }
      } finally {
        s3.destroy();
      }
    },
  },
  {
    name: 'kafka',
    async check(cfg) {
      const admin = createKafka(cfg.kafka, '-probe').admin();
      await admin.connect();
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [cfg.kafka.topic] });
        return `topic ${cfg.kafka.topic} with ${meta.topics[0]?.partitions.length ?? 0} partitions`;
      } finally {
        await admin.disconnect();
      }
    },
    async provision(cfg) {
      const admin = createKafka(cfg.kafka, '-provision').admin();
      await admin.connect();
      try {
        const topics = await admin.listTopics();
        if (!topics.includes(cfg.kafka.topic)) {
          await admin.createTopics({
            topics: [{ topic: cfg.kafka.topic, numPartitions: TOPIC_PARTITIONS, replicationFactor: 1 }],
            waitForLeaders: true,
          });
        }
      } finally {
        await admin.disconnect();
      }
    },
  },
  {
    name: 'temporal',
    async check(cfg) {
      const connection = await connectTemporal(cfg.temporal);
      try {
        const sys = await connection.workflowService.getSystemInfo({});
        const attrs = await connection.operatorService.listSearchAttributes({
          namespace: cfg.temporal.namespace,
        });
        const missing = ALL_SEARCH_ATTRIBUTES.filter((a) => !(a.name in (attrs.customAttributes ?? {})));
        if (missing.length > 0)
          throw new Error(`search attributes missing: ${missing.map((a) => a.name).join(', ')}`);
        return `server ${sys.serverVersion}, namespace ${cfg.temporal.namespace}, Web UI ${cfg.temporal.uiUrl}`;
      } finally {
        await connection.close();
      }
    },
    async provision(cfg) {
      const connection = await connectTemporal(cfg.temporal);
      try {
        const existing = await connection.operatorService.listSearchAttributes({
          namespace: cfg.temporal.namespace,
        });
        const wanted: Record<string, number> = {};
        for (const a of ALL_SEARCH_ATTRIBUTES) {
          if (!(a.name in (existing.customAttributes ?? {}))) wanted[a.name] = INDEXED_TYPE[a.type] ?? 0;
        }
        if (Object.keys(wanted).length > 0) {
          await connection.operatorService.addSearchAttributes({
            namespace: cfg.temporal.namespace,
            searchAttributes: wanted,
          });
        }
      } finally {
        await connection.close();
      }
    },
  },
];

async function main(): Promise<number> {
  const checkOnly = process.argv.includes('--check');
  const cfg = loadConfig();
  let failures = 0;
  for (const probe of probes) {
    try {
      if (!checkOnly) await withTimeout(`${probe.name} provisioning`, 30_000, probe.provision(cfg));
      const detail = await withTimeout(probe.name, 10_000, probe.check(cfg));
      console.log(`[stack] ${probe.name.padEnd(9)} healthy    ${detail}`);
    } catch (err) {
      failures++;
      console.log(`[stack] ${probe.name.padEnd(9)} UNHEALTHY  ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[stack] ${(err as Error).message}`);
    process.exit(1);
  },
);
