/**
 * `minikafka perf produce|consume|e2e`: the load generator, in the spirit of Kafka's
 * kafka-producer-perf-test and the OpenMessaging Benchmark. Parses the arguments; the work is
 * in `src/perf/`.
 */
import { parseArgs } from 'node:util';
import type { Acks } from '../../client/producer.js';
import { PerfDefaults, PerfLimits, type PerfClientName, type PerfMode, type PerfOptions } from '../../perf/options.js';
import { formatMs } from '../../perf/progress.js';
import { writeHtmlReport } from '../../perf/report-html.js';
import { writeJsonReport } from '../../perf/report-json.js';
import { PerfRunError, runPerf, type PerfResult } from '../../perf/run-perf.js';

import { attachOptionValues, UsageError, type CommandIo } from './common.js';

export type { CommandIo } from './common.js';

const help = `usage: minikafka perf <produce|consume|e2e> [options]

scenarios:
  produce   send messages as fast as allowed; throughput and latency from each message's
            intended send time to its acknowledgement
  consume   read the topic from the beginning (to its end offsets at the start, or
            --messages / --duration-s); throughput only
  e2e       produce and consume together; latency from intended send time to receipt
            (the send time rides in the first 8 bytes of each value)

options:
  --bootstrap-server host:port[,...]  brokers (default ${PerfDefaults.bootstrapServers})
  --topic NAME                  topic, created if missing (default ${PerfDefaults.topic})
  --partitions N                partitions when the topic is created (default: the broker's)
  --message-size BYTES          value size (default ${PerfDefaults.messageSizeBytes})
  --messages N                  measured messages (default for produce and e2e ${PerfDefaults.messages})
  --duration-s S                measure for S seconds instead of a message count
  --rate MSGS_PER_S             target rate, 0 = unlimited (default 0); latency counts from
                                each message's scheduled time, so a stalled client or broker
                                cannot hide its delay (no coordinated omission)
  --keyed                       8-byte keys, partitioned by murmur2 (default: no key, sticky)
  --acks -1|0|1                 (default ${PerfDefaults.acks})
  --batch-size BYTES            batch.size per partition (default ${PerfDefaults.batchSizeBytes})
  --linger-ms MS                linger.ms (default ${PerfDefaults.lingerMs})
  --in-flight K                 requests in flight per connection (default ${PerfDefaults.inFlightPerConnection})
  --connections C               connections per broker (default ${PerfDefaults.connectionsPerBroker})
  --client ours|kafkajs         client library (default ours)
  --warmup-s S                  run S seconds before measuring (default ${PerfDefaults.warmupS})
  --fetch-max-bytes BYTES       Fetch max_bytes (default ${PerfDefaults.fetchMaxBytes})
  --json FILE                   write the result as JSON
  --html FILE                   write a self-contained HTML report with plots
  --quiet                       no progress lines on stderr
  -h, --help                    print this text
`;

