/**
 * The classic consumer-group coordinator: one pure `GroupCoordinator` per `__consumer_offsets`
 * partition a node leads, the partition routing function, and the `__consumer_offsets` record
 * codec.
 *
 * Integration (node worker):
 * - Routing: a group lives on partition `coordinatorPartitionFor(groupId, offsetsPartitionCount)`;
 *   FindCoordinator answers with that partition's leader, and the leader's worker hands the
 *   decoded request to the instance for that partition. An instance answers NOT_COORDINATOR for
 *   groups of other partitions. DescribeGroups / DeleteGroups: split the ids by partition, merge
 *   the entries in request order. ListGroups: concatenate every instance's groups; report the
 *   first non-zero errorCode.
 * - Lifecycle: on becoming leader of partition p, construct the instance, then `load()` it with
 *   the partition's committed records from the log start (oldest first; control batches and
 *   aborted transactional offset commits filtered out). On losing leadership call `unload()`
 *   and drop the instance.
 * - Time: call `tick()` from the node tick (every few ms is fine: it returns at once unless a
 *   timer is due; `nextDeadlineMs()` tells when one is). Timer precision is the tick period.
 * - Persistence: `persist(records, done)` appends to the partition (acks=all semantics), never
 *   throws, and calls `done` exactly once, after the covering fsync/replication, in append order.
 */
export {
  GroupCoordinator,
  CoordinatorPhase,
  type CoordinatorPhaseName,
  type GroupCoordinatorOptions,
  type PersistDone,
} from './group-coordinator.js';
export type { GroupSnapshot, MemberSnapshot, OffsetSnapshot } from './responses.js';
export { defaultGroupCoordinatorConfig, resolveGroupCoordinatorConfig, type GroupCoordinatorConfig } from './config.js';
export { coordinatorPartitionFor, javaStringHashCode, kafkaAbs } from './coordinator-partition.js';
export { GroupState, type GroupStateName } from './group-metadata.js';
export { OffsetsAppendError, appendErrorCode, offsetCommitErrorFor, storeGroupErrorFor } from './persist-errors.js';
export { consumerProtocolType, subscriptionTopics } from './consumer-protocol.js';
export * from './offsets-records.js';
export type * from './types.js';
