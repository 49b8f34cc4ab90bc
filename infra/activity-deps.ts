// What activities need from the outside world, built once per worker and injected (tests build their own).
import type { S3Client } from '@aws-sdk/client-s3';
import type { Knex } from 'knex';
import type { Config } from './config';
import { createKnex } from './db';
import { createS3Client } from './s3';

export interface ActivityDeps {
  config: Config;
  knex: Knex;
  s3: S3Client;
}

export function createActivityDeps(config: Config): ActivityDeps {
  return { config, knex: createKnex(config.databaseUrl, 20), s3: createS3Client(config.s3) };
}

export async function closeActivityDeps(deps: ActivityDeps): Promise<void> {
  deps.s3.destroy();
  await deps.knex.destroy();
}
