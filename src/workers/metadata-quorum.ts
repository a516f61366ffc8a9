/**
 * A node's seat in the Raft metadata quorum, inside its worker thread: the Raft core and its
 * Ready driver over the node's own metadata dir (`__cluster_metadata-0`), a state machine that
 * applies committed entries to the node's metadata image and reports each to the front thread
 * (which follows the committed log as an observer), and a transport through the front thread.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetadataImage } from '../metadata/image.js';
import type { MetadataRecord } from '../metadata/records.js';
import { decodeQuorumEntry, decodeQuorumSnapshot, encodeQuorumSnapshot } from '../metadata/quorum-entry.js';
import { RaftCore } from '../raft/raft-core.js';
import { RaftDriver, type RaftStateMachine } from '../raft/raft-driver.js';
import type { RaftEntry, RaftMessage, RaftSnapshot } from '../raft/types.js';
import type { Logger } from '../runtime/logger.js';
import type { Random } from '../runtime/random.js';
import { FileRaftStorage, RAFT_DIRECTORY } from '../storage/raft-storage.js';
import type { QuorumCommand, QuorumEvent, QuorumSettings, QuorumStatus } from './quorum-protocol.js';

/** Kept in the metadata dir while the node rejoins after losing it, so a crash meanwhile does not forget. */
const REJOINING_MARKER = 'rejoining';

/** Who inside the node follows the applied metadata (the node's MetadataPublisher). */
export interface AppliedMetadataListener {
  entryApplied(index: number, records: readonly MetadataRecord[], image: MetadataImage): void;
  snapshotRestored(index: number, image: MetadataImage): void;
}

class NodeMetadataMachine implements RaftStateMachine {
  image = new MetadataImage();
  appliedIndex = 0;

  constructor(
    private readonly nodeId: number,
    private readonly post: (event: QuorumEvent) => void,
    private readonly listener: AppliedMetadataListener | null,
  ) {}

  apply(entry: RaftEntry): void {
    const { records } = decodeQuorumEntry(entry.data);
    // An entry that no longer fits the image is skipped here as on every node (see applyEntry).
    const applied = this.image.applyEntry(records) === null ? records : [];
    this.image.markApplied(entry.index);
    this.appliedIndex = entry.index;
    this.listener?.entryApplied(entry.index, applied, this.image);
    this.post({ type: 'metadataApplied', nodeId: this.nodeId, index: entry.index, term: entry.term, data: entry.data });
  }

  restore(snapshot: RaftSnapshot): void {
    const body = decodeQuorumSnapshot(snapshot.data);
    this.image = new MetadataImage();
    for (const record of body.records) this.image.apply(record);
    this.image.markApplied(snapshot.index);
    this.appliedIndex = snapshot.index;
    this.listener?.snapshotRestored(snapshot.index, this.image);
    this.post({ type: 'metadataSnapshot', nodeId: this.nodeId, index: snapshot.index, term: snapshot.term, data: snapshot.data });
  }

  snapshotData(): Uint8Array {
    return encodeQuorumSnapshot({ appliedIndex: this.appliedIndex, records: this.image.toRecords() });
  }
}

export class MetadataQuorumMember {
  readonly core: RaftCore;
  private readonly driver: RaftDriver;
  private readonly storage: FileRaftStorage;
  private readonly machine: NodeMetadataMachine;
  private readonly directory: string;
  private lastStatus = '';
  private ticker: NodeJS.Timeout | null = null;
  private heartbeats: NodeJS.Timeout | null = null;

