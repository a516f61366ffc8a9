/**
 * The storage seam: every file system call through which the log dir's files are written or
 * made durable (segments, indexes, checkpoints, the node journal). Production uses node:fs;
 * tests inject faults (ENOSPC, EIO) per file to check that a full or failing disk takes the
 * log dir offline instead of the node.
 */
import fs from 'node:fs';

export interface StorageFileOps {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  ftruncateSync(fd: number, length: number): void;
  fdatasync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
  fdatasyncSync(fd: number): void;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
}

/**
 * node:fs, looked up at each call (not bound at load), so tests that patch node:fs itself keep
 * working.
 */
export const nodeFileOps: StorageFileOps = {
  openSync: (path, flags) => fs.openSync(path, flags),
  writeSync: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fdatasync: (fd, callback) => fs.fdatasync(fd, callback),
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
};

/** Writes `length` bytes of `bytes` from `start` at `position`, looping over short writes. */
export function writeFully(files: StorageFileOps, fd: number, bytes: Uint8Array, start: number, length: number, position: number): void {
  let written = 0;
  while (written < length) written += files.writeSync(fd, bytes, start + written, length - written, position + written);
}
