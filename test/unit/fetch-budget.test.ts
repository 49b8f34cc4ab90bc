import assert from 'node:assert/strict';
import { FetchBudget, MIN_BYTES_PER_PARTITION, UNMEASURED_EXPANSION } from '../../kafka/fetch-budget';

const MIB = 1024 * 1024;
const budget = (partitions: number) => {
  const b = new FetchBudget({ maxDecodedBytes: 32 * MIB, maxBytes: 64 * MIB, maxBytesPerPartition: 4 * MIB });
  b.setPartitions(partitions);
  return b;
};

describe('bridge: fetch sizes from the decoded budget', () => {
  it('asks little before anything was measured', () => {
    const b = budget(16);
    assert.equal(b.expansion, UNMEASURED_EXPANSION);
    assert.equal(b.maxBytes, (32 * MIB) / UNMEASURED_EXPANSION);
    assert.equal(b.maxBytesPerPartition, Math.max(MIN_BYTES_PER_PARTITION, (2 * MIB) / UNMEASURED_EXPANSION));
  });

  it('asks for the budget, within the configured sizes, once records came uncompressed', () => {
    const b = budget(16);
    b.observe(0, 0, true);
    assert.equal(b.expansion, 1);
    assert.equal(b.maxBytes, 32 * MIB);
    assert.equal(b.maxBytesPerPartition, 2 * MIB);
    const few = budget(4);
    few.observe(0, 0, true);
    // Four partitions' shares would pass the configured 4 MiB each: the configured sizes still cap the fetch.
    assert.equal(few.maxBytesPerPartition, 4 * MIB);
    assert.equal(few.maxBytes, 32 * MIB);
  });

  it('divides the sizes by the expansion of compressed batches', () => {
    const b = budget(16);
    b.observe(1 * MIB, 10 * MIB, true);
    assert.equal(b.expansion, 10);
    assert.equal(b.maxBytes, Math.floor((32 * MIB) / 10));
    assert.equal(b.maxBytesPerPartition, Math.floor((2 * MIB) / 10));
    // What the next fetch may decode: its stored size times the measured expansion, within the budget.
    assert.ok(b.maxBytes * b.expansion <= 32 * MIB);
  });

  it('follows what producers write now: older measurements fade', () => {
    const b = budget(16);
    b.observe(16 * MIB, 160 * MIB, true);
    assert.equal(b.expansion, 10);
    for (let i = 0; i < 8; i++) b.observe(8 * MIB, 16 * MIB, true);
    assert.ok(b.expansion < 2.5, `expansion ${b.expansion}`);
  });

  it('keeps a fetch of one record batch per partition at the least', () => {
    const b = budget(1000);
    b.observe(MIB, 40 * MIB, true);
    assert.equal(b.maxBytesPerPartition, MIN_BYTES_PER_PARTITION);
    assert.ok(b.maxBytes >= b.maxBytesPerPartition);
  });
});