  constructor(
    readonly nodeId: number,
    nodeDataDir: string,
    settings: QuorumSettings,
    private readonly post: (event: QuorumEvent) => void,
    private readonly logger: Logger,
    random: Random,
    listener: AppliedMetadataListener | null = null,
  ) {
    this.directory = join(nodeDataDir, RAFT_DIRECTORY);
    const marker = join(this.directory, REJOINING_MARKER);
    this.storage = openStorage(this.directory, settings.bootstrapSnapshot);
    const isVoter = settings.voters.includes(nodeId);
    if (settings.rejoining && isVoter) writeFileSync(marker, 'this node lost its metadata dir and does not vote until a leader has caught it up\n');
    const rejoining = isVoter && existsSync(marker);
    if (rejoining) logger.warn('metadata quorum: rejoining after losing its metadata dir; not voting until caught up', { node: nodeId });
    this.core = new RaftCore(
      { nodeId, voters: settings.voters, observers: settings.observers, electionTicks: settings.electionTicks, heartbeatTicks: settings.heartbeatTicks, random, rejoining, campaignAtStart: settings.campaignAtStart && isVoter && !rejoining, storageId: this.storage.storageId },
      this.storage.load(),
    );
    this.machine = new NodeMetadataMachine(nodeId, post, listener);
    this.driver = new RaftDriver(this.core, this.storage, { send: (message: RaftMessage) => post({ type: 'raft', message }) }, this.machine, {
      snapshotIntervalEntries: settings.snapshotIntervalEntries,
      onStorageFailure: (error) => {
        logger.error('metadata quorum: storage failed; this node stops voting', { node: nodeId, error: error.message });
        post({ type: 'quorumFailed', nodeId, error: error.message });
      },
    });
    this.ticker = setInterval(() => this.tick(), settings.tickMs);
    // A paused or stuck worker stops these, and the controller fences it.
    this.heartbeats = setInterval(() => post({ type: 'nodeHeartbeat', nodeId }), settings.heartbeatIntervalMs);
    post({ type: 'nodeHeartbeat', nodeId });
    this.afterInput();
  }

  get image(): MetadataImage {
    return this.machine.image;
  }

  handle(command: QuorumCommand): void {
    if (command.type === 'raft') this.driver.step(command.message);
    else if (command.type === 'propose') this.propose(command.operationId, command.data);
    this.afterInput();
  }

  private propose(operationId: string, data: Uint8Array): void {
    const term = this.core.term;
    const index = this.driver.propose(data);
    if (index === null) this.post({ type: 'proposeRejected', nodeId: this.nodeId, operationId, leaderId: this.core.leaderId });
    else this.post({ type: 'proposeAccepted', nodeId: this.nodeId, operationId, index, term });
  }

  private tick(): void {
    this.driver.tick();
    this.afterInput();
  }

  private afterInput(): void {
    const core = this.core;
    if (!core.abstaining && existsSync(join(this.directory, REJOINING_MARKER))) {
      rmSync(join(this.directory, REJOINING_MARKER), { force: true });
      this.logger.info('metadata quorum: caught up after rejoining; voting again', { node: this.nodeId });
    }
    const key = `${core.term}/${core.role}/${core.leaderId}/${core.commitIndex}/${core.abstaining}`;
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    const status: QuorumStatus = { type: 'quorumStatus', nodeId: this.nodeId, term: core.term, role: core.role, leaderId: core.leaderId, commitIndex: core.commitIndex, appliedIndex: core.appliedIndex, abstaining: core.abstaining };
    this.post(status);
  }

  close(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    if (this.heartbeats !== null) clearInterval(this.heartbeats);
    this.ticker = null;
    this.heartbeats = null;
    this.driver.stop();
    this.storage.close();
  }
}

/** Opens the storage; an empty one first gets the bootstrap snapshot, if there is one. */
function openStorage(directory: string, bootstrap: RaftSnapshot | null): FileRaftStorage {
  const storage = new FileRaftStorage(directory);
  const loaded = storage.load();
  const empty = loaded.snapshot === null && loaded.entries.length === 0 && loaded.hardState.term === 0;
  if (bootstrap === null || !empty) return storage;
  storage.saveSnapshot(bootstrap, (error) => {
    if (error !== null) throw error;
  });
  storage.close();
  return new FileRaftStorage(directory);
}
