import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDirLock, DataDirLockedError } from '../../src/storage/data-dir-lock.js';
import { startBroker } from '../../src/embedded.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';

test('a second broker on the same data dir is refused until the first stops', async () => {
  const dataDir = temporaryDirectory();
  const first = await startBroker({ dataDir, logLevel: 'silent' });
  try {
    await assert.rejects(startBroker({ dataDir, logLevel: 'silent' }), /data dir .* is in use by another broker in this process/);
  } finally {
    await first.stop();
  }
  const second = await startBroker({ dataDir, logLevel: 'silent' });
  await second.stop();
});

test('a lock held by another running process is refused; one left by a dead process is taken over', async () => {
  const dataDir = temporaryDirectory();
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    writeFileSync(join(dataDir, '.lock'), `${sleeper.pid}\n`);
    assert.throws(() => DataDirLock.acquire(dataDir), (error: unknown) => error instanceof DataDirLockedError && error.message.includes(`process ${sleeper.pid}`));
  } finally {
    sleeper.kill();
  }
  const finished = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  writeFileSync(join(dataDir, '.lock'), finished.stdout);
  const lock = DataDirLock.acquire(dataDir);
  assert.equal(readFileSync(join(dataDir, '.lock'), 'utf8').trim(), String(process.pid));
  lock.release();
});
