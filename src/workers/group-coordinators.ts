/**
 * The group coordinators a node hosts: one pure GroupCoordinator per `__consumer_offsets`
 * partition the node leads. This is their I/O edge: it loads each from its partition log,
 * persists their records as batches (acknowledged after the covering fsync), routes forwarded
 * group requests to the right instance, and drives their ticks.
 */
import { randomUUID } from 'node:crypto';
import type { GroupCoordinator, GroupCoordinatorConfig, ListedGroup, OffsetsTopicRecord } from '../group/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { decodeRecordBatches, encodeRecordBatch } from '../protocol/records/records.js';
import { ApiKey } from '../protocol/api-keys.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import type { PartitionReplica } from './partition-replica.js';

export interface ForwardedGroupRequest {
  partition: number;
  apiKey: number;
  apiVersion: number;
  clientId: string;
  clientHost: string;
  body: unknown;
}

const LOAD_CHUNK_BYTES = 4 * 1024 * 1024;
/** offsets.commit.timeout.ms (Kafka's default): how long a commit waits for the ISR. */
const OFFSETS_COMMIT_TIMEOUT_MS = 5000;

/** The coordinator code is loaded on first use: most nodes of a test broker never host a group. */
type GroupModule = typeof import('../group/index.js');
let groupModule: Promise<GroupModule> | null = null;
const loadGroupModule = (): Promise<GroupModule> => (groupModule ??= import('../group/index.js'));