const options = {
  'bootstrap-server': { type: 'string', default: PerfDefaults.bootstrapServers },
  topic: { type: 'string', default: PerfDefaults.topic },
  partitions: { type: 'string' },
  'message-size': { type: 'string' },
  messages: { type: 'string' },
  'duration-s': { type: 'string' },
  rate: { type: 'string' },
  keyed: { type: 'boolean', default: false },
  acks: { type: 'string' },
  'batch-size': { type: 'string' },
  'linger-ms': { type: 'string' },
  'in-flight': { type: 'string' },
  connections: { type: 'string' },
  client: { type: 'string', default: 'ours' },
  'warmup-s': { type: 'string' },
  'fetch-max-bytes': { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;


export interface ParsedPerfArguments {
  readonly options: PerfOptions;
  readonly jsonFile: string | null;
  readonly htmlFile: string | null;
}

/** Runs `minikafka perf`; `argv` holds the arguments after "perf". Returns the exit code. */
export async function run(argv: string[], io: CommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let parsed: ParsedPerfArguments | 'help';
  try {
    parsed = parsePerfArguments(argv, io.stderr);
  } catch (error) {
    io.stderr.write(`minikafka perf: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (parsed === 'help') {
    io.stdout.write(help);
    return 0;
  }
  let result: PerfResult;
  let exitCode = 0;
  try {
    result = await runPerf(parsed.options);
  } catch (error) {
    io.stderr.write(`minikafka perf: ${(error as Error).message}\n`);
    if (!(error instanceof PerfRunError)) return error instanceof RangeError ? 2 : 1;
    result = error.result;
    exitCode = 1;
  }
  io.stdout.write(`${summaryLine(result)}\n`);
  for (const note of result.notes) io.stderr.write(`note: ${note}\n`);
  if (parsed.jsonFile !== null) {
    writeJsonReport(parsed.jsonFile, result);
    io.stderr.write(`wrote ${parsed.jsonFile}\n`);
  }
  if (parsed.htmlFile !== null) {
    writeHtmlReport(parsed.htmlFile, result);
    io.stderr.write(`wrote ${parsed.htmlFile}\n`);
  }
  return exitCode;
}

/** Parses and validates; throws UsageError (or parseArgs' TypeError) with a clear message. */
export function parsePerfArguments(argv: readonly string[], progressStream: NodeJS.WritableStream | null = process.stderr): ParsedPerfArguments | 'help' {
  const { values, positionals } = parseArgs({ args: attachOptionValues(argv, options), options, allowPositionals: true, strict: true });
  if (values.help) return 'help';
  const [mode, ...extra] = positionals;
  if (mode !== 'produce' && mode !== 'consume' && mode !== 'e2e') {
    throw new UsageError(mode === undefined ? 'a scenario is required: produce, consume or e2e' : `unknown scenario "${mode}" (expected produce, consume or e2e)`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (values.client !== 'ours' && values.client !== 'kafkajs') throw new UsageError(`--client must be ours or kafkajs, got "${values.client}"`);
  if (values.messages !== undefined && values['duration-s'] !== undefined) throw new UsageError('give --messages or --duration-s, not both');
  const messages = values.messages === undefined ? null : integer('--messages', values.messages, 1, Number.MAX_SAFE_INTEGER);
  const durationS = values['duration-s'] === undefined ? null : decimal('--duration-s', values['duration-s'], 0.001, 7 * 24 * 3600);
  const byDefault = messages === null && durationS === null && mode !== 'consume' ? PerfDefaults.messages : messages;
  const perfOptions: PerfOptions = {
    mode: mode satisfies PerfMode,
    client: values.client satisfies PerfClientName,
    bootstrapServers: values['bootstrap-server'],
    topic: nonEmpty('--topic', values.topic),
    partitions: values.partitions === undefined ? null : integer('--partitions', values.partitions, 1, 10_000),
    messageSizeBytes: integer('--message-size', values['message-size'], mode === 'e2e' ? PerfLimits.sendTimeBytes : 0, PerfLimits.maxMessageSizeBytes, PerfDefaults.messageSizeBytes),
    messages: byDefault,
    durationS,
    ratePerSecond: decimal('--rate', values.rate, 0, PerfLimits.maxRatePerSecond, PerfDefaults.ratePerSecond),
    keyed: values.keyed,
    acks: acksOf(values.acks),
    batchSizeBytes: integer('--batch-size', values['batch-size'], 128, PerfLimits.maxBatchSizeBytes, PerfDefaults.batchSizeBytes),
    lingerMs: integer('--linger-ms', values['linger-ms'], 0, 60_000, PerfDefaults.lingerMs),
    inFlightPerConnection: integer('--in-flight', values['in-flight'], 1, PerfLimits.maxInFlightPerConnection, PerfDefaults.inFlightPerConnection),
    connectionsPerBroker: integer('--connections', values.connections, 1, PerfLimits.maxConnectionsPerBroker, PerfDefaults.connectionsPerBroker),
    warmupS: decimal('--warmup-s', values['warmup-s'], 0, 3600, PerfDefaults.warmupS),
    fetchMaxBytes: integer('--fetch-max-bytes', values['fetch-max-bytes'], 1024, 1024 * 1024 * 1024, PerfDefaults.fetchMaxBytes),
    progressStream: values.quiet ? null : progressStream,
  };
  return { options: perfOptions, jsonFile: values.json ?? null, htmlFile: values.html ?? null };
}

/** One line in the manner of kafka-producer-perf-test. */
export function summaryLine(result: PerfResult): string {
  const verb = result.mode === 'produce' ? 'sent' : 'received';
  const head =
    `${result.messages} records ${verb} in ${result.durationS.toFixed(2)} s, ` +
    `${result.messagesPerSecond.toFixed(1)} records/sec (${result.megabytesPerSecond.toFixed(2)} MB/sec of ${result.bytesBasis})`;
  const latency = result.latency.endToEnd ?? result.latency.produce;
  if (latency === null) return head;
  const kind = result.latency.endToEnd !== null ? 'end-to-end' : 'produce';
  const line =
    `${head}; ${kind} latency p50 ${formatMs(latency.p50Ms)}, p95 ${formatMs(latency.p95Ms)}, p99 ${formatMs(latency.p99Ms)}, ` +
    `p99.9 ${formatMs(latency.p999Ms)}, max ${formatMs(latency.maxMs)}`;
  const fromAppend = result.latency.endToEndFromAppend;
  if (fromAppend === null) return line;
  // Without the load generator's own lateness against its schedule (its 1 ms timer).
  return `${line} (from hand-off to the client: p50 ${formatMs(fromAppend.p50Ms)}, p99 ${formatMs(fromAppend.p99Ms)}, p99.9 ${formatMs(fromAppend.p999Ms)})`;
}

function acksOf(text: string | undefined): Acks {
  if (text === undefined) return PerfDefaults.acks;
  if (text === '-1' || text === 'all') return -1;
  if (text === '0') return 0;
  if (text === '1') return 1;
  throw new UsageError(`--acks must be -1, 0 or 1, got "${text}"`);
}

function integer(option: string, text: string | undefined, min: number, max: number, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new UsageError(`${option} needs a value`);
    return fallback;
  }
  const value = Number(text.replace(/_/g, ''));
  if (!/^-?[\d_]+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${option} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function decimal(option: string, text: string | undefined, min: number, max: number, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new UsageError(`${option} needs a value`);
    return fallback;
  }
  const value = Number(text.replace(/_/g, ''));
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`${option} must be a number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function nonEmpty(option: string, text: string): string {
  if (text.trim() === '') throw new UsageError(`${option} must not be empty`);
  return text;
}

