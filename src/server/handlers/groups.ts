/**
 * Consumer groups on the front end: FindCoordinator names the node that leads the group's
 * `__consumer_offsets` partition; every group request must arrive on that node's listener
 * (NOT_COORDINATOR otherwise, so the client looks the coordinator up again) and is forwarded
 * to the coordinator inside that node worker. `__consumer_offsets` is created on first use.
 */
import type { RequestBody } from '../../protocol/codec/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { ApiKey } from '../../protocol/schema/index.js';
import { coordinatorPartitionFor } from '../../group/coordinator-partition.js';
import type { NodeHandle } from '../../workers/node-handle.js';
import type { RequestContext } from '../services.js';

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';
const KEY_TYPE_GROUP = 0;

type Located = { errorCode: 0; node: NodeHandle; partition: number; nodeId: number } | { errorCode: number; node: null; partition: -1; nodeId: -1 };

/** The coordinator of `groupId`, creating `__consumer_offsets` when it does not exist yet. */
async function locateCoordinator(context: RequestContext, groupId: string, create: boolean): Promise<Located> {
  const { services } = context;
  let topic = services.image.topic(CONSUMER_OFFSETS_TOPIC);
  if (topic === undefined && create) {
    await services.ensureOffsetsTopic();
    topic = services.image.topic(CONSUMER_OFFSETS_TOPIC);
  }
  if (topic === undefined || topic.partitions.length === 0) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, node: null, partition: -1, nodeId: -1 };
  const partition = coordinatorPartitionFor(groupId, topic.partitions.length);
  const leader = topic.partitions[partition]!.leader;
  const node = services.nodes[leader];
  if (node === undefined) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, node: null, partition: -1, nodeId: -1 };
  return { errorCode: ErrorCode.NONE, node, partition, nodeId: leader };
}

export async function handleFindCoordinator(context: RequestContext, request: RequestBody<typeof ApiKey.FindCoordinator>): Promise<unknown> {
  const notAvailable = (errorMessage: string) => ({ throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage, nodeId: -1, host: '', port: -1 });
  if (request.keyType !== KEY_TYPE_GROUP) return notAvailable('transactions are not supported yet');
  const located = await locateCoordinator(context, request.key, true);
  if (located.node === null) return notAvailable('the group coordinator is not available yet');
  const listener = context.services.listeners.find((entry) => entry.nodeId === located.nodeId);
  if (listener === undefined) return notAvailable(`the group coordinator's node ${located.nodeId} is down`);
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, nodeId: listener.nodeId, host: listener.host, port: listener.port };
}

/** Forwards one group request to its coordinator, or returns the error code that stops it. */
async function forward(context: RequestContext, groupId: string, body: unknown): Promise<{ errorCode: number; response: unknown }> {
  const located = await locateCoordinator(context, groupId, false);
  if (located.node === null) return { errorCode: located.errorCode, response: null };
  if (located.nodeId !== context.nodeId) return { errorCode: ErrorCode.NOT_COORDINATOR, response: null };
  const response = await located.node.control<{ errorCode?: number } | null>({
    op: 'group',
    partition: located.partition,
    apiKey: context.header.apiKey,
    apiVersion: context.header.apiVersion,
    clientId: context.header.clientId ?? '',
    clientHost: context.clientHost,
    body,
  });
  if (response === null) return { errorCode: ErrorCode.NOT_COORDINATOR, response: null };
  return { errorCode: ErrorCode.NONE, response };
}

export async function handleJoinGroup(context: RequestContext, request: RequestBody<typeof ApiKey.JoinGroup>): Promise<unknown> {
  const { errorCode, response } = await forward(context, request.groupId, request);
  return response ?? { throttleTimeMs: 0, errorCode, generationId: -1, protocolName: '', leader: '', memberId: request.memberId, members: [] };
}

export async function handleSyncGroup(context: RequestContext, request: RequestBody<typeof ApiKey.SyncGroup>): Promise<unknown> {
  const { errorCode, response } = await forward(context, request.groupId, request);
  return response ?? { throttleTimeMs: 0, errorCode, assignment: Buffer.alloc(0) };
}

export async function handleHeartbeat(context: RequestContext, request: RequestBody<typeof ApiKey.Heartbeat>): Promise<unknown> {
  const { errorCode, response } = await forward(context, request.groupId, request);
  return response ?? { throttleTimeMs: 0, errorCode };
}

export async function handleLeaveGroup(context: RequestContext, request: RequestBody<typeof ApiKey.LeaveGroup>): Promise<unknown> {
  const { errorCode, response } = await forward(context, request.groupId, request);
  return response ?? { throttleTimeMs: 0, errorCode, members: [] };
}

type TopicPartitions<P> = { name: string; partitions: P[] };

/**
 * Splits a request's topics into partitions that exist and those that do not; Kafka answers the
 * latter UNKNOWN_TOPIC_OR_PARTITION itself and never passes them to the coordinator.
 */
