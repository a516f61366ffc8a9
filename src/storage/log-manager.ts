/**
 * All partition logs of one data directory (one node's "disk"): opening and recovering them,
 * the recovery-point and log-start-offset checkpoint files, the clean-shutdown marker, and the
 * periodic work (retention, checkpoints, interval flushes) driven by `tick`.
 */
import { RAFT_DIRECTORY } from './raft-storage.js';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../runtime/clock.js';
import { OffsetCheckpointFile, parsePartitionName, partitionName } from './checkpoint-file.js';
import { nodeFileOps, type StorageFileOps } from './file-ops.js';
import { LogDirFailure } from './log-dir-failure.js';
import { FlushPolicy, type LogConfig } from './log-config.js';
import { PartitionLog } from './partition-log.js';
import { KafkaError } from '../protocol/errors.js';

export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const CLEAN_SHUTDOWN_MARKER = '.minikafka-clean-shutdown';
const DELETED_SUFFIX = '.deleted';

export interface LogManagerOptions {
  dataDir: string;
  clock: Clock;
  /** The config of a topic's logs (topic configs live in cluster metadata). */
  configFor: (topic: string) => LogConfig;
  /** How often `tick` applies retention. */
  retentionCheckIntervalMs?: number;
  /** How often `tick` writes the checkpoint files. */
  checkpointIntervalMs?: number;
  /** The file system calls that write (default node:fs); tests inject faults here. */
  files?: StorageFileOps;
  log?: (message: string) => void;
}

export class LogManager {
  private readonly logs = new Map<string, PartitionLog>();
  private readonly recoveryPoints: OffsetCheckpointFile;
  private readonly logStartOffsets: OffsetCheckpointFile;
  private lastRetentionMs: number;
  private lastCheckpointMs: number;
  private lastIntervalFlushMs: number;
  private readonly logLine: (message: string) => void;
  /** Whether the previous run shut down cleanly (no recovery scan was needed). */
  readonly openedAfterCleanShutdown: boolean;
  /** Goes offline at the first I/O error in this data dir; every log then goes offline with it. */
  readonly logDir: LogDirFailure;
  private readonly files: StorageFileOps;

  private constructor(private readonly options: LogManagerOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.files = options.files ?? nodeFileOps;
    this.logDir = new LogDirFailure(options.dataDir);
    this.logDir.onOffline((cause) => {
      for (const log of this.logs.values()) log.takeOffline(cause);
    });
    this.recoveryPoints = new OffsetCheckpointFile(join(options.dataDir, RECOVERY_POINT_CHECKPOINT), this.files);
    this.logStartOffsets = new OffsetCheckpointFile(join(options.dataDir, LOG_START_OFFSET_CHECKPOINT), this.files);
    this.logLine = options.log ?? (() => {});
    const nowMs = options.clock.nowMs();
    this.lastRetentionMs = nowMs;
    this.lastCheckpointMs = nowMs;
    this.lastIntervalFlushMs = nowMs;
    const marker = join(options.dataDir, CLEAN_SHUTDOWN_MARKER);
    this.openedAfterCleanShutdown = existsSync(marker);
    rmSync(marker, { force: true });
  }

  /** Opens every partition directory found in the data dir, recovering each. */
  static open(options: LogManagerOptions): LogManager {
    const manager = new LogManager(options);
    manager.loadAll();
    return manager;
  }

  private loadAll(): void {
    const recoveryPoints = this.recoveryPoints.read();
    const logStartOffsets = this.logStartOffsets.read();
    for (const name of readdirSync(this.options.dataDir)) {
      const path = join(this.options.dataDir, name);
      if (name.endsWith(DELETED_SUFFIX)) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      // The node's Raft metadata log looks like a partition dir but is the quorum's, not ours.
      if (name === RAFT_DIRECTORY) continue;
      if (!statSync(path).isDirectory() || !/^.+-\d+$/.test(name)) continue;
      const { topic } = parsePartitionName(name);
      const log = PartitionLog.open({
        directory: path,
        config: this.options.configFor(topic),
        clock: this.options.clock,
        recoveryPoint: recoveryPoints.get(name) ?? 0,
        logStartOffset: logStartOffsets.get(name) ?? 0,
        cleanShutdown: this.openedAfterCleanShutdown,
        files: this.files,
        logDir: this.logDir,
        log: this.logLine,
      });
      this.logs.set(name, log);
    }
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(partitionName(topic, partition));
  }

