import { ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import { loadConfig } from '../../infra/config';
import { dependenciesOf, failingDependency, withDependencyName } from '../../infra/dependency-errors';

// Error shapes as the real clients raise them (pg, knex and the AWS SDK against a closed port; pg's
// SQLSTATE errors during a restart), reduced to the fields the naming reads.
const refused = (port: number) =>
  Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), {
    code: 'ECONNREFUSED',
    address: '127.0.0.1',
    port,
  });

describe('naming the dependency behind an infrastructure error', () => {
  const config = loadConfig({
    DATABASE_URL: 'postgres://user:secret@db.internal:6543/kiosk',
    S3_ENDPOINT: 'http://localhost:7070',
    KAFKA_BROKERS: '127.0.0.1:9092,127.0.0.1:9094',
    TEMPORAL_ADDRESS: '127.0.0.1:7233',
  });
  const deps = dependenciesOf(config);

  it('lists where each dependency listens, without credentials', () => {
    assert.deepEqual(deps, [
      { name: 'PostgreSQL', host: 'db.internal', port: 6543 },
      { name: 'S3', host: 'localhost', port: 7070 },
      { name: 'Kafka', host: '127.0.0.1', port: 9092 },
      { name: 'Kafka', host: '127.0.0.1', port: 9094 },
      { name: 'Temporal', host: '127.0.0.1', port: 7233 },
    ]);
  });

  it('names a refused connection by its address, loopback spellings alike', () => {
    assert.equal(failingDependency(refused(7070), deps)?.name, 'S3');
    assert.equal(failingDependency(refused(9094), deps)?.name, 'Kafka');
    assert.equal(failingDependency(refused(7233), deps)?.name, 'Temporal');
    assert.equal(failingDependency(refused(1234), deps), undefined);
  });

  it('names PostgreSQL by its SQLSTATE or its lost connection, and S3 by the AWS SDK metadata', () => {
    const starting = Object.assign(new Error('the database system is starting up'), { code: '57P03' });
    assert.equal(failingDependency(starting, deps)?.name, 'PostgreSQL');
    assert.equal(
      failingDependency(new Error('Connection terminated unexpectedly'), deps)?.name,
      'PostgreSQL',
    );
    const aws = Object.assign(new Error('socket hang up'), { $metadata: { attempts: 3 } });
    assert.equal(failingDependency(aws, deps)?.name, 'S3');
    const badData = Object.assign(new Error('date/time field value out of range'), { code: '22008' });
    assert.equal(failingDependency(badData, deps), undefined);
  });

  it('puts the name and endpoint in front of the message and keeps final failures as they are', () => {
    const named = withDependencyName(refused(7070), deps) as Error;
    assert.equal(named.message, 'S3 unavailable (localhost:7070): connect ECONNREFUSED 127.0.0.1:7070');
    const db = withDependencyName(new Error('Connection terminated unexpectedly'), deps) as Error;
    assert.equal(db.message, 'PostgreSQL unavailable (db.internal:6543): Connection terminated unexpectedly');
    assert.doesNotMatch(db.message, /secret/);
    const final = ApplicationFailure.nonRetryable('bucket missing', 'SourceMissing');
    assert.equal(withDependencyName(final, deps), final);
  });
});
