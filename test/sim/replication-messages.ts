/**
 * The messages of the replication simulation: follower fetches and their answers (Kafka's
 * Fetch with currentLeaderEpoch, lastFetchedEpoch and divergingEpoch), AlterPartition, broker
 * registration and heartbeats, and metadata log fetches. The controller's id is CONTROLLER_ID.
 */
import type { AlterPartitionRequest } from '../../src/controller/replication-control.js';
import type { MetadataRecord } from '../../src/metadata/records.js';
import type { EpochEndOffset } from '../../src/replication/leader-epoch-cache.js';
import type { SimBatch } from './replication-log.js';

export const CONTROLLER_ID = 1000;

export interface FetchRequest {
  readonly kind: 'fetch';
  readonly from: number;
  readonly to: number;
  readonly partition: number;
  readonly fetchId: number;
  readonly fetchOffset: number;
  readonly lastFetchedEpoch: number;
  readonly currentLeaderEpoch: number;
}

export interface FetchResponse {
  readonly kind: 'fetchResponse';
  readonly from: number;
  readonly to: number;
  readonly partition: number;
  readonly fetchId: number;
  readonly leaderEpoch: number;
  readonly errorCode: number;
  readonly diverging: EpochEndOffset | null;
  readonly batches: readonly SimBatch[];
  readonly highWatermark: number;
}

export interface AlterPartitionMessage {
  readonly kind: 'alterPartition';
  readonly from: number;
  readonly to: number;
  readonly proposalId: number;
  /** Each send of a proposal is a new attempt; only the latest attempt's answer counts (request correlation). */
  readonly attempt: number;
  readonly request: AlterPartitionRequest;
}

export interface AlterPartitionResponse {
  readonly kind: 'alterPartitionResponse';
  readonly from: number;
  readonly to: number;
  readonly partition: number;
  readonly proposalId: number;
  readonly attempt: number;
  readonly errorCode: number;
}

export interface RegisterMessage {
  readonly kind: 'register';
  readonly from: number;
  readonly to: number;
  readonly incarnation: number;
}

export interface RegisterResponse {
  readonly kind: 'registerResponse';
  readonly from: number;
  readonly to: number;
  readonly incarnation: number;
  /** The node acts on partitions only once it applied the metadata log up to here. */
  readonly catchUpOffset: number;
}

export interface HeartbeatMessage {
  readonly kind: 'heartbeat';
  readonly from: number;
  readonly to: number;
  readonly incarnation: number;
}

export interface MetadataFetch {
  readonly kind: 'metadataFetch';
  readonly from: number;
  readonly to: number;
  readonly fromOffset: number;
}

export interface MetadataResponse {
  readonly kind: 'metadataResponse';
  readonly from: number;
  readonly to: number;
  readonly fromOffset: number;
  readonly records: readonly MetadataRecord[];
}

export type SimMessage =
  | FetchRequest
  | FetchResponse
  | AlterPartitionMessage
  | AlterPartitionResponse
  | RegisterMessage
  | RegisterResponse
  | HeartbeatMessage
  | MetadataFetch
  | MetadataResponse;
