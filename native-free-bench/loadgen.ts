/**
 * The load generator from native-free-bench: the same code as `minikafka perf`.
 *
 *   node dist/native-free-bench/loadgen.js produce --bootstrap-server 127.0.0.1:9092 --messages 1000000
 *   node dist/native-free-bench/loadgen.js e2e --broker-nodes 3 --partitions 3 --rate 50000 --duration-s 20
 *
 * Without --bootstrap-server it starts a broker child process (`--broker-nodes N`, default 1;
 * `--broker-flush always|interval|never`, default: the broker's default; data in the OS temp
 * dir or $BENCH_DIR) and stops it after; `--broker-replication-factor N` makes its topics N-way
 * replicated with min.insync.replicas min(2, N). `--broker-cpu-prof DIR` runs that broker under
 * `node --cpu-prof`: one .cpuprofile per thread (main and each node worker) lands in DIR.
 */
import { resolve } from 'node:path';
import { run } from '../src/cli/commands/perf.js';
import { startBrokerProcess } from './broker-process.js';

function takeOption(argv: string[], name: string): string | undefined {
  const index = argv.indexOf(name);
  if (index < 0) return undefined;
  const [, value] = argv.splice(index, 2);
  return value;
}

const argv = process.argv.slice(2);
const brokerNodes = Number(takeOption(argv, '--broker-nodes') ?? 1);
const flushPolicy = takeOption(argv, '--broker-flush');
const profileDirectory = takeOption(argv, '--broker-cpu-prof');
const replicationFactor = Number(takeOption(argv, '--broker-replication-factor') ?? 1);
const brokerSettings: Record<string, string | number> = {
  ...(flushPolicy === undefined ? {} : { 'log.flush.policy': flushPolicy }),
  ...(replicationFactor === 1 ? {} : { 'default.replication.factor': replicationFactor, 'min.insync.replicas': Math.min(2, replicationFactor) }),
};
if (argv.includes('--bootstrap-server') || argv.includes('-h') || argv.includes('--help')) {
  process.exitCode = await run(argv);
} else {
  const broker = await startBrokerProcess({
    nodes: brokerNodes,
    brokerSettings,
    ...(profileDirectory === undefined ? {} : { nodeArguments: ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDirectory)}`] }),
  });
  process.stderr.write(`loadgen: started a ${brokerNodes}-node broker (pid ${broker.pid}) at ${broker.bootstrapServers}\n`);
  try {
    process.exitCode = await run([...argv, '--bootstrap-server', broker.bootstrapServers]);
  } finally {
    await broker.stop();
  }
}