export class GroupCoordinators {
  private readonly byPartition = new Map<number, GroupCoordinator>();
  private module: GroupModule | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly config: Partial<GroupCoordinatorConfig>,
    /** Called after records reach the log, so the node can move the high watermark. */
    private readonly onAppended: (replica: PartitionReplica) => void,
    /**
     * Asks the node to flush `replica`'s log: with the other appends of the ring drain under
     * way if there is one (so a drain of commits costs one fsync, inline when alone), else now.
     */
    private readonly requestFlush: (replica: PartitionReplica) => void = (replica) => void replica.log.flush().catch(() => undefined),
    /**
     * Resolves with NONE once the partition's high watermark reaches `requiredOffset` (the ISR
     * has the records, as Kafka commits offsets with acks=all), else with the error code.
     */
    private readonly awaitReplicated: (replica: PartitionReplica, requiredOffset: number, timeoutMs: number) => Promise<number> = async () => ErrorCode.NONE,
    /** Records were appended to `replica`'s log as leader: its followers' parked fetches may go. */
    private readonly leaderAppended: (replica: PartitionReplica) => void = () => {},
  ) {}

  /** Starts coordinating `replica`'s partition: builds a coordinator and loads it from the log. */
  async host(replica: PartitionReplica, partitionCount: number): Promise<void> {
    const module = (this.module ??= await loadGroupModule());
    if (this.byPartition.has(replica.partition)) return;
    const coordinator = new module.GroupCoordinator({
      partition: replica.partition,
      partitionCount,
      clock: this.clock,
      newMemberId: (clientId, groupInstanceId) => `${groupInstanceId ?? clientId}-${randomUUID()}`,
      persist: (records, done) => this.persist(replica, records, done),
      config: this.config,
      logger: this.logger,
    });
    const started = this.clock.nowMs();
    coordinator.load(readOffsetsRecords(replica));
    this.logger.debug('group coordinator loaded', { partition: replica.partition, ms: this.clock.nowMs() - started });
    this.byPartition.set(replica.partition, coordinator);
  }

  release(partition: number): void {
    this.byPartition.get(partition)?.unload();
    this.byPartition.delete(partition);
  }

  releaseAll(): void {
    for (const partition of [...this.byPartition.keys()]) this.release(partition);
  }

  tick(): void {
    for (const coordinator of this.byPartition.values()) coordinator.tick();
  }

  listGroups(): ListedGroup[] {
    const groups: ListedGroup[] = [];
    for (const coordinator of this.byPartition.values()) groups.push(...coordinator.listGroups(0).groups);
    return groups;
  }

  /** Runs a forwarded request; null when this node does not coordinate that partition. */
  handle(request: ForwardedGroupRequest): Promise<unknown> | null {
    const coordinator = this.byPartition.get(request.partition);
    if (coordinator === undefined) return null;
    const version = request.apiVersion;
    const body = request.body as never;
    return new Promise((resolve) => {
      switch (request.apiKey) {
        case ApiKey.JoinGroup:
          return coordinator.joinGroup(version, body, request.clientId, request.clientHost, resolve);
        case ApiKey.SyncGroup:
          return coordinator.syncGroup(version, body, resolve);
        case ApiKey.Heartbeat:
          return coordinator.heartbeat(version, body, resolve);
        case ApiKey.LeaveGroup:
          return coordinator.leaveGroup(version, body, resolve);
        case ApiKey.OffsetCommit:
          return coordinator.offsetCommit(version, body, resolve);
        case ApiKey.OffsetFetch:
          return resolve(coordinator.offsetFetch(version, body));
        case ApiKey.OffsetDelete:
          return coordinator.offsetDelete(version, body, resolve);
        case ApiKey.DescribeGroups: {
          const { groups, includeAuthorizedOperations } = request.body as { groups: string[]; includeAuthorizedOperations: boolean };
          return resolve({ throttleTimeMs: 0, groups: coordinator.describeGroups(version, groups, includeAuthorizedOperations) });
        }
        case ApiKey.DeleteGroups: {
          const { groupsNames } = request.body as { groupsNames: string[] };
          return coordinator.deleteGroups(version, groupsNames, (results) => resolve({ throttleTimeMs: 0, results }));
        }
        default:
          throw new Error(`api ${request.apiKey} is not a group request`);
      }
    });
  }

  /** Appends coordinator records as one batch; `done` after the covering fsync (or failure). */
  private persist(replica: PartitionReplica, records: readonly OffsetsTopicRecord[], done: (error: Error | null) => void): void {
    let lastOffset: number;
    const problem = replica.state.appendProblem(-1, replica.log.config.minInsyncReplicas);
    if (problem !== null) {
      done(new this.module!.OffsetsAppendError(`${replica.topic}-${replica.partition} cannot take acks=all appends now`, problem));
      return;
    }
    try {
      const batch = encodeRecordBatch({ records: records.map((record) => ({ key: record.key, value: record.value })), timestampMs: this.clock.nowMs() });
      lastOffset = replica.log.appendInternal(batch, replica.leaderEpoch).lastOffset;
      this.leaderAppended(replica);
    } catch (error) {
      const code = error instanceof KafkaError ? error.code : ErrorCode.UNKNOWN_SERVER_ERROR;
      done(new this.module!.OffsetsAppendError(error instanceof Error ? error.message : String(error), code));
      return;
    }
    const durable = replica.log.whenDurable(lastOffset);
    if (replica.waitsForFsync) this.requestFlush(replica);
    const replicated = this.awaitReplicated(replica, lastOffset + 1, OFFSETS_COMMIT_TIMEOUT_MS);
    durable.then(
      async () => {
        this.onAppended(replica);
        const errorCode = await replicated;
        done(errorCode === ErrorCode.NONE ? null : new this.module!.OffsetsAppendError(`${replica.topic}-${replica.partition}: the records were not replicated`, errorCode));
      },
      (error: unknown) => done(new this.module!.OffsetsAppendError(error instanceof Error ? error.message : String(error), ErrorCode.KAFKA_STORAGE_ERROR)),
    );
  }
}

/** Every record of the partition, oldest first, control batches left out. */
function* readOffsetsRecords(replica: PartitionReplica): Generator<OffsetsTopicRecord> {
  const log = replica.log;
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = log.read(offset, LOAD_CHUNK_BYTES);
    if (records.length === 0) break;
    for (const batch of decodeRecordBatches(records)) {
      offset = batch.baseOffset + batch.lastOffsetDelta + 1;
      if (batch.isControl) continue;
      for (const record of batch.records) {
        if (record.key !== null) yield { key: Buffer.from(record.key), value: record.value === null ? null : Buffer.from(record.value) };
      }
    }
  }
}
