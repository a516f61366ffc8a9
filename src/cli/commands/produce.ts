/**
 * `minikafka produce <topic>`: one record per stdin line, sent in batches; a summary goes to
 * stderr. Like Kafka's console producer, a line without the key separator is an error.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { ClusterClient } from '../../client/cluster-client.js';
import { Producer, type Acks, type CompressionName, type ProducerRecord } from '../../client/producer.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { attachOptionValues, UsageError, withClusterClient, type CommandIo } from './common.js';

export type { CommandIo } from './common.js';

const defaultBootstrapServer = '127.0.0.1:9092';
/** Lines collected before one `send`: bounds memory while keeping batches large. */
const linesPerSend = 1_000;

const help = `usage: minikafka produce <topic> [options]

Reads stdin and sends each line as one record.

options:
  --bootstrap-server host:port[,host:port]  brokers to bootstrap from (default ${defaultBootstrapServer})
  --key-separator SEP                       split each line at the first SEP: key before, value after
  --partition N                             send every record to partition N
                                            (default: by key hash; round robin without keys)
  --acks -1|0|1                             -1 all in-sync replicas (default), 1 leader, 0 no reply
  --compression none|gzip                   batch compression (default none)
  -h, --help                                print this text
`;

const options = {
  'bootstrap-server': { type: 'string', default: defaultBootstrapServer },
  'key-separator': { type: 'string' },
  partition: { type: 'string' },
  acks: { type: 'string', default: '-1' },
  compression: { type: 'string', default: 'none' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

interface ProduceSettings {
  readonly topic: string;
  readonly keySeparator: string | undefined;
  readonly partition: number | undefined;
  readonly acks: Acks;
  readonly compression: CompressionName;
}


/** Runs `minikafka produce`; `argv` holds the arguments after "produce". Returns the exit code. */
export async function run(
  argv: string[],
  io: CommandIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
): Promise<number> {
  let settings: ProduceSettings;
  let bootstrapServers: string;
  try {
    const { values, positionals } = parseArgs({ args: attachOptionValues(argv, options), options, allowPositionals: true, strict: true });
    if (values.help) {
      io.stdout.write(help);
      return 0;
    }
    settings = parseSettings(positionals, values);
    bootstrapServers = values['bootstrap-server'];
  } catch (error) {
    io.stderr.write(`minikafka produce: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  return withClusterClient('produce', bootstrapServers, io.stderr, async (client) => {
    await produceLines(client, settings, io);
    return 0;
  });
}

function parseSettings(
  positionals: readonly string[],
  values: { 'key-separator'?: string; partition?: string; acks: string; compression: string },
): ProduceSettings {
  if (positionals.length !== 1 || positionals[0] === '') throw new UsageError('exactly one topic is required');
  if (values['key-separator'] === '') throw new UsageError('--key-separator must not be empty');
  if (values.acks !== '-1' && values.acks !== '0' && values.acks !== '1') {
    throw new UsageError(`--acks must be -1, 0 or 1, got "${values.acks}"`);
  }
  if (values.compression !== 'none' && values.compression !== 'gzip') {
    throw new UsageError(`--compression must be none or gzip, got "${values.compression}"`);
  }
  let partition: number | undefined;
  if (values.partition !== undefined) {
    if (!/^\d+$/.test(values.partition)) throw new UsageError(`--partition must be a partition number, got "${values.partition}"`);
    partition = Number(values.partition);
  }
  return {
    topic: positionals[0]!,
    keySeparator: values['key-separator'],
    partition,
    acks: Number(values.acks) as Acks,
    compression: values.compression,
  };
}

async function produceLines(client: ClusterClient, settings: ProduceSettings, io: CommandIo): Promise<void> {
  const topic = await existingTopic(client, settings.topic);
  if (settings.partition !== undefined && settings.partition >= topic.partitionCount) {
    throw new UsageError(`partition ${settings.partition} of "${settings.topic}" does not exist (${topic.partitionCount} partitions)`);
  }
  const producer = new Producer(client, { acks: settings.acks, compression: settings.compression });
  const startedMs = Date.now();
  const partitionsUsed = new Set<number>();
  let sent = 0;
  let pending: ProducerRecord[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const results = await producer.send(pending);
    for (const result of results) partitionsUsed.add(result.partition);
    sent += pending.length;
    pending = [];
  };
  const lines = createInterface({ input: io.stdin ?? process.stdin, crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      pending.push(toRecord(line, lineNumber, settings));
      if (pending.length >= linesPerSend) await flush();
    }
    await flush();
  } finally {
    lines.close();
    const confirmation = settings.acks === 0 ? ' (acks=0: not confirmed by the broker)' : '';
    const partitions = [...partitionsUsed].sort((a, b) => a - b).join(',');
    io.stderr.write(
      `Produced ${sent} record${sent === 1 ? '' : 's'} to ${settings.topic}` +
        `${sent > 0 ? ` (partitions ${partitions})` : ''} in ${Date.now() - startedMs} ms${confirmation}.\n`,
    );
  }
}

async function existingTopic(client: ClusterClient, name: string): Promise<{ partitionCount: number }> {
  const metadata = await client.retry('Metadata', () => client.fetchMetadata([name]));
  const topic = metadata.topics.get(name);
  if (topic !== undefined) return { partitionCount: topic.partitions.length };
  const errorCode = metadata.topicErrors.get(name) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  throw new KafkaError(errorCode, `topic "${name}" does not exist (create it with: minikafka topics create ${name})`);
}

function toRecord(line: string, lineNumber: number, settings: ProduceSettings): ProducerRecord {
  let key: string | null = null;
  let value = line;
  if (settings.keySeparator !== undefined) {
    const separatorAt = line.indexOf(settings.keySeparator);
    if (separatorAt < 0) {
      throw new Error(`line ${lineNumber} has no key separator ${JSON.stringify(settings.keySeparator)}`);
    }
    key = line.slice(0, separatorAt);
    value = line.slice(separatorAt + settings.keySeparator.length);
  }
  return settings.partition === undefined
    ? { topic: settings.topic, key, value }
    : { topic: settings.topic, partition: settings.partition, key, value };
}
