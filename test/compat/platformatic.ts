/**
 * Loads @platformatic/kafka 2.12.1 on Node 20 and reads partitions with it without a group.
 *
 * The library calls `Promise.withResolvers` (Node >= 22), so a polyfill is installed before the
 * module is first imported; the import is dynamic so that it runs after the polyfill.
 *
 * Its `Consumer.consume()` always joins a group (even in 'manual' mode), but `Consumer.fetch()` is
 * public and group-free: it sends one Fetch to the node we name, for the partitions and offsets we
 * give, and returns the decoded record batches (attributes included, so the codec of each stored
 * batch is visible). `Consumer.metadata()` gives the leaders and `Consumer.listOffsets()` the end
 * offsets (ListOffsets). With Metadata <= v8 there are no topic ids, so fetch topics are named.
 */
import type * as PlatformaticKafka from '@platformatic/kafka';
import type { Consumer } from '@platformatic/kafka';

export type PlatformaticModule = typeof PlatformaticKafka;

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

function installWithResolversPolyfill(): void {
  const promiseConstructor = Promise as PromiseConstructor & { withResolvers?: <T>() => Resolvers<T> };
  if (typeof promiseConstructor.withResolvers === 'function') return;
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve'];
      let reject!: Resolvers<T>['reject'];
      const promise = new Promise<T>((resolvePromise, rejectPromise) => {
        resolve = resolvePromise;
        reject = rejectPromise;
      });
      return { promise, resolve, reject };
    },
  });
}

let loaded: Promise<PlatformaticModule> | undefined;

export function loadPlatformatic(): Promise<PlatformaticModule> {
  installWithResolversPolyfill();
  loaded ??= import('@platformatic/kafka');
  return loaded;
}

export interface BatchRecord {
  partition: number;
  offset: bigint;
  /** The batch attributes; `& 7` is the compression codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
  batchAttributes: number;
  key: Buffer | null;
  value: Buffer | null;
}

export interface PlatformaticReadOptions {
  partitionMaxBytes?: number;
  timeoutMs?: number;
  maxFetches?: number;
}

/** Reads every partition of `topic` from 0 to the end offsets, one Fetch loop per leader. */
export async function readTopicWithPlatformatic(bootstrapServers: string, topic: string, options: PlatformaticReadOptions = {}): Promise<BatchRecord[]> {
  const { Consumer } = await loadPlatformatic();
  const consumer = new Consumer({
    clientId: 'compat-platformatic-reader',
    bootstrapBrokers: bootstrapServers.split(','),
    // Required by the constructor; never used, since fetch() does not join the group.
    groupId: 'compat-unused-group',
    retries: 3,
    retryDelay: 100,
    timeout: 10_000,
  });
  try {
    const metadata = await consumer.metadata({ topics: [topic] });
    const topicMetadata = metadata.topics.get(topic);
    if (topicMetadata === undefined) throw new Error(`platformatic sees no topic ${topic}`);
    const endOffsets = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const partitionsByLeader = new Map<number, number[]>();
    topicMetadata.partitions.forEach((partition, index) => {
      const list = partitionsByLeader.get(partition.leader) ?? [];
      list.push(index);
      partitionsByLeader.set(partition.leader, list);
    });
    const perLeader = await Promise.all(
      [...partitionsByLeader].map(([node, partitions]) => readFromLeader(consumer, node, topic, partitions, endOffsets, options)),
    );
    return perLeader.flat().sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : 1));
  } finally {
    await consumer.close(true);
  }
}

async function readFromLeader(
  consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
  node: number,
  topic: string,
  partitions: readonly number[],
  endOffsets: readonly bigint[],
  options: PlatformaticReadOptions,
): Promise<BatchRecord[]> {
  const maxFetches = options.maxFetches ?? 500;
  const deadline = performance.now() + (options.timeoutMs ?? 15_000);
  const positions = new Map<number, bigint>(partitions.map((partition) => [partition, 0n]));
  const records: BatchRecord[] = [];
  for (let fetchCount = 0; fetchCount < maxFetches; fetchCount += 1) {
    const pending = partitions.filter((partition) => (positions.get(partition) ?? 0n) < (endOffsets[partition] ?? 0n));
    if (pending.length === 0) return records;
    if (performance.now() > deadline) break;
    const response = await consumer.fetch({
      node,
      maxWaitTime: 100,
      topics: [
        {
          topicId: topic,
          partitions: pending.map((partition) => ({
            partition,
            fetchOffset: positions.get(partition) ?? 0n,
            partitionMaxBytes: options.partitionMaxBytes ?? 1024 * 1024,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          })),
        },
      ],
    });
    for (const topicResponse of response.responses) {
      for (const partitionResponse of topicResponse.partitions) {
        const partition = partitionResponse.partitionIndex;
        if (partitionResponse.errorCode !== 0) throw new Error(`fetch ${topic}/${partition}: error code ${partitionResponse.errorCode}`);
        let next = positions.get(partition) ?? 0n;
        for (const batch of partitionResponse.records ?? []) {
          for (const record of batch.records) {
            const offset = batch.firstOffset + BigInt(record.offsetDelta);
            if (offset < next) continue;
            records.push({ partition, offset, batchAttributes: batch.attributes, key: record.key, value: record.value });
            next = offset + 1n;
          }
        }
        positions.set(partition, next);
      }
    }
  }
  const stuck = partitions.map((partition) => `${partition}: ${positions.get(partition)}/${endOffsets[partition]}`).join(', ');
  throw new Error(`platformatic fetch of ${topic} from node ${node} did not reach the end offsets (${stuck}) within the bounds`);
}
