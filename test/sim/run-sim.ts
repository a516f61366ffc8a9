/**
 * `npm run sim -- --seeds N --seed-base S [--nodes 1|3|5] [--mode raft|replication|all]` runs N
 * seeded simulations of the Raft metadata quorum and/or of partition replication (default: both
 * per seed) and ends with one line "<N> seeds ... <V> violations" (exit 1 when V > 0). Each raft
 * seed runs twice: every node a voter, then some nodes observers (observerShape).
 * `npm run sim -- --seed X [--mode ...]` replays one seed and prints its event trace.
 */
import { parseArgs } from 'node:util';
import { runSimulation, type SimResult } from './cluster.js';
import { runReplicationSimulation, type ReplicationSimResult } from './replication-cluster.js';

const MODES = ['raft', 'replication', 'all'] as const;
type Mode = (typeof MODES)[number];

interface RunOptions {
  readonly mode: Mode;
  readonly nodeCount: number | undefined;
  /** Replay: the seed's observer run (observerShape) instead of its all-voter run. */
  readonly observers: boolean;
}

/** Replication runs 3 or 5 nodes: `--nodes 1` leaves its node count to the seed. */
function replicationOptions(seed: number, options: RunOptions, trace = false) {
  return options.nodeCount === undefined || options.nodeCount === 1 ? { seed, trace } : { seed, nodeCount: options.nodeCount, trace };
}

/** The observer run of a seed: 5 nodes with 3 voters, 4 with 3, or 3 with 1. */
function observerShape(seed: number): { nodeCount: number; voterCount: number } {
  const shapes = [
    { nodeCount: 5, voterCount: 3 },
    { nodeCount: 4, voterCount: 3 },
    { nodeCount: 3, voterCount: 1 },
  ];
  return shapes[seed % shapes.length]!;
}

type RaftTotals = Record<'events' | 'committed' | 'elections' | 'crashes' | 'wipes' | 'snapshotInstalls', number>;

function addRaft(totals: RaftTotals, result: SimResult): void {
  totals.events += result.events;
  totals.committed += result.committed;
  totals.elections += result.elections;
  totals.crashes += result.crashes;
  totals.wipes += result.wipes;
  totals.snapshotInstalls += result.snapshotInstalls;
}

type ReplicationTotals = Record<'events' | 'produced' | 'acknowledged' | 'elections' | 'fencings' | 'crashes' | 'isolations' | 'truncations' | 'alterPartitions', number>;

function main(): number {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '100' },
      'seed-base': { type: 'string', default: '1' },
      seed: { type: 'string' },
      nodes: { type: 'string' },
      mode: { type: 'string', default: 'all' },
      quiet: { type: 'boolean', default: false },
      observers: { type: 'boolean', default: false },
    },
  });
  const mode = values.mode as Mode;
  if (!MODES.includes(mode)) throw new Error(`--mode must be raft, replication or all, got ${values.mode}`);
  const nodeCount = values.nodes === undefined ? undefined : Number(values.nodes);
  if (nodeCount !== undefined && ![1, 3, 5].includes(nodeCount)) throw new Error(`--nodes must be 1, 3 or 5, got ${values.nodes}`);
  const options: RunOptions = { mode, nodeCount, observers: values.observers === true };
  if (values.seed !== undefined) return replay(Number(values.seed), options);
  const seeds = Number(values.seeds);
  const seedBase = Number(values['seed-base']);
  if (!Number.isInteger(seeds) || seeds < 1 || !Number.isInteger(seedBase)) throw new Error('--seeds and --seed-base take integers (seeds >= 1)');
  return runSeeds(seeds, seedBase, options, values.quiet === true);
}

