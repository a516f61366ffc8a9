/**
 * The chaos run's clients: kafkajs producers (acks=all, one idempotent and one not, one message
 * per send, several sequential streams each) and a kafkajs consumer group member reading as it goes.
 * Every value names its stream and sequence and carries a checksum; every acknowledgement
 * (partition, offset) and every consumed record is recorded for the checker.
 */
import kafkajs from 'kafkajs';
import type { AckedWrite, ReadRecord } from './checker.js';

const { Kafka, logLevel } = kafkajs;

export interface WorkloadOptions {
  readonly bootstrapServers: string;
  readonly topic: string;
  readonly producers: number;
  /** Of `producers`, how many are idempotent (their streams are named i<n>s<m>). */
  readonly idempotentProducers: number;
  readonly streamsPerProducer: number;
  readonly keysPerStream: number;
  readonly nowMs: () => number;
}

/** FNV-1a over the text: enough to tell a damaged value from a real one. */
function checksum(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

export function chaosValue(stream: string, sequence: number): string {
  const body = `${stream}:${sequence}`;
  return `${body}:${checksum(body)}`;
}

/** Values written by an idempotent producer (a second copy of one is a violation). */
export function isIdempotentValue(value: string): boolean {
  return value.startsWith('i');
}

export function isChaosValue(value: string): boolean {
  const at = value.lastIndexOf(':');
  return at > 0 && checksum(value.slice(0, at)) === value.slice(at + 1);
}

export class Workload {
  readonly acked: AckedWrite[] = [];
  readonly consumed: ReadRecord[] = [];
  /** Acknowledgement times (ms from the run's start), for throughput over time. */
  readonly ackTimesMs: number[] = [];
  /** The consumer's acknowledged commits, in the order kafkajs reported them. */
  readonly commits: Array<{ atMs: number; partition: number; offset: number }> = [];
  failedSends = 0;
  private running = true;
  private readonly kafka: InstanceType<typeof Kafka>;
  private loops: Array<Promise<void>> = [];
  private readonly producers: Array<ReturnType<InstanceType<typeof Kafka>['producer']>> = [];
  private consumer: ReturnType<InstanceType<typeof Kafka>['consumer']> | null = null;

  constructor(private readonly options: WorkloadOptions) {
    this.kafka = new Kafka({ clientId: 'chaos', brokers: options.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 1000 } });
  }

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({ groupId: 'chaos-readers', sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 200, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 1000 } });
    this.consumer.on(this.consumer.events.COMMIT_OFFSETS, (event) => {
      const atMs = this.options.nowMs();
      for (const topic of event.payload.topics) for (const partition of topic.partitions) this.commits.push({ atMs, partition: Number(partition.partition), offset: Number(partition.offset) });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ partition, message }) => {
        this.consumed.push({ partition, offset: Number(message.offset), value: message.value?.toString() ?? '' });
      },
    });
    for (let index = 0; index < this.options.producers; index++) {
      const idempotent = index < this.options.idempotentProducers;
      const producer = this.kafka.producer({ idempotent, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      this.producers.push(producer);
      // One stream per idempotent producer: kafkajs 2.2.4 keeps one sequence per partition, and
      // concurrent send()s on one idempotent producer were seen reusing a sequence for two
      // different batches (chaos seed 561981: the second answered as a duplicate of the first).
      const streams = idempotent ? 1 : this.options.streamsPerProducer;
      for (let stream = 0; stream < streams; stream++) this.loops.push(this.produceLoop(producer, `${idempotent ? 'i' : 'p'}${index}s${stream}`));
    }
  }

  private async produceLoop(producer: ReturnType<InstanceType<typeof Kafka>['producer']>, stream: string): Promise<void> {
    for (let sequence = 0; this.running && sequence < 10_000_000; sequence++) {
      const value = chaosValue(stream, sequence);
      const key = `${stream}-k${sequence % this.options.keysPerStream}`;
      try {
        const [result] = await producer.send({ topic: this.options.topic, acks: -1, timeout: 3000, messages: [{ key, value }] });
        if (result === undefined || result.errorCode !== 0) throw new Error(`error code ${result?.errorCode}`);
        this.acked.push({ value, key, partition: result.partition, offset: Number(result.baseOffset), producer: stream, sequence });
        this.ackTimesMs.push(this.options.nowMs());
      } catch {
        // Not acknowledged: it may or may not be in the log; the checker only holds acks to account.
        this.failedSends++;
      }
    }
  }

  /** Stops sending and waits for the streams to end. */
  async stopProducing(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
    for (const producer of this.producers) await producer.disconnect().catch(() => undefined);
  }

  async stopConsuming(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }

  /** The highest offset consumed per partition, plus one. */
  consumedEnds(): Map<number, number> {
    const ends = new Map<number, number>();
    for (const record of this.consumed) ends.set(record.partition, Math.max(ends.get(record.partition) ?? 0, record.offset + 1));
    return ends;
  }

  admin(): ReturnType<InstanceType<typeof Kafka>['admin']> {
    return this.kafka.admin();
  }
}
