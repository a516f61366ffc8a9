/**
 * A short chaos run in `npm test` (see run-chaos.ts): a fixed seed, then a random one printed
 * for replay. Real kafkajs clients against a broker process while nodes are killed, paused and
 * cut off and the whole broker process is killed (seed 1 does that once); no acknowledged write
 * may be lost, no offset may hold two different records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos } from './run-chaos.js';

const SECONDS = 25;

for (const seed of [1, Math.floor(Math.random() * 1_000_000)]) {
  test(`chaos, ${SECONDS} s, seed ${seed} (replay: npm run chaos -- --seconds ${SECONDS} --seed ${seed})`, { timeout: 180_000 }, async () => {
    const outcome = await runChaos({ seconds: SECONDS, seed, nodes: 3, log: () => {} });
    const check = outcome.check;
    console.log(`[chaos] seed ${seed}: ${check.acknowledged} acknowledged, ${check.lost} lost, ${check.inconsistent} inconsistent, ${check.gaps} gaps, ${check.reordered} reordered, ${check.duplicates} duplicates (${check.idempotentDuplicates} idempotent), ${outcome.faults.length} faults (${outcome.faults.map((fault) => `${fault.kind} ${fault.nodeId}`).join(', ')})`);
    assert.ok(outcome.faults.length >= 3, 'the nemesis applied faults');
    assert.ok(check.acknowledged > 500, 'the clients made progress');
    assert.equal(check.violations, 0, `seed ${seed}: ${check.examples.join('; ')}`);
  });
}
