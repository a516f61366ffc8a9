/**
 * `minikafka topics create|list|describe|delete`: topic administration over the Kafka protocol,
 * in the spirit of Kafka's kafka-topics.sh (same describe layout).
 */
import { parseArgs } from 'node:util';
import { Admin, ConfigResourceType, ConfigSource, type TopicDescription } from '../../client/admin.js';
import { attachOptionValues, UsageError, withClusterClient, type CommandIo } from './common.js';

export type { CommandIo } from './common.js';

const defaultBootstrapServer = '127.0.0.1:9092';

const help = `usage: minikafka topics <action> [options]

actions:
  create <name>      create a topic
  list               print topic names, one per line
  describe [<name>]  print partitions, leaders, replicas, isr, log offsets and configs
                     of one topic (default: every topic)
  delete <name>      delete a topic

options:
  --bootstrap-server host:port[,host:port]  brokers to bootstrap from (default ${defaultBootstrapServer})
  --partitions N                            create: partition count (default: the broker's num.partitions)
  --replication-factor N                    create: replicas per partition (default: the broker's default)
  --config key=value                        create: a topic config; repeat for more
  --exclude-internal                        list, describe: leave out internal topics
  -h, --help                                print this text
`;

const options = {
  'bootstrap-server': { type: 'string', default: defaultBootstrapServer },
  partitions: { type: 'string' },
  'replication-factor': { type: 'string' },
  config: { type: 'string', multiple: true },
  'exclude-internal': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];


/** Runs `minikafka topics`; `argv` holds the arguments after "topics". Returns the exit code. */
export async function run(argv: string[], io: CommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: attachOptionValues(argv, options), options, allowPositionals: true, strict: true }));
  } catch (error) {
    io.stderr.write(`minikafka topics: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(help);
    return 0;
  }
  return withClusterClient('topics', values['bootstrap-server'], io.stderr, async (client) => {
    await runAction(new Admin(client), positionals, values, io);
    return 0;
  });
}

async function runAction(admin: Admin, positionals: readonly string[], values: Values, io: CommandIo): Promise<void> {
  const [action, name, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  switch (action) {
    case 'create':
      return create(admin, requireName(action, name), values, io);
    case 'list':
      if (name !== undefined) throw new UsageError(`list takes no topic name`);
      return list(admin, values, io);
    case 'describe':
      return describe(admin, name, values, io);
    case 'delete':
      await admin.deleteTopics([requireName(action, name)]);
      io.stdout.write(`Deleted topic ${name}.\n`);
      return;
    case undefined:
      throw new UsageError('an action is required: create, list, describe or delete (see --help)');
    default:
      throw new UsageError(`unknown action "${action}" (expected create, list, describe or delete)`);
  }
}

function requireName(action: string, name: string | undefined): string {
  if (name === undefined || name === '') throw new UsageError(`${action} needs a topic name`);
  return name;
}

async function create(admin: Admin, name: string, values: Values, io: CommandIo): Promise<void> {
  const configs: Record<string, string> = {};
  for (const entry of values.config ?? []) {
    const separator = entry.indexOf('=');
    if (separator <= 0) throw new UsageError(`--config "${entry}" is not key=value`);
    configs[entry.slice(0, separator)] = entry.slice(separator + 1);
  }
  await admin.createTopics([
    {
      name,
      ...(values.partitions === undefined ? {} : { partitions: parseCount('--partitions', values.partitions) }),
      ...(values['replication-factor'] === undefined
        ? {}
        : { replicationFactor: parseCount('--replication-factor', values['replication-factor']) }),
      configs,
    },
  ]);
  io.stdout.write(`Created topic ${name}.\n`);
}

async function list(admin: Admin, values: Values, io: CommandIo): Promise<void> {
  const names = await admin.listTopics({ includeInternal: !values['exclude-internal'] });
  io.stdout.write(names.map((name) => `${name}\n`).join(''));
}

async function describe(admin: Admin, name: string | undefined, values: Values, io: CommandIo): Promise<void> {
  const topics = (await admin.describeTopics(name === undefined ? undefined : [name])).filter(
    (topic) => !(values['exclude-internal'] && topic.isInternal),
  );
  const lines: string[] = [];
  for (const topic of topics) lines.push(...(await describeTopic(admin, topic)));
  io.stdout.write(lines.map((line) => `${line}\n`).join(''));
}

/** Kafka's layout: a topic line, then one indented line per partition, tab separated. */
async function describeTopic(admin: Admin, topic: TopicDescription): Promise<string[]> {
  const partitions = topic.partitions.map((partition) => partition.partition);
  const [offsets, [configs]] = await Promise.all([
    admin.logOffsets(topic.name, partitions),
    admin.describeConfigs([{ type: ConfigResourceType.TOPIC, name: topic.name }]),
  ]);
  const overrides = configs!.configs
    .filter((entry) => (entry.source === -1 ? !entry.isDefault : entry.source === ConfigSource.DYNAMIC_TOPIC_CONFIG))
    .map((entry) => `${entry.name}=${entry.isSensitive ? '(sensitive)' : entry.value}`);
  const replicationFactor = topic.partitions[0]?.replicas.length ?? 0;
  const lines = [
    `Topic: ${topic.name}\tPartitionCount: ${topic.partitions.length}\tReplicationFactor: ${replicationFactor}\tConfigs: ${overrides.join(',')}`,
  ];
  for (let index = 0; index < topic.partitions.length; index++) {
    const partition = topic.partitions[index]!;
    const offset = offsets[index]!;
    lines.push(
      `\tTopic: ${topic.name}\tPartition: ${partition.partition}\tLeader: ${partition.leader < 0 ? 'none' : partition.leader}` +
        `\tReplicas: ${partition.replicas.join(',')}\tIsr: ${partition.isr.join(',')}` +
        `\tLogStartOffset: ${offset.logStartOffset}\tLogEndOffset: ${offset.logEndOffset}`,
    );
  }
  return lines;
}

function parseCount(option: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(`${option} must be a positive integer, got "${text}"`);
  }
  return value;
}
