/**
 * `npm run sim -- --seeds N --seed-base S [--nodes 1|3|5]` runs N seeded simulations of the
 * Raft metadata quorum and ends with one line "<N> seeds ... <V> violations" (exit 1 when V > 0).
 * `npm run sim -- --seed X` replays one seed and prints its event trace.
 */
import { parseArgs } from 'node:util';
import { runSimulation, type SimResult } from './cluster.js';

function main(): number {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '100' },
      'seed-base': { type: 'string', default: '1' },
      seed: { type: 'string' },
      nodes: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const nodeCount = values.nodes === undefined ? undefined : Number(values.nodes);
  if (nodeCount !== undefined && ![1, 3, 5].includes(nodeCount)) throw new Error(`--nodes must be 1, 3 or 5, got ${values.nodes}`);
  if (values.seed !== undefined) return replay(Number(values.seed), nodeCount);
  const seeds = Number(values.seeds);
  const seedBase = Number(values['seed-base']);
  if (!Number.isInteger(seeds) || seeds < 1 || !Number.isInteger(seedBase)) throw new Error('--seeds and --seed-base take integers (seeds >= 1)');
  const startedMs = performance.now();
  const totals = { events: 0, committed: 0, elections: 0, crashes: 0, wipes: 0, snapshotInstalls: 0 };
  const failed: SimResult[] = [];
  for (let seed = seedBase; seed < seedBase + seeds; seed++) {
    const result = runSimulation(nodeCount === undefined ? { seed } : { seed, nodeCount });
    totals.events += result.events;
    totals.committed += result.committed;
    totals.elections += result.elections;
    totals.crashes += result.crashes;
    totals.wipes += result.wipes;
    totals.snapshotInstalls += result.snapshotInstalls;
    if (result.violations.length > 0) {
      failed.push(result);
      console.log(`seed ${seed} (${result.nodeCount} nodes): ${result.violations.join('; ')}  -> replay: npm run sim -- --seed ${seed}`);
    }
  }
  const seconds = (performance.now() - startedMs) / 1000;
  const violations = failed.reduce((sum, result) => sum + result.violations.length, 0);
  if (!values.quiet) {
    console.log(`events ${totals.events}, committed entries ${totals.committed}, elections ${totals.elections}, crashes ${totals.crashes}, wipes ${totals.wipes}, snapshot installs ${totals.snapshotInstalls}`);
  }
  console.log(`${seeds} seeds (${seedBase}..${seedBase + seeds - 1}) in ${seconds.toFixed(1)} s (${(seeds / seconds).toFixed(1)} seeds/s): ${failed.length} failed seeds, ${violations} violations`);
  return violations > 0 ? 1 : 0;
}

function replay(seed: number, nodeCount: number | undefined): number {
  const result = runSimulation(nodeCount === undefined ? { seed, trace: true } : { seed, nodeCount, trace: true });
  for (const line of result.trace) console.log(line);
  console.log(`seed ${seed}: ${result.nodeCount} nodes, ${result.events} events, ${result.committed} committed, ${result.elections} elections, ${result.crashes} crashes, ${result.wipes} wipes`);
  const violations = result.violations.length;
  for (const violation of result.violations) console.log(`VIOLATION: ${violation}`);
  console.log(`1 seeds: ${violations} violations`);
  return violations > 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`sim: ${(error as Error).message}`);
  process.exitCode = 2;
}
