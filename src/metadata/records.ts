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

export type MetadataRecord = ClusterRecord | TopicRecord | PartitionRecord | TopicConfigRecord | RemoveTopicRecord | NodeFenceRecord;
