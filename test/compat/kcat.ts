/**
 * Driving kcat (librdkafka 2.0.2) as a child process. kcat has no admin commands: topics come
 * from auto-creation (its producer's Metadata request sets allow_auto_topic_creation) with the
 * broker's num.partitions. Without -G, `kcat -C` assigns every partition itself (no group), and
 * -e exits once each partition reports end-of-partition.
 */
import assert from 'node:assert/strict';
import { parseKcatJson, requireCommand, runProcessOk, type ConsumedRecord, type KeyedMessage } from './helpers.js';

/** Separates key from value on kcat's stdin; never occurs in our keys or values. */
export const kcatKeyDelimiter = '|';

export function requireKcat(): string {
  return requireCommand('kcat');
}

/**
 * Produces `messages` (one per line, `key|value`) with acks=all; `extraArgs` adds e.g. `-z snappy`.
 * Returns kcat's stderr, which holds librdkafka's debug lines when `-d` is among `extraArgs`.
 */
export async function kcatProduce(bootstrapServers: string, topic: string, messages: readonly KeyedMessage[], extraArgs: readonly string[] = []): Promise<string> {
  const input = messages.map((message) => `${message.key}${kcatKeyDelimiter}${message.value}\n`).join('');
  const result = await runProcessOk(
    'kcat',
    ['-b', bootstrapServers, '-P', '-t', topic, '-K', kcatKeyDelimiter, '-X', 'acks=all', '-X', 'client.id=compat-kcat-producer', ...extraArgs],
    { input },
  );
  // kcat reports failed deliveries on stderr; its exit status alone is not enough. Debug lines
  // (`%7|...`) are librdkafka's tracing, not failures.
  const problems = result.stderr.split('\n').filter((line) => !line.startsWith('%7|') && /fail|error/i.test(line));
  assert.deepEqual(problems, [], `kcat producer reported problems:\n${problems.join('\n')}`);
  return result.stderr;
}

/** Consumes every partition from the beginning to the end with -J output. */
export async function kcatConsumeAll(bootstrapServers: string, topic: string, extraArgs: readonly string[] = []): Promise<ConsumedRecord[]> {
  const result = await runProcessOk('kcat', [
    '-b', bootstrapServers, '-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q', '-X', 'client.id=compat-kcat-consumer', ...extraArgs,
  ]);
  return parseKcatJson(result.stdout);
}

interface KcatMetadata {
  topics: { topic: string; partitions: { partition: number; leader: number }[]; error?: string }[];
}

/** Partition leaders of `topic` as kcat -L -J sees them. */
export async function kcatPartitionLeaders(bootstrapServers: string, topic: string): Promise<number[]> {
  const result = await runProcessOk('kcat', ['-b', bootstrapServers, '-L', '-J', '-t', topic]);
  const metadata = JSON.parse(result.stdout) as KcatMetadata;
  const entry = metadata.topics.find((candidate) => candidate.topic === topic);
  assert.ok(entry !== undefined && entry.error === undefined, `kcat metadata for ${topic}: ${result.stdout}`);
  return entry.partitions.sort((a, b) => a.partition - b.partition).map((partition) => partition.leader);
}
