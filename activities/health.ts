import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ActivityDeps } from '../infra/activity-deps';

export interface DependencyReport {
  database: string;
  bucket: string;
  /** Migrations applied to the database. */
  migrations: number;
}

export function createHealthActivities(deps: ActivityDeps) {
  return {
    /** Proves that the worker reaches the database and the bucket with its own credentials. */
    async checkDependencies(): Promise<DependencyReport> {
      const version = await deps.knex.raw<{ rows: { v: string }[] }>(
        "select current_setting('server_version') as v",
      );
      const migrations = await deps.knex.raw<{ rows: { n: number }[] }>(
        'select count(*)::int as n from knex_migrations',
      );
      // A listing under the prefix (not HeadBucket): exactly what the task role may do, prefix set or not.
      await deps.s3.send(
        new ListObjectsV2Command({
          Bucket: deps.config.s3.bucket,
          Prefix: deps.config.s3.prefix || undefined,
          MaxKeys: 1,
        }),
      );
      return {
        database: `PostgreSQL ${version.rows[0]?.v ?? '?'}`,
        bucket: deps.config.s3.bucket,
        migrations: migrations.rows[0]?.n ?? 0,
      };
    },
  };
}

export type HealthActivities = ReturnType<typeof createHealthActivities>;
