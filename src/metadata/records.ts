/**
 * Cluster metadata records: the entries of the metadata log, applied in order to the
 * in-memory image. The Raft quorum will replicate exactly these records.
 */

export interface ClusterRecord {
  type: 'cluster';
  clusterId: string;
}

export interface TopicRecord {
  type: 'topic';
  name: string;
  /** Kafka's 22-character base64url uuid text. */
  topicId: string;
  /** Topic config overrides (values as strings, as Kafka keeps them). */
  configs: Record<string, string>;
}

export interface PartitionRecord {
  type: 'partition';
  topic: string;
  partition: number;
  replicas: number[];
  isr: number[];
  /** -1: no leader (every ISR member is fenced). */
  leader: number;
  /** Bumped when the leader changes (also to or from none). */
  leaderEpoch: number;
  /**
   * Bumped by every change of this partition's record (leader, ISR or replicas), as KRaft's
   * partition epoch; a leader's AlterPartition names the one it saw. Records written before it
   * existed lack it: read as 0.
   */
  partitionEpoch: number;
}

/** Replaces the whole set of a topic's config overrides. */
export interface TopicConfigRecord {
  type: 'topicConfig';
  name: string;
  configs: Record<string, string>;
}

export interface RemoveTopicRecord {
  type: 'removeTopic';
  name: string;
}

/** A node stopped (or resumed) heartbeating to the controller (KRaft's fencing). */
export interface NodeFenceRecord {
  type: 'nodeFence';
  nodeId: number;
  fenced: boolean;
}

/**
 * A block of producer ids handed to a node (KRaft's ProducerIdsRecord): the ids
 * [firstProducerId, nextProducerId) are that node's to give out, and the next block starts at
 * nextProducerId. KRaft's record holds only the end; the start is kept too so that a block
 * decided against an older image (a timed-out allocation that committed after all, then a
 * retry) is refused when it commits instead of handing the same ids out twice.
 */
export interface ProducerIdsRecord {
  type: 'producerIds';
  /** The node that asked for the block. */
  brokerId: number;
  /** KRaft's broker registration epoch; we have no registrations yet: always -1. */
  brokerEpoch: number;
  firstProducerId: number;
  nextProducerId: number;
}

export type MetadataRecord = ClusterRecord | TopicRecord | PartitionRecord | TopicConfigRecord | RemoveTopicRecord | NodeFenceRecord | ProducerIdsRecord;
