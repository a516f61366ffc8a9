/**
 * Metadata: brokers (one per node, each with its own listener), the controller, and topics
 * with their partitions' leaders. Unknown topics are auto-created when both the broker
 * (auto.create.topics.enable) and, from v4, the request allow it.
 */
import { isInternalTopic, topicNameProblem } from '../../controller/topic-names.js';
import type { RequestBody } from '../../protocol/codec/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { ApiKey } from '../../protocol/schema/index.js';
import type { TopicImage } from '../../metadata/image.js';
import type { BrokerServices, RequestContext } from '../services.js';
import type { NodeHandle } from '../../workers/node-handle.js';

type MetadataRequest = RequestBody<typeof ApiKey.Metadata>;

export async function handleMetadata(context: RequestContext, request: MetadataRequest): Promise<unknown> {
  const { services } = context;
  const version = context.header.apiVersion;
  // v0: an empty list means every topic; v1+: null means every topic, [] means none.
  const allTopics = request.topics === null || (version === 0 && request.topics.length === 0);
  const names = allTopics ? [...services.image.topics.keys()] : request.topics!.map((topic) => topic.name);
  const allowAutoCreate = services.settings['auto.create.topics.enable'] && (version < 4 || request.allowAutoTopicCreation);
  if (!allTopics && allowAutoCreate) {
    const missing = names.filter((name) => services.image.topic(name) === undefined && topicNameProblem(name) === null);
    if (missing.length > 0) await services.autoCreateTopics(missing);
  }
  const liveNodes = new Set(services.listeners.map((listener) => listener.nodeId));
  return {
    throttleTimeMs: 0,
    brokers: services.listeners.map((listener) => ({ nodeId: listener.nodeId, host: listener.host, port: listener.port, rack: null })),
    clusterId: services.image.clusterId,
    controllerId: metadataControllerId(services, context.nodeId, liveNodes),
    topics: names.map((name) => describeTopic(name, services.image.topic(name), services.nodes, liveNodes)),
    clusterAuthorizedOperations: -2147483648,
  };
}

/**
 * Any listener takes admin requests (they reach the controller from there), so while the quorum
 * elects a controller a live node is named, as KRaft brokers name a live broker: clients that
 * wait for a known controller (librdkafka) do not stall through an election. Only ever a voter:
 * this node if it is one, else the lowest live voter.
 */
function metadataControllerId(services: BrokerServices, nodeId: number, liveNodes: ReadonlySet<number>): number {
  if (services.controllerId >= 0) return services.controllerId;
  const voters = services.quorumVoters;
  if (voters.includes(nodeId)) return nodeId;
  return voters.find((voter) => liveNodes.has(voter)) ?? voters[0]!;
}

function describeTopic(name: string, topic: TopicImage | undefined, nodes: readonly NodeHandle[], liveNodes: ReadonlySet<number>): unknown {
  const nodeCount = nodes.length;
  if (topic === undefined) {
    const errorCode = topicNameProblem(name) === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION;
    return { errorCode, name, isInternal: false, partitions: [], topicAuthorizedOperations: -2147483648 };
  }
  return {
    errorCode: ErrorCode.NONE,
    name,
    isInternal: isInternalTopic(name),
    partitions: topic.partitions.map((partition) => {
      // A leader whose node is down (killed) leaves the partition without one (replication factor 1).
      const online = partition.leader >= 0 && partition.leader < nodeCount && liveNodes.has(partition.leader);
      // A replica whose node's log dir failed (a full disk) is offline, as in Kafka.
      const offlineReplica = (replica: number) => replica >= nodeCount || nodes[replica]!.logDirOfflineReason !== null;
      const errorCode = !online ? ErrorCode.LEADER_NOT_AVAILABLE : offlineReplica(partition.leader) ? ErrorCode.KAFKA_STORAGE_ERROR : ErrorCode.NONE;
      return {
        errorCode,
        partitionIndex: partition.partition,
        leaderId: online ? partition.leader : -1,
        leaderEpoch: partition.leaderEpoch,
        replicaNodes: partition.replicas,
        isrNodes: partition.isr,
        offlineReplicas: partition.replicas.filter(offlineReplica),
      };
    }),
    topicAuthorizedOperations: -2147483648,
  };
}
