/**
 * What the broker decides about the metadata quorum before the node workers start: each node's
 * quorum settings (every node a voter; node 0 campaigns at once; a node that lost its metadata
 * dir rejoins), and the migration of a data dir written by the single-voter version.
 */
import { existsSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerConfig } from '../config/broker-config.js';
import { MetadataImage } from '../metadata/image.js';
import { MetadataLog } from '../metadata/metadata-log.js';
import { encodeQuorumSnapshot } from '../metadata/quorum-entry.js';
import type { RaftSnapshot } from '../raft/types.js';
import { systemClock } from '../runtime/clock.js';
import { Limits } from '../runtime/limits.js';
import type { Logger } from '../runtime/logger.js';
import { RAFT_DIRECTORY } from '../storage/raft-storage.js';
import type { QuorumSettings } from '../workers/quorum-protocol.js';

/** Where the single-voter metadata log of earlier versions lived, and where it goes once migrated. */
const PRE_RAFT_METADATA_DIRECTORY = 'metadata';
const MIGRATED_METADATA_DIRECTORY = 'metadata-pre-raft';

/** Every node is a voter; node 0 campaigns at once so a cluster has a controller in milliseconds. */
export function quorumSettingsFor(config: BrokerConfig, bootstrapSnapshot: RaftSnapshot | null, logger: Logger): QuorumSettings[] {
  const voters = Array.from({ length: config.nodes }, (_, nodeId) => nodeId);
  const rejoiningNodes = bootstrapSnapshot === null ? nodesThatLostMetadata(config.dataDir, config.nodes) : [];
  return voters.map((nodeId) => {
    const rejoining = rejoiningNodes.includes(nodeId);
    if (rejoining) logger.warn('node has no metadata dir while others do: it rejoins the quorum and votes once caught up', { node: nodeId });
    return {
      voters,
      tickMs: Limits.raftTickMs,
      electionTicks: Limits.raftElectionTicks,
      heartbeatTicks: Limits.raftHeartbeatTicks,
      snapshotIntervalEntries: Limits.raftSnapshotIntervalEntries,
      campaignAtStart: nodeId === 0,
      heartbeatIntervalMs: config.broker['broker.heartbeat.interval.ms'],
      rejoining,
      bootstrapSnapshot,
    };
  });
}

/**
 * A data dir written before the Raft quorum holds a single-voter metadata log: its records
 * become the first state of every voter (a snapshot at index 1), then it is moved aside.
 */
export function preRaftMetadataSnapshot(dataDir: string, logger: Logger): RaftSnapshot | null {
  const directory = join(dataDir, PRE_RAFT_METADATA_DIRECTORY);
  if (!existsSync(directory)) return null;
  const image = new MetadataImage();
  const log = MetadataLog.open(directory, systemClock, image);
  void log.close();
  logger.info('migrating the single-voter metadata log into the Raft quorum', { topics: image.topics.size });
  return { index: 1, term: 0, data: encodeQuorumSnapshot({ appliedIndex: 1, records: image.toRecords() }) };
}

/** Every voter holds the migrated state now: the old log is kept aside, not deleted. */
export function finishMigration(dataDir: string, logger: Logger): void {
  const from = join(dataDir, PRE_RAFT_METADATA_DIRECTORY);
  const to = join(dataDir, MIGRATED_METADATA_DIRECTORY);
  renameSync(from, to);
  logger.info('single-voter metadata log migrated; the old log is kept', { path: to });
}

/** Nodes whose metadata dir is empty while another node's is not: they lost it and rejoin. */
export function nodesThatLostMetadata(dataDir: string, nodeCount: number): number[] {
  const hasState = Array.from({ length: nodeCount }, (_, nodeId) => hasRaftState(join(dataDir, `node-${nodeId}`, RAFT_DIRECTORY)));
  if (!hasState.some((state) => state)) return [];
  return hasState.flatMap((state, nodeId) => (state ? [] : [nodeId]));
}

/** Whether a node's metadata dir holds anything a voter wrote. */
function hasRaftState(directory: string): boolean {
  if (!existsSync(directory)) return false;
  return readdirSync(directory).some((name) => name === 'quorum-state' || name.endsWith('.snapshot') || (name === 'raft.log' && statSync(join(directory, name)).size > 0));
}
