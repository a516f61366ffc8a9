#!/usr/bin/env node
/**
 * The `minikafka` command: start | topics | produce | consume | groups | nodes | perf.
 */
import { runStart } from './start.js';

// Group commit issues one fdatasync per partition log touched; with many partitions they run
// in parallel on libuv's threadpool, and ext4 merges their journal commits. The default 4
// threads cap that parallelism: 1,000 fdatasyncs took 66 ms with 4 threads and 24 ms with 16
// here. Must be set before anything queues threadpool work; the user's value wins.
process.env.UV_THREADPOOL_SIZE ??= '16';

const usage = `usage: minikafka <command> [options]

commands:
  start      run the broker (see: minikafka start --help)
  topics     create, list, describe and delete topics
  produce    send lines from stdin as records
  consume    print records of a topic
  groups     list, describe, reset offsets of and delete consumer groups
  nodes      list nodes; kill, restart, pause, resume and partition them (fault injection)
  perf       load generator: perf produce | consume | e2e

Run "minikafka <command> --help" for the options of a command.`;

type CommandModule = { run(argv: string[]): Promise<number> };

async function run(loading: Promise<CommandModule>, argv: string[]): Promise<number> {
  return (await loading).run(argv);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return runStart(rest);
    // Literal paths, loaded on demand: the bundler (scripts/bundle.mjs) follows them.
    case 'topics':
      return run(import('./commands/topics.js'), rest);
    case 'produce':
      return run(import('./commands/produce.js'), rest);
    case 'consume':
      return run(import('./commands/consume.js'), rest);
    case 'groups':
      return run(import('./commands/groups.js'), rest);
    case 'nodes':
      return run(import('./commands/nodes.js'), rest);
    case 'perf':
      return run(import('./commands/perf.js'), rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${usage}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`minikafka: unknown command "${command}"\n${usage}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // start has shut its workers down; exit without waiting for stray handles.
    if (process.argv[2] === 'start') process.exit(code);
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`minikafka: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
