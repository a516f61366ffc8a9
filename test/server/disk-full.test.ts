/**
 * A one-node broker on a real 20 MB filesystem (a tmpfs mounted for the test: it needs root,
 * and fails rather than skips without it), an acks=all producer filling it: the partition
 * answers KAFKA_STORAGE_ERROR, Metadata reports it offline, the broker keeps answering, and
 * after a restart with more space every acknowledged record is there.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/records/records.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { RawConnection } from '../helpers/raw-client.js';
import { createTopic, fetchPartition, produce } from './broker-fixtures.js';

const FILESYSTEM_BYTES = 20 * 1024 * 1024;
const VALUE_BYTES = 64 * 1024;

function mountSmallFilesystem(): string {
  const mountPoint = mkdtempSync(join(tmpdir(), 'minikafka-disk-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FILESYSTEM_BYTES}`, 'tmpfs', mountPoint], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`this test mounts a ${FILESYSTEM_BYTES}-byte tmpfs and needs root (mount failed: ${(error as Error).message})`);
  }
  after(() => {
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });
  return mountPoint;
}

interface MetadataPartition {
  errorCode: number;
  leaderId: number;
  offlineReplicas: number[];
}

async function metadataPartition(bootstrapServers: string): Promise<MetadataPartition> {
  const connection = await RawConnection.fromBootstrap(bootstrapServers);
  try {
    const response = await connection.request<{ topics: Array<{ partitions: MetadataPartition[] }> }>(ApiKey.Metadata, 8, {
      topics: [{ name: 't' }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const { errorCode, leaderId, offlineReplicas } = response.topics[0]!.partitions[0]!;
    return { errorCode, leaderId, offlineReplicas };
  } finally {
    connection.close();
  }
}

test('a full disk takes the partition offline, not the broker; every acknowledged record survives', { timeout: 120_000 }, async () => {
  const mountPoint = mountSmallFilesystem();
  const dataDir = join(mountPoint, 'data');
  const broker = await startBroker({ dataDir, logLevel: 'silent' });
  const acknowledged: string[] = [];
  try {
    assert.equal(await createTopic(broker, 't', 1), ErrorCode.NONE);
    const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
    try {
      let errorCode: number = ErrorCode.NONE;
      for (let index = 0; errorCode === ErrorCode.NONE; index++) {
        assert.ok(index < 2 * (FILESYSTEM_BYTES / VALUE_BYTES), 'the disk fills up');
        const value = `${index}:`.padEnd(VALUE_BYTES, 'x');
        const response = await produce(connection, 't', 0, encodeRecordBatch({ records: [{ key: 'k', value }] }));
        errorCode = response.errorCode;
        if (errorCode === ErrorCode.NONE) acknowledged.push(value);
      }
      assert.equal(errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      assert.ok(acknowledged.length > 100, `${acknowledged.length} records acknowledged before the disk filled`);
      assert.equal((await produce(connection, 't', 0, encodeRecordBatch({ records: [{ value: 'more' }] }))).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      assert.equal((await fetchPartition(connection, 't', 0, 0n)).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      assert.deepEqual(await metadataPartition(broker.bootstrapServers), { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, leaderId: 0, offlineReplicas: [0] }, 'Metadata says so');
    } finally {
      connection.close();
    }
  } finally {
    await broker.stop();
  }
  execFileSync('mount', ['-o', `remount,size=${4 * FILESYSTEM_BYTES}`, mountPoint]);
  const restarted = await startBroker({ dataDir, logLevel: 'silent' });
  try {
    assert.deepEqual(await metadataPartition(restarted.bootstrapServers), { errorCode: ErrorCode.NONE, leaderId: 0, offlineReplicas: [] });
    const connection = await RawConnection.fromBootstrap(restarted.bootstrapServers);
    try {
      const values: string[] = [];
      for (;;) {
        const fetched = await fetchPartition(connection, 't', 0, BigInt(values.length), { partitionMaxBytes: 4 * 1024 * 1024 });
        assert.equal(fetched.errorCode, ErrorCode.NONE);
        const records = decodeRecordBatches(fetched.records ?? Buffer.alloc(0)).flatMap((batch) => batch.records);
        if (records.length === 0) break;
        values.push(...records.map((record) => record.value!.toString()));
      }
      assert.equal(values.length >= acknowledged.length, true, `${values.length} records read back, ${acknowledged.length} acknowledged`);
      assert.ok(values.slice(0, acknowledged.length).every((value, index) => value === acknowledged[index]), 'every acknowledged record, in order');
    } finally {
      connection.close();
    }
  } finally {
    await restarted.stop();
  }
});
