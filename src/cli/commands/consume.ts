/**
 * `minikafka consume <topic>`: prints record values, one per line, from every partition (or
 * one). Stops after --max-messages records, after --timeout-ms without a new record, or on
 * SIGINT/SIGTERM; then prints a count to stderr, like Kafka's console consumer.
 */
import { parseArgs } from 'node:util';
import type { ClusterClient } from '../../client/cluster-client.js';
import { Consumer, type ConsumerRecord, type StartOffset } from '../../client/consumer.js';
import { ClientDefaults } from '../../client/defaults.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { attachOptionValues, UsageError, withClusterClient, type CommandIo } from './common.js';

export type { CommandIo } from './common.js';

const defaultBootstrapServer = '127.0.0.1:9092';

const help = `usage: minikafka consume <topic> [options]

Prints the value of each record on its own line ("null" for a null value).

options:
  --bootstrap-server host:port[,host:port]  brokers to bootstrap from (default ${defaultBootstrapServer})
  --partition N                             read only partition N (default: every partition)
  --from-beginning                          start at the earliest offset (default: the latest)
  --offset N|earliest|latest                start at offset N of each partition read
  --max-messages N                          exit after N records
  --timeout-ms N                            exit after N ms without a new record
  --print-key                               print the key ("null" if none) and a tab before the value
  --print-offset                            print partition:offset and a tab first
  -h, --help                                print this text
`;

const options = {
  'bootstrap-server': { type: 'string', default: defaultBootstrapServer },
  partition: { type: 'string' },
  'from-beginning': { type: 'boolean', default: false },
  offset: { type: 'string' },
  'max-messages': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'print-key': { type: 'boolean', default: false },
  'print-offset': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

interface ConsumeSettings {
  readonly topic: string;
  readonly partition: number | undefined;
  readonly startOffset: StartOffset;
  readonly maxMessages: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly printKey: boolean;
  readonly printOffset: boolean;
}

interface ConsumeValues {
  readonly partition?: string | undefined;
  readonly 'from-beginning': boolean;
  readonly offset?: string | undefined;
  readonly 'max-messages'?: string | undefined;
  readonly 'timeout-ms'?: string | undefined;
  readonly 'print-key': boolean;
  readonly 'print-offset': boolean;
}


/** Runs `minikafka consume`; `argv` holds the arguments after "consume". Returns the exit code. */
export async function run(argv: string[], io?: CommandIo): Promise<number> {
  const streams = io ?? { stdout: process.stdout, stderr: process.stderr };
  let settings: ConsumeSettings;
  let bootstrapServers: string;
  try {
    const { values, positionals } = parseArgs({ args: attachOptionValues(argv, options), options, allowPositionals: true, strict: true });
    if (values.help) {
      streams.stdout.write(help);
      return 0;
    }
    settings = parseSettings(positionals, values);
    bootstrapServers = values['bootstrap-server'];
  } catch (error) {
    streams.stderr.write(`minikafka consume: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  const stop = io === undefined ? stopOnSignals() : { signal: io.signal, release: () => undefined };
  try {
    return await withClusterClient('consume', bootstrapServers, streams.stderr, async (client) => {
      await consume(client, settings, streams, stop.signal);
      return 0;
    });
  } finally {
    stop.release();
  }
}

function parseSettings(positionals: readonly string[], values: ConsumeValues): ConsumeSettings {
  if (positionals.length !== 1 || positionals[0] === '') throw new UsageError('exactly one topic is required');
  if (values['from-beginning'] && values.offset !== undefined) {
    throw new UsageError('--from-beginning and --offset exclude each other');
  }
  let startOffset: StartOffset = values['from-beginning'] ? 'earliest' : 'latest';
  if (values.offset === 'earliest' || values.offset === 'latest') startOffset = values.offset;
  else if (values.offset !== undefined) startOffset = BigInt(parseNonNegative('--offset', values.offset));
  return {
    topic: positionals[0]!,
    partition: values.partition === undefined ? undefined : parseNonNegative('--partition', values.partition),
    startOffset,
    maxMessages: values['max-messages'] === undefined ? undefined : parseNonNegative('--max-messages', values['max-messages']),
    timeoutMs: values['timeout-ms'] === undefined ? undefined : parseNonNegative('--timeout-ms', values['timeout-ms']),
    printKey: values['print-key'],
    printOffset: values['print-offset'],
  };
}

async function consume(client: ClusterClient, settings: ConsumeSettings, io: CommandIo, signal: AbortSignal | undefined): Promise<void> {
  // Keep each Fetch shorter than the idle timeout, so the timeout is honoured promptly.
  const maxWaitMs = Math.max(1, Math.min(ClientDefaults.fetchMaxWaitMs, settings.timeoutMs ?? ClientDefaults.fetchMaxWaitMs));
  const consumer = new Consumer(client, { maxWaitMs });
  await assignPartitions(client, consumer, settings);
  const maxMessages = settings.maxMessages ?? Number.POSITIVE_INFINITY;
  let printed = 0;
  let lastRecordMs = Date.now();
  try {
    while (printed < maxMessages && signal?.aborted !== true) {
      const records = await consumer.poll();
      if (records.length > 0) {
        const count = Math.min(records.length, maxMessages - printed);
        await write(io.stdout, formatRecords(records, count, settings));
        printed += count;
        lastRecordMs = Date.now();
      } else if (settings.timeoutMs !== undefined && Date.now() - lastRecordMs >= settings.timeoutMs) {
        break;
      }
    }
  } finally {
    io.stderr.write(`Processed a total of ${printed} message${printed === 1 ? '' : 's'}\n`);
  }
}

async function assignPartitions(client: ClusterClient, consumer: Consumer, settings: ConsumeSettings): Promise<void> {
  // One Metadata request: a missing topic fails at once instead of being retried as "not yet".
  const metadata = await client.retry('Metadata', () => client.fetchMetadata([settings.topic]));
  const topic = metadata.topics.get(settings.topic);
  if (topic === undefined) {
    const errorCode = metadata.topicErrors.get(settings.topic) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    throw new KafkaError(errorCode, `topic "${settings.topic}" does not exist`);
  }
  if (settings.partition === undefined) {
    await consumer.assignTopic(settings.topic, settings.startOffset);
    return;
  }
  if (settings.partition >= topic.partitions.length) {
    throw new UsageError(`partition ${settings.partition} of "${settings.topic}" does not exist (${topic.partitions.length} partitions)`);
  }
  await consumer.assign([{ topic: settings.topic, partition: settings.partition, offset: settings.startOffset }]);
}

function formatRecords(records: readonly ConsumerRecord[], count: number, settings: ConsumeSettings): string {
  let text = '';
  for (let index = 0; index < count; index++) {
    const record = records[index]!;
    if (settings.printOffset) text += `${record.partition}:${record.offset}\t`;
    if (settings.printKey) text += `${record.key === null ? 'null' : record.key.toString('utf8')}\t`;
    text += `${record.value === null ? 'null' : record.value.toString('utf8')}\n`;
  }
  return text;
}

/** Writes and, if the stream is full, waits for it to drain. */
function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (stream.write(text)) return Promise.resolve();
  return new Promise((resolve) => stream.once('drain', () => resolve()));
}

function stopOnSignals(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return {
    signal: controller.signal,
    release: () => {
      process.removeListener('SIGINT', abort);
      process.removeListener('SIGTERM', abort);
    },
  };
}

function parseNonNegative(option: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`${option} must be a non-negative integer, got "${text}"`);
  return value;
}
