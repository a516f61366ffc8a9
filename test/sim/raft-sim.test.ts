/**
 * The deterministic simulation of the Raft metadata quorum, as part of `npm test`: a few hundred
 * seeds (the full 1,000 run with `npm run sim -- --seeds 1000`), the seeds that once found bugs,
 * and replay determinism.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from './cluster.js';

/** Seeds run by `npm test`; each takes ~10 ms. */
const SEEDS_IN_TEST = 300;

/**
 * Seeds that found real bugs while the core was written (each passes now):
 *   6   a leader probed a wiped follower above its (now empty) log forever;
 *   95  a wiped voter that crashed again before catching up forgot it was rejoining, voted, and
 *       a leader without the committed entries was elected;
 *   462 a leader ignored a rejoined follower forever (it had finished rejoining under another
 *       leader): answers are now told apart by storage id;
 *   798 a rejoining voter that had caught up to the leader's commit index (not its log end)
 *       voted for a candidate missing entries its lost acknowledgements had helped commit.
 */
const REGRESSION_SEEDS = [6, 95, 462, 798];

test(`raft simulation: ${SEEDS_IN_TEST} seeds (1, 3 and 5 voters) without a violation`, () => {
  const failures: string[] = [];
  let committed = 0;
  let elections = 0;
  let wipes = 0;
  for (let seed = 1; seed <= SEEDS_IN_TEST; seed++) {
    const result = runSimulation({ seed });
    committed += result.committed;
    elections += result.elections;
    wipes += result.wipes;
    if (result.violations.length > 0) failures.push(`seed ${seed}: ${result.violations.join('; ')}`);
  }
  assert.deepEqual(failures, []);
  // The runs did real work: entries committed, leaders changed, data dirs wiped.
  assert.ok(committed > SEEDS_IN_TEST * 50, `only ${committed} entries committed`);
  assert.ok(elections > SEEDS_IN_TEST * 2, `only ${elections} elections`);
  assert.ok(wipes > 0);
});

/** Observer runs in `npm test`: 5 nodes with 3 voters, 4 with 3, 3 with 1 (as in run-sim). */
const OBSERVER_SHAPES = [
  { nodeCount: 5, voterCount: 3 },
  { nodeCount: 4, voterCount: 3 },
  { nodeCount: 3, voterCount: 1 },
];
const OBSERVER_SEEDS_IN_TEST = 150;

test(`raft simulation: ${OBSERVER_SEEDS_IN_TEST} seeds with observers (they never vote or lead; commits need a voter majority)`, () => {
  const failures: string[] = [];
  let committed = 0;
  for (let seed = 1; seed <= OBSERVER_SEEDS_IN_TEST; seed++) {
    const result = runSimulation({ seed, ...OBSERVER_SHAPES[seed % OBSERVER_SHAPES.length]! });
    committed += result.committed;
    if (result.violations.length > 0) failures.push(`seed ${seed} (${result.nodeCount} nodes, ${result.voterCount} voters): ${result.violations.join('; ')}`);
  }
  assert.deepEqual(failures, []);
  assert.ok(committed > OBSERVER_SEEDS_IN_TEST * 50, `only ${committed} entries committed`);
});

test('raft simulation: the seeds that found bugs stay fixed', () => {
  for (const seed of REGRESSION_SEEDS) assert.deepEqual(runSimulation({ seed }).violations, [], `seed ${seed}`);
});

test('raft simulation: a seed replays exactly', () => {
  const first = runSimulation({ seed: 42, trace: true });
  const second = runSimulation({ seed: 42, trace: true });
  assert.ok(first.trace.length > 100);
  assert.deepEqual(second.trace, first.trace);
  assert.equal(second.committed, first.committed);
});
