/** The Ready loop over real files: a single voter commits, snapshots, restarts and keeps it all. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftCore } from '../../src/raft/raft-core.js';
import { RaftDriver, type RaftStateMachine } from '../../src/raft/raft-driver.js';
import type { RaftEntry, RaftSnapshot } from '../../src/raft/types.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { FileRaftStorage } from '../../src/storage/raft-storage.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';

class ListMachine implements RaftStateMachine {
  items: string[] = [];
  apply(entry: RaftEntry): void {
    if (entry.data.length > 0) this.items.push(new TextDecoder().decode(entry.data));
  }
  restore(snapshot: RaftSnapshot): void {
    this.items = JSON.parse(new TextDecoder().decode(snapshot.data)) as string[];
  }
  snapshotData(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }
}

function startVoter(directory: string) {
  const storage = new FileRaftStorage(directory);
  const core = new RaftCore({ nodeId: 0, voters: [0], electionTicks: 5, heartbeatTicks: 1, random: new SeededRandom(1) }, storage.load());
  const machine = new ListMachine();
  const driver = new RaftDriver(core, storage, { send: () => assert.fail('a single voter sends nothing') }, machine, {
    snapshotIntervalEntries: 4,
    onStorageFailure: (error) => assert.fail(error),
  });
  return { storage, core, machine, driver };
}

/** Ticks until `condition` holds, letting fdatasync callbacks in between; fails after 10 s. */
async function until(condition: () => boolean, tick: () => void): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition() && Date.now() < deadline) {
    tick();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.ok(condition(), 'condition not reached within 10 s');
}

test('a single voter over FileRaftStorage commits after fdatasync, snapshots, and restarts with its state', async () => {
  const directory = temporaryDirectory();
  const first = startVoter(directory);
  await until(() => first.core.isLeader, () => first.driver.tick());
  for (let index = 0; index < 10; index++) first.driver.propose(new TextEncoder().encode(`item ${index}`));
  await until(() => first.machine.items.length === 10, () => undefined);
  assert.ok(first.core.log.snapshotIndex > 0, 'a snapshot was taken and the log compacted');
  first.storage.close();
  const second = startVoter(directory);
  assert.equal(second.core.term, first.core.term);
  await until(() => second.core.isLeader, () => second.driver.tick());
  await until(() => second.machine.items.length === 10, () => undefined);
  assert.deepEqual(second.machine.items, first.machine.items);
  assert.ok(second.core.term > first.core.term, 'a restarted voter campaigns in a new term');
  second.storage.close();
});
