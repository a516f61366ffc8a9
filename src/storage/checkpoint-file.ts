/**
 * Checkpoint files written atomically: write a temp file, fsync it, rename it over the old one,
 * fsync the directory. A crash leaves either the old file or the new one, never a torn one.
 *
 * Offset checkpoints use Kafka's text layout so an operator can read them:
 *   0              (format version)
 *   <entry count>
 *   <topic> <partition> <offset>
 *
 * The leader-epoch checkpoint of a partition has the same layout with `<epoch> <startOffset>`
 * lines.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { nodeFileOps, writeFully, type StorageFileOps } from './file-ops.js';
import { epochEntriesProblem, type EpochEntry } from '../replication/leader-epoch-cache.js';

const CHECKPOINT_FORMAT_VERSION = 0;

export function fsyncDirectory(directory: string, files: StorageFileOps = nodeFileOps): void {
  const fd = files.openSync(directory, 'r');
  try {
    files.fsyncSync(fd);
  } finally {
    files.closeSync(fd);
  }
}

export function writeFileAtomically(path: string, contents: string | Buffer, files: StorageFileOps = nodeFileOps): void {
  const temporaryPath = `${path}.tmp`;
  const bytes = typeof contents === 'string' ? Buffer.from(contents) : contents;
  const fd = files.openSync(temporaryPath, 'w');
  try {
    writeFully(files, fd, bytes, 0, bytes.length, 0);
    files.fsyncSync(fd);
  } finally {
    files.closeSync(fd);
  }
  renameSync(temporaryPath, path);
  fsyncDirectory(dirname(path), files);
}

export interface PartitionKey {
  topic: string;
  partition: number;
}

export class CheckpointFormatError extends Error {
  constructor(path: string, detail: string) {
    super(`checkpoint file ${path} is malformed: ${detail}`);
    this.name = 'CheckpointFormatError';
  }
}

/** A `topic partition offset` map persisted atomically. */
export class OffsetCheckpointFile {
  constructor(
    readonly path: string,
    private readonly files: StorageFileOps = nodeFileOps,
  ) {}

  write(offsets: ReadonlyMap<string, number>): void {
    const lines = [String(CHECKPOINT_FORMAT_VERSION), String(offsets.size)];
    for (const [name, offset] of offsets) {
      const { topic, partition } = parsePartitionName(name);
      lines.push(`${topic} ${partition} ${offset}`);
    }
    writeFileAtomically(this.path, `${lines.join('\n')}\n`, this.files);
  }

  /** Reads the checkpoint; a missing file is an empty map. */
  read(): Map<string, number> {
    const offsets = new Map<string, number>();
    for (const parts of readCheckpointEntries(this.path, 3) ?? []) {
      const partition = Number(parts[1]);
      const offset = Number(parts[2]);
      if (!Number.isInteger(partition) || !Number.isSafeInteger(offset)) {
        throw new CheckpointFormatError(this.path, `bad entry ${JSON.stringify(parts.join(' '))}`);
      }
      offsets.set(partitionName(parts[0]!, partition), offset);
    }
    return offsets;
  }
}

/**
 * A partition's leader-epoch cache persisted atomically (Kafka's `leader-epoch-checkpoint`):
 * version 0, the entry count, then `<epoch> <startOffset>` lines.
 */
export class LeaderEpochCheckpointFile {
  constructor(
    readonly path: string,
    private readonly files: StorageFileOps = nodeFileOps,
  ) {}

  write(entries: readonly EpochEntry[]): void {
    const lines = [String(CHECKPOINT_FORMAT_VERSION), String(entries.length)];
    for (const entry of entries) lines.push(`${entry.epoch} ${entry.startOffset}`);
    writeFileAtomically(this.path, `${lines.join('\n')}\n`, this.files);
  }

  /** The entries in file order; null when there is no file. Throws CheckpointFormatError. */
  read(): EpochEntry[] | null {
    const lines = readCheckpointEntries(this.path, 2);
    if (lines === null) return null;
    const entries = lines.map((parts) => ({ epoch: Number(parts[0]), startOffset: Number(parts[1]) }));
    const problem = epochEntriesProblem(entries);
    if (problem !== null) throw new CheckpointFormatError(this.path, problem);
    return entries;
  }
}

/**
 * The entry lines of a checkpoint in Kafka's text layout, each split into `fieldsPerEntry`
 * fields; null when the file does not exist. Throws CheckpointFormatError.
 */
function readCheckpointEntries(path: string, fieldsPerEntry: number): string[][] | null {
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.length > 0);
  if (lines[0] !== String(CHECKPOINT_FORMAT_VERSION)) {
    throw new CheckpointFormatError(path, `unknown version line ${JSON.stringify(lines[0])}`);
  }
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count !== lines.length - 2) {
    throw new CheckpointFormatError(path, `expected ${lines[1]} entries, found ${lines.length - 2}`);
  }
  const entries = lines.slice(2).map((line) => line.split(' '));
  for (const parts of entries) {
    if (parts.length !== fieldsPerEntry || parts.some((part) => part.length === 0)) {
      throw new CheckpointFormatError(path, `bad entry ${JSON.stringify(parts.join(' '))}`);
    }
  }
  return entries;
}

/** `<topic>-<partition>`: Kafka's partition directory name. */
export function partitionName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export function parsePartitionName(name: string): PartitionKey {
  const dash = name.lastIndexOf('-');
  const partition = Number(name.slice(dash + 1));
  if (dash <= 0 || !Number.isInteger(partition) || partition < 0) {
    throw new Error(`not a partition name: ${name}`);
  }
  return { topic: name.slice(0, dash), partition };
}
