/**
 * Child process for the kill -9 test: appends to a partition log under the `always` flush
 * policy and prints `acked <lastOffset>` only after the covering fsync. Never exits by itself
 * before `maxBatches`; the parent kills it.
 */
import { systemClock } from '../../src/runtime/clock.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { clientBatch, testConfig } from './log-fixtures.js';

const dataDir = process.argv[2]!;
const maxBatches = Number(process.argv[3] ?? 100_000);
const config = testConfig({ segmentBytes: 64 * 1024, flushPolicy: 'always' });
const manager = LogManager.open({ dataDir, clock: systemClock, configFor: () => config, checkpointIntervalMs: 20 });
const log = manager.getOrCreate('crash', 0, config);

let inFlight = 0;
for (let round = 0; round < maxBatches; round++) {
  const result = log.appendAsLeader(clientBatch(5, 64, Date.now(), `b${round}-`), 0);
  inFlight++;
  void log.waitForDurability(result.lastOffset).then(() => {
    inFlight--;
    process.stdout.write(`acked ${result.lastOffset}\n`);
  });
  if (round % 20 === 19) {
    await manager.tick();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
while (inFlight > 0) await new Promise((resolve) => setImmediate(resolve));
await manager.close();
