/**
 * What the broker decides about the metadata quorum before the node workers start: each node's
 * quorum settings (the voters of `controller.quorum.voters`, every node by default, and the
 * other nodes as observers; the lowest voter campaigns at once; a voter that lost its metadata
 * dir rejoins), the voter set recorded in the data dir (a restart with another one is refused),
 * and the migration of a data dir written by the single-voter version.
 */
import { existsSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, quorumVoterIds, type BrokerConfig } from '../config/broker-config.js';
import { MetadataImage } from '../metadata/image.js';
import { MetadataLog } from '../metadata/metadata-log.js';
import { encodeQuorumSnapshot } from '../metadata/quorum-entry.js';
import type { RaftSnapshot } from '../raft/types.js';
import { systemClock } from '../runtime/clock.js';
import { Limits } from '../runtime/limits.js';
import type { Logger } from '../runtime/logger.js';
import { writeFileAtomically } from '../storage/checkpoint-file.js';
import { RAFT_DIRECTORY } from '../storage/raft-storage.js';
import type { QuorumSettings } from '../workers/quorum-protocol.js';

/** Where the single-voter metadata log of earlier versions lived, and where it goes once migrated. */
const PRE_RAFT_METADATA_DIRECTORY = 'metadata';
const MIGRATED_METADATA_DIRECTORY = 'metadata-pre-raft';

/** Where the data dir records its quorum's voter set (see checkRecordedVoters). */
export const QUORUM_VOTERS_FILE = 'quorum-voters.json';

/**
 * The voters of `controller.quorum.voters` and every other node as an observer; the lowest
 * voter campaigns at once so a cluster has a controller in milliseconds. Throws a ConfigError
 * when the data dir was written with another voter set.
 */
export function quorumSettingsFor(config: BrokerConfig, bootstrapSnapshot: RaftSnapshot | null, logger: Logger): QuorumSettings[] {
  const voters = quorumVoterIds(config);
  const nodeIds = Array.from({ length: config.nodes }, (_, nodeId) => nodeId);
  const observers = nodeIds.filter((nodeId) => !voters.includes(nodeId));
  checkRecordedVoters(config.dataDir, voters, config.nodes);
  // An observer never votes: an empty metadata dir is only a fresh observer catching up.
  const rejoiningNodes = bootstrapSnapshot === null ? nodesThatLostMetadata(config.dataDir, config.nodes).filter((nodeId) => voters.includes(nodeId)) : [];
  if (observers.length > 0) logger.info('metadata quorum: observers follow the metadata log without voting', { voters: voters.join(','), observers: observers.join(',') });
  return nodeIds.map((nodeId) => {
    const rejoining = rejoiningNodes.includes(nodeId);
    if (rejoining) logger.warn('node has no metadata dir while others do: it rejoins the quorum and votes once caught up', { node: nodeId });
    return {
      voters,
      observers,
      tickMs: Limits.raftTickMs,
      electionTicks: Limits.raftElectionTicks,
      heartbeatTicks: Limits.raftHeartbeatTicks,
      snapshotIntervalEntries: Limits.raftSnapshotIntervalEntries,
      campaignAtStart: nodeId === voters[0],
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

/**
 * Changing the voter set is a Raft membership change, which a restart cannot make safely: with
 * voters {0,1,2,3,4} an entry may be committed on {2,3,4} only, and a restart with voters
 * {0,1,2} would let {0,1} elect a leader without it. So the data dir records its voter set at
 * the first start and a restart with another one is refused. Observers may come and go (they
 * never count toward a majority). A data dir from before the record ran every node as a voter.
 */
export function checkRecordedVoters(dataDir: string, voters: readonly number[], nodeCount: number): void {
  const path = join(dataDir, QUORUM_VOTERS_FILE);
  const recorded = readRecordedVoters(path) ?? votersBeforeTheRecord(dataDir, nodeCount);
  if (recorded !== null && recorded.join(',') !== voters.join(',')) {
    throw new ConfigError(
      `"controller.quorum.voters" is ${voters.join(',')} but the data dir ${dataDir} was written by the voters ${recorded.join(',')}: ` +
        'changing the voters is a Raft membership change, which a restart cannot make safely (entries committed by the old majority could be lost). ' +
        `Start with "controller.quorum.voters": "${recorded.join(',')}" (nodes outside it may be added or removed as observers), or start on a new data dir.`,
    );
  }
  if (recorded === null || !existsSync(path)) {
    writeFileAtomically(path, `${JSON.stringify({ voters })}\n`);
  }
}

function readRecordedVoters(path: string): number[] | null {
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON (${(error as Error).message}): restore it, or start on a new data dir`);
  }
  const voters = (parsed as { voters?: unknown } | null)?.voters;
  if (!Array.isArray(voters) || !voters.every((id) => Number.isSafeInteger(id) && id >= 0)) throw new ConfigError(`${path} holds no voter list: restore it, or start on a new data dir`);
  return voters as number[];
}

/** Metadata state written before the voter set was recorded: every node voted then. */
function votersBeforeTheRecord(dataDir: string, nodeCount: number): number[] | null {
  const nodeIds = Array.from({ length: nodeCount }, (_, nodeId) => nodeId);
  const written = nodeIds.some((nodeId) => hasRaftState(join(dataDir, `node-${nodeId}`, RAFT_DIRECTORY)));
  return written ? nodeIds : null;
}