function splitKnown<P extends { partitionIndex: number }>(context: RequestContext, topics: ReadonlyArray<TopicPartitions<P>>): { known: Array<TopicPartitions<P>>; isKnown: (topic: string, partition: number) => boolean } {
  const isKnown = (topic: string, partition: number) => context.services.image.partition(topic, partition) !== undefined;
  const known = topics
    .map((topic) => ({ ...topic, partitions: topic.partitions.filter((partition) => isKnown(topic.name, partition.partitionIndex)) }))
    .filter((topic) => topic.partitions.length > 0);
  return { known, isKnown };
}

/** Per-partition results in request order: unknown partitions, else the coordinator's answer, else `fallbackCode`. */
function mergePartitionResults<P extends { partitionIndex: number }>(
  topics: ReadonlyArray<TopicPartitions<P>>,
  isKnown: (topic: string, partition: number) => boolean,
  answered: ReadonlyArray<TopicPartitions<{ partitionIndex: number; errorCode: number }>>,
  fallbackCode: number,
): Array<TopicPartitions<{ partitionIndex: number; errorCode: number }>> {
  const codes = new Map<string, number>();
  for (const topic of answered) for (const partition of topic.partitions) codes.set(`${topic.name}\u0000${partition.partitionIndex}`, partition.errorCode);
  return topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((partition) => ({
      partitionIndex: partition.partitionIndex,
      errorCode: !isKnown(topic.name, partition.partitionIndex)
        ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        : (codes.get(`${topic.name}\u0000${partition.partitionIndex}`) ?? fallbackCode),
    })),
  }));
}

export async function handleOffsetCommit(context: RequestContext, request: RequestBody<typeof ApiKey.OffsetCommit>): Promise<unknown> {
  const { known, isKnown } = splitKnown(context, request.topics);
  if (known.length === 0) return { throttleTimeMs: 0, topics: mergePartitionResults(request.topics, isKnown, [], ErrorCode.NONE) };
  const { errorCode, response } = await forward(context, request.groupId, { ...request, topics: known });
  const answered = (response as { topics?: Array<TopicPartitions<{ partitionIndex: number; errorCode: number }>> } | null)?.topics ?? [];
  return { throttleTimeMs: 0, topics: mergePartitionResults(request.topics, isKnown, answered, errorCode) };
}

export async function handleOffsetFetch(context: RequestContext, request: RequestBody<typeof ApiKey.OffsetFetch>): Promise<unknown> {
  const { errorCode, response } = await forward(context, request.groupId, request);
  return (
    response ?? {
      throttleTimeMs: 0,
      topics: (request.topics ?? []).map((topic) => ({
        name: topic.name,
        partitions: topic.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: null, errorCode })),
      })),
      errorCode,
    }
  );
}

export async function handleOffsetDelete(context: RequestContext, request: RequestBody<typeof ApiKey.OffsetDelete>): Promise<unknown> {
  const { known, isKnown } = splitKnown(context, request.topics);
  const { errorCode, response } = await forward(context, request.groupId, { ...request, topics: known });
  const answer = response as { errorCode: number; topics: Array<TopicPartitions<{ partitionIndex: number; errorCode: number }>> } | null;
  if (answer === null) return { errorCode, throttleTimeMs: 0, topics: [] };
  if (answer.errorCode !== ErrorCode.NONE) return { errorCode: answer.errorCode, throttleTimeMs: 0, topics: [] };
  return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics: mergePartitionResults(request.topics, isKnown, answer.topics, ErrorCode.NONE) };
}

/** DescribeGroups may name groups of several coordinators: each is answered or refused alone. */
export async function handleDescribeGroups(context: RequestContext, request: RequestBody<typeof ApiKey.DescribeGroups>): Promise<unknown> {
  const groups = await Promise.all(
    request.groups.map(async (groupId) => {
      const { errorCode, response } = await forward(context, groupId, { groups: [groupId], includeAuthorizedOperations: request.includeAuthorizedOperations });
      if (response !== null) return (response as { groups: unknown[] }).groups[0];
      return { errorCode, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: -2147483648 };
    }),
  );
  return { throttleTimeMs: 0, groups };
}

export async function handleDeleteGroups(context: RequestContext, request: RequestBody<typeof ApiKey.DeleteGroups>): Promise<unknown> {
  const results = await Promise.all(
    request.groupsNames.map(async (groupId) => {
      const { errorCode, response } = await forward(context, groupId, { groupsNames: [groupId] });
      if (response !== null) return (response as { results: unknown[] }).results[0];
      return { groupId, errorCode };
    }),
  );
  return { throttleTimeMs: 0, results };
}

/** ListGroups: like Kafka, each broker lists the groups it coordinates. */
export async function handleListGroups(context: RequestContext): Promise<unknown> {
  const node = context.services.nodes[context.nodeId]!;
  const groups = await node.control<Array<{ groupId: string; protocolType: string }>>({ op: 'listGroups' });
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups };
}