function runSeeds(seeds: number, seedBase: number, options: RunOptions, quiet: boolean): number {
  const startedMs = performance.now();
  const raft: RaftTotals = { events: 0, committed: 0, elections: 0, crashes: 0, wipes: 0, snapshotInstalls: 0 };
  const observed: RaftTotals = { events: 0, committed: 0, elections: 0, crashes: 0, wipes: 0, snapshotInstalls: 0 };
  const replication: ReplicationTotals = { events: 0, produced: 0, acknowledged: 0, elections: 0, fencings: 0, crashes: 0, isolations: 0, truncations: 0, alterPartitions: 0 };
  const failedSeeds = new Set<number>();
  let violations = 0;
  const replay = (mode: Mode, seed: number) => `npm run sim -- --seed ${seed} --mode ${mode}${options.nodeCount === undefined ? '' : ` --nodes ${options.nodeCount}`}`;
  for (let seed = seedBase; seed < seedBase + seeds; seed++) {
    if (options.mode !== 'replication') {
      const result = runSimulation(options.nodeCount === undefined ? { seed } : { seed, nodeCount: options.nodeCount });
      addRaft(raft, result);
      const withObservers = runSimulation({ seed, ...observerShape(seed) });
      addRaft(observed, withObservers);
      for (const run of [result, withObservers]) {
        if (run.violations.length === 0) continue;
        failedSeeds.add(seed);
        violations += run.violations.length;
        const replayCommand = run === result ? replay('raft', seed) : `npm run sim -- --seed ${seed} --mode raft --observers`;
        console.log(`seed ${seed} raft (${run.nodeCount} nodes, ${run.voterCount} voters): ${run.violations.join('; ')}  -> replay: ${replayCommand}`);
      }
    }
    if (options.mode !== 'raft') {
      const result = runReplicationSimulation(replicationOptions(seed, options));
      addReplication(replication, result);
      if (result.violations.length > 0) {
        failedSeeds.add(seed);
        violations += result.violations.length;
        console.log(`seed ${seed} replication (${result.nodeCount} nodes, ${result.partitionCount} partitions): ${result.violations.join('; ')}  -> replay: ${replay('replication', seed)}`);
      }
    }
  }
  const seconds = (performance.now() - startedMs) / 1000;
  if (!quiet && options.mode !== 'replication') {
    console.log(`raft: events ${raft.events}, committed entries ${raft.committed}, elections ${raft.elections}, crashes ${raft.crashes}, wipes ${raft.wipes}, snapshot installs ${raft.snapshotInstalls}`);
    const o = observed;
    console.log(`raft with observers: events ${o.events}, committed entries ${o.committed}, elections ${o.elections}, crashes ${o.crashes}, wipes ${o.wipes}, snapshot installs ${o.snapshotInstalls}`);
  }
  if (!quiet && options.mode !== 'raft') {
    const r = replication;
    console.log(`replication: events ${r.events}, batches produced ${r.produced}, acks=-1 acknowledged ${r.acknowledged}, leader elections ${r.elections}, fencings ${r.fencings}, crashes ${r.crashes}, isolations ${r.isolations}, truncations ${r.truncations}, AlterPartitions ${r.alterPartitions}`);
  }
  console.log(`${seeds} seeds (${seedBase}..${seedBase + seeds - 1}, ${options.mode}) in ${seconds.toFixed(1)} s (${(seeds / seconds).toFixed(1)} seeds/s): ${failedSeeds.size} failed seeds, ${violations} violations`);
  return violations > 0 ? 1 : 0;
}

function addReplication(totals: ReplicationTotals, result: ReplicationSimResult): void {
  totals.events += result.events;
  totals.produced += result.produced;
  totals.acknowledged += result.acknowledged;
  totals.elections += result.elections;
  totals.fencings += result.fencings;
  totals.crashes += result.crashes;
  totals.isolations += result.isolations;
  totals.truncations += result.truncations;
  totals.alterPartitions += result.alterPartitionsAccepted + result.alterPartitionsRefused;
}

function replay(seed: number, options: RunOptions): number {
  let violations = 0;
  if (options.mode !== 'replication') {
    const shape = options.observers ? observerShape(seed) : options.nodeCount === undefined ? {} : { nodeCount: options.nodeCount };
    const result: SimResult = runSimulation({ seed, ...shape, trace: true });
    for (const line of result.trace) console.log(line);
    console.log(`seed ${seed} raft: ${result.nodeCount} nodes (${result.voterCount} voters), ${result.events} events, ${result.committed} committed, ${result.elections} elections, ${result.crashes} crashes, ${result.wipes} wipes`);
    for (const violation of result.violations) console.log(`VIOLATION: ${violation}`);
    violations += result.violations.length;
  }
  if (options.mode !== 'raft') {
    const result = runReplicationSimulation(replicationOptions(seed, options, true));
    for (const line of result.trace) console.log(line);
    console.log(`seed ${seed} replication: ${result.nodeCount} nodes, ${result.partitionCount} partitions, ${result.events} events, ${result.produced} batches, ${result.acknowledged} acknowledged, ${result.elections} elections, ${result.crashes} crashes, ${result.truncations} truncations`);
    for (const violation of result.violations) console.log(`VIOLATION: ${violation}`);
    violations += result.violations.length;
  }
  console.log(`1 seeds: ${violations} violations`);
  return violations > 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`sim: ${(error as Error).message}`);
  process.exitCode = 2;
}
