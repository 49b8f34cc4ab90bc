// Each integration run gets its own database, bucket, topic and task queue on the shared local stack, so
// runs never see each other's rows (developers and CI may run suites side by side).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../../infra/config';
import { createKnex } from '../../infra/db';
import { migrateLatest } from '../../infra/migrate';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const SHARED_DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'lmnh');

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** Config pointing at the stack, with names of our own. */
export function isolatedConfig(label: string): Config {
  const base = loadConfig();
  const suffix = `${label}-${uniqueSuffix()}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const url = new URL(base.databaseUrl);
  url.pathname = `/kiosk_test_${suffix.replace(/-/g, '_')}`;
  return {
    ...base,
    databaseUrl: url.toString(),
    temporal: { ...base.temporal, taskQueue: `test-${suffix}` },
    kafka: { ...base.kafka, topic: `lmnh-test-${suffix}`, groupId: `bridge-test-${suffix}` },
    s3: { ...base.s3, bucket: `kiosk-test-${suffix}`.slice(0, 63).replace(/-$/, 'x') },
    // Any free port: suites run worker and bridge processes side by side.
    metrics: { workerAddress: '127.0.0.1:0', bridgeAddress: '127.0.0.1:0' },
  };
}

function adminConnection(databaseUrl: string): { admin: string; name: string } {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  return { admin: url.toString(), name };
}

/** Creates (and by default migrates) a database; `options` are CREATE DATABASE's, e.g. a locale. */
export async function createDatabase(databaseUrl: string, migrate = true, options = ''): Promise<void> {
  const { admin, name } = adminConnection(databaseUrl);
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`create database "${name}" ${options}`);
  } finally {
    await client.end();
  }
  if (migrate) {
    const knex = createKnex(databaseUrl, 1);
    try {
      await migrateLatest(knex);
    } finally {
      await knex.destroy();
    }
  }
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const { admin, name } = adminConnection(databaseUrl);
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end();
  }
}
