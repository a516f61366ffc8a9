/**
 * A BrokerNode on this thread, so node:fs can be intercepted: a failed fdatasync of the node
 * journal answers KAFKA_STORAGE_ERROR instead of leaving the covered produce requests
 * unanswered, and takes the node's log dir offline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { ErrorCode } from '../../src/protocol/errors.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { NodeOnThisThread } from './node-on-this-thread.js';

test('a failed journal fdatasync answers KAFKA_STORAGE_ERROR, and the log dir goes offline', { timeout: 30_000 }, async () => {
  const original = fs.fdatasyncSync;
  let failNext = false;
  fs.fdatasyncSync = (fd: number) => {
    if (failNext) {
      failNext = false;
      throw Object.assign(new Error('EIO: injected fdatasync failure'), { code: 'EIO' });
    }
    original(fd);
  };
  syncBuiltinESMExports();
  const node = new NodeOnThisThread({ dataDir: temporaryDirectory() });
  try {
    await node.lead(3);
    assert.deepEqual(await node.produceCodes([0, 1]), [ErrorCode.NONE, ErrorCode.NONE], 'two partitions: through the journal');
    failNext = true;
    assert.deepEqual(await node.produceCodes([0, 1]), [ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.KAFKA_STORAGE_ERROR], 'the covering journal fsync failed');
    assert.equal(failNext, false, 'the journal fsync was the one that failed');
    assert.deepEqual(await node.produceCodes([1, 2]), [ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.KAFKA_STORAGE_ERROR], 'the journal is offline');
    assert.deepEqual(await node.produceCodes([2]), [ErrorCode.KAFKA_STORAGE_ERROR], 'so is every log of the dir, even one the failure did not cover');
  } finally {
    fs.fdatasyncSync = original;
    syncBuiltinESMExports();
    await node.stop();
  }
});
