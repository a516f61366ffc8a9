/**
 * The ProducerIdManager core with a manual clock and a scripted controller: ids come from the
 * current block in order, the next block is asked for at 90 %, a request with no id left waits
 * for the block (bounded) and then gets COORDINATOR_LOAD_IN_PROGRESS, failed allocations are
 * retried after the backoff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { ProducerIdManager, type ProducerIdBlockAnswer, type ProducerIdManagerOptions } from '../../src/txn/producer-id-manager.js';

const options: ProducerIdManagerOptions = { prefetchFraction: 0.9, blockWaitMs: 2000, maxWaiters: 3, retryBackoffMs: 100 };

/** A controller that answers block requests when the test says so. */
class ScriptedController {
  readonly pending: Array<(answer: ProducerIdBlockAnswer) => void> = [];
  nextProducerId = 0;

  request = (): Promise<ProducerIdBlockAnswer> => new Promise((resolve) => this.pending.push(resolve));

  /** Answers the oldest request with the next block of `size` ids. */
  grant(size: number): void {
    const resolve = this.pending.shift();
    assert.ok(resolve !== undefined, 'a block request is pending');
    resolve({ errorCode: ErrorCode.NONE, errorMessage: null, block: { firstProducerId: this.nextProducerId, size } });
    this.nextProducerId += size;
  }

  fail(errorCode: number): void {
    this.pending.shift()!({ errorCode, errorMessage: 'no controller', block: null });
  }
}

/** Lets promise callbacks run (block answers arrive as resolved promises). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(overrides: Partial<ProducerIdManagerOptions> = {}) {
  const clock = new ManualClock();
  const controller = new ScriptedController();
  const failures: number[] = [];
  const manager = new ProducerIdManager(0, controller.request, clock, { ...options, ...overrides }, (errorCode) => failures.push(errorCode));
  return { clock, controller, manager, failures };
}

test('the first request waits for the first block; ids then come in order from it', async () => {
  const { controller, manager } = setup();
  const first = manager.generateProducerId();
  assert.equal(controller.pending.length, 1, 'one block request');
  assert.equal(manager.waitingCount, 1);
  controller.grant(10);
  assert.deepEqual(await first, { errorCode: ErrorCode.NONE, producerId: 0 });
  const next = await Promise.all([manager.generateProducerId(), manager.generateProducerId()]);
  assert.deepEqual(next.map((answer) => answer.producerId), [1, 2]);
  assert.equal(controller.pending.length, 0, 'no prefetch before 90 %');
});

test('the next block is asked for once 90 % of the current one is used, and taken when it runs out', async () => {
  const { controller, manager } = setup();
  const first = manager.generateProducerId();
  controller.grant(10);
  await first;
  for (let index = 1; index < 9; index++) await manager.generateProducerId();
  assert.equal(controller.pending.length, 0, '9 of 10 ids used: not yet');
  assert.equal((await manager.generateProducerId()).producerId, 9);
  assert.equal(controller.pending.length, 1, 'id 9 is at 90 %: prefetch');
  controller.grant(10);
  await settle();
  assert.equal(manager.waitingCount, 0);
  assert.deepEqual(await manager.generateProducerId(), { errorCode: ErrorCode.NONE, producerId: 10 }, 'no wait: the prefetched block is there');
  assert.equal(controller.pending.length, 0, 'one prefetch per block');
});

test('a request with no id left waits at most blockWaitMs, then gets COORDINATOR_LOAD_IN_PROGRESS (retriable)', async () => {
  const { clock, controller, manager } = setup();
  const waiting = manager.generateProducerId();
  clock.advance(1999);
  manager.tick();
  assert.equal(manager.waitingCount, 1);
  clock.advance(1);
  manager.tick();
  assert.deepEqual(await waiting, { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, producerId: -1 });
  // The block arriving later is kept for the client's retry.
  controller.grant(10);
  await settle();
  assert.deepEqual(await manager.generateProducerId(), { errorCode: ErrorCode.NONE, producerId: 0 });
});

test('waiters are bounded: beyond maxWaiters a request is answered at once', async () => {
  const { controller, manager } = setup();
  const waiting = [manager.generateProducerId(), manager.generateProducerId(), manager.generateProducerId()];
  assert.deepEqual(await manager.generateProducerId(), { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, producerId: -1 });
  assert.equal(controller.pending.length, 1, 'one block request for all of them');
  controller.grant(2);
  await settle();
  assert.deepEqual((await Promise.all(waiting.slice(0, 2))).map((answer) => answer.producerId), [0, 1]);
  assert.equal(controller.pending.length, 1, 'the third waiter needs another block');
  controller.grant(2);
  assert.deepEqual(await waiting[2], { errorCode: ErrorCode.NONE, producerId: 2 });
});

test('a failed allocation is retried after the backoff while requests wait', async () => {
  const { clock, controller, manager, failures } = setup();
  const waiting = manager.generateProducerId();
  controller.fail(ErrorCode.NOT_CONTROLLER);
  await settle();
  assert.deepEqual(failures, [ErrorCode.NOT_CONTROLLER]);
  manager.tick();
  assert.equal(controller.pending.length, 0, 'not before the backoff');
  clock.advance(100);
  manager.tick();
  assert.equal(controller.pending.length, 1, 'asked again');
  controller.grant(5);
  assert.deepEqual(await waiting, { errorCode: ErrorCode.NONE, producerId: 0 });
});

test('every id handed out is distinct across many blocks', async () => {
  const { controller, manager } = setup();
  const seen = new Set<number>();
  const first = manager.generateProducerId();
  controller.grant(7);
  seen.add((await first).producerId);
  for (let index = 0; index < 60; index++) {
    if (controller.pending.length > 0) controller.grant(7);
    const answer = await manager.generateProducerId();
    if (answer.errorCode !== ErrorCode.NONE) continue;
    assert.ok(!seen.has(answer.producerId), `id ${answer.producerId} handed out twice`);
    seen.add(answer.producerId);
  }
  assert.ok(seen.size > 50);
});

test('close answers the waiters and drops late blocks', async () => {
  const { controller, manager } = setup();
  const waiting = manager.generateProducerId();
  manager.close();
  assert.equal((await waiting).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  controller.grant(10);
  await settle();
  assert.equal((await manager.generateProducerId()).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
});