  /** Returns the partition's log, creating an empty one if needed. */
  getOrCreate(topic: string, partition: number, config: LogConfig): PartitionLog {
    const name = partitionName(topic, partition);
    let log = this.logs.get(name);
    if (log === undefined) {
      log = PartitionLog.open({ directory: join(this.options.dataDir, name), config, clock: this.options.clock, files: this.files, logDir: this.logDir, log: this.logLine });
      this.logs.set(name, log);
    }
    return log;
  }

  partitions(): Array<{ topic: string; partition: number; log: PartitionLog }> {
    return [...this.logs].map(([name, log]) => ({ ...parsePartitionName(name), log }));
  }

  /** Removes a partition's data: renamed first, so a crash mid-delete leaves no live log. */
  async delete(topic: string, partition: number): Promise<void> {
    const name = partitionName(topic, partition);
    const log = this.logs.get(name);
    if (log === undefined) return;
    this.logs.delete(name);
    await log.deleteAll();
    const path = join(this.options.dataDir, name);
    if (existsSync(path)) {
      const doomed = `${path}.${Date.now()}${DELETED_SUFFIX}`;
      renameSync(path, doomed);
      rmSync(doomed, { recursive: true, force: true });
    }
    this.writeCheckpoints();
  }

  /** Periodic work; call it from the node's tick. */
  async tick(): Promise<void> {
    // An offline dir is left as it is until the restart: no flushes, deletions or checkpoints.
    if (this.logDir.isOffline) return;
    const nowMs = this.options.clock.nowMs();
    if (nowMs - this.lastIntervalFlushMs >= this.minimumFlushIntervalMs()) {
      this.lastIntervalFlushMs = nowMs;
      await Promise.all(
        [...this.logs.values()].filter((log) => log.config.flushPolicy === FlushPolicy.INTERVAL).map((log) => log.flush()),
      );
    }
    if (nowMs - this.lastRetentionMs >= (this.options.retentionCheckIntervalMs ?? 5 * 60_000)) {
      this.lastRetentionMs = nowMs;
      for (const log of this.logs.values()) await log.applyRetention();
    }
    if (nowMs - this.lastCheckpointMs >= (this.options.checkpointIntervalMs ?? 60_000)) {
      this.lastCheckpointMs = nowMs;
      this.writeCheckpoints();
    }
  }

  private minimumFlushIntervalMs(): number {
    let minimum = Number.POSITIVE_INFINITY;
    for (const log of this.logs.values()) {
      if (log.config.flushPolicy === FlushPolicy.INTERVAL) minimum = Math.min(minimum, log.config.flushIntervalMs);
    }
    return minimum;
  }

  /**
   * Writes the recovery-point and log-start-offset checkpoints. A write that fails with an I/O
   * error takes the dir offline (the checkpoints on disk stay the older, still true, ones).
   */
  writeCheckpoints(): void {
    if (this.logDir.isOffline) return;
    try {
      this.writeCheckpointFiles();
    } catch (error) {
      const failure = this.logDir.classify(error, 'checkpoint write');
      if (!(failure instanceof KafkaError)) throw failure;
    }
  }

  private writeCheckpointFiles(): void {
    const recoveryPoints = new Map<string, number>();
    const logStartOffsets = new Map<string, number>();
    for (const [name, log] of this.logs) {
      recoveryPoints.set(name, log.recoveryPoint);
      logStartOffsets.set(name, log.logStartOffset);
    }
    this.recoveryPoints.write(recoveryPoints);
    this.logStartOffsets.write(logStartOffsets);
  }

  /**
   * Flushes and closes every log, writes the checkpoints and the clean-shutdown marker. With a
   * log offline the marker is not written: the next start re-checks what it holds.
   */
  async close(): Promise<void> {
    await Promise.all([...this.logs.values()].map((log) => log.close()));
    this.writeCheckpoints();
    const anyOffline = [...this.logs.values()].some((log) => log.isOffline);
    if (!this.logDir.isOffline && !anyOffline) writeFileSync(join(this.options.dataDir, CLEAN_SHUTDOWN_MARKER), '');
  }
}
