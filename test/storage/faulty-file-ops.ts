/**
 * A StorageFileOps that fails chosen calls, as a full or failing disk would: each rule names
 * the call (open, write, fsync, truncate), a test on the file path and the bytes, and the
 * errno code to throw. Every other call goes to node:fs.
 */
import fs from 'node:fs';
import { nodeFileOps, type StorageFileOps } from '../../src/storage/file-ops.js';

export type FileCall = 'open' | 'write' | 'fsync' | 'truncate';

export interface FaultRule {
  readonly call: FileCall;
  /** Which calls fail: by the file's path and, for writes, the bytes written. */
  readonly matches: (path: string, bytes: Uint8Array | null) => boolean;
  readonly code: string;
  /** How many more matching calls fail (Infinity: all of them). */
  remaining: number;
}

export class FaultyFileOps implements StorageFileOps {
  private readonly paths = new Map<number, string>();
  private readonly rules: FaultRule[] = [];
  /** Calls failed so far, as `call path`. */
  readonly failed: string[] = [];
  /** Calls that matched a rule after it ran out. */
  readonly matchedAfterwards: string[] = [];

  /** Fails matching calls with `code` (ENOSPC unless told) until `times` of them failed. */
  fail(call: FileCall, matches: FaultRule['matches'], code = 'ENOSPC', times = Number.POSITIVE_INFINITY): FaultRule {
    const rule: FaultRule = { call, matches, code, remaining: times };
    this.rules.push(rule);
    return rule;
  }

  /** Lets every later call through. */
  heal(): void {
    this.rules.length = 0;
  }

  private check(call: FileCall, path: string, bytes: Uint8Array | null): void {
    for (const rule of this.rules) {
      if (rule.call !== call || !rule.matches(path, bytes)) continue;
      if (rule.remaining <= 0) {
        this.matchedAfterwards.push(`${call} ${path}`);
        continue;
      }
      rule.remaining--;
      this.failed.push(`${call} ${path}`);
      throw Object.assign(new Error(`${rule.code}: injected ${call} failure, ${path}`), { code: rule.code, syscall: call, path });
    }
  }

  openSync(path: string, flags: string): number {
    this.check('open', path, null);
    const fd = nodeFileOps.openSync(path, flags);
    this.paths.set(fd, path);
    return fd;
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.check('write', this.pathOf(fd), buffer.subarray(offset, offset + length));
    return nodeFileOps.writeSync(fd, buffer, offset, length, position);
  }

  ftruncateSync(fd: number, length: number): void {
    this.check('truncate', this.pathOf(fd), null);
    nodeFileOps.ftruncateSync(fd, length);
  }

  fdatasync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void {
    try {
      this.check('fsync', this.pathOf(fd), null);
    } catch (error) {
      setImmediate(() => callback(error as NodeJS.ErrnoException));
      return;
    }
    fs.fdatasync(fd, callback);
  }

  fdatasyncSync(fd: number): void {
    this.check('fsync', this.pathOf(fd), null);
    nodeFileOps.fdatasyncSync(fd);
  }

  fsyncSync(fd: number): void {
    this.check('fsync', this.pathOf(fd), null);
    nodeFileOps.fsyncSync(fd);
  }

  closeSync(fd: number): void {
    this.paths.delete(fd);
    nodeFileOps.closeSync(fd);
  }

  private pathOf(fd: number): string {
    return this.paths.get(fd) ?? `fd ${fd}`;
  }
}

/** True when every byte is zero (preallocation writes zeros; appends never do). */
export function isAllZeros(bytes: Uint8Array | null): boolean {
  if (bytes === null || bytes.length === 0) return false;
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}
