/**
 * One broker per data dir: `<dataDir>/.lock` holds the owner's pid while it runs. Two brokers on
 * one data dir would run two sets of voters and logs over the same files and corrupt them, so the
 * second is refused with a clear message. A lock left by a process that no longer runs (a kill -9)
 * is taken over. Brokers in one process are told apart by the set of dirs held here.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const LOCK_FILE = '.lock';
const heldInThisProcess = new Set<string>();

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
}

export class DataDirLock {
  private released = false;

  private constructor(private readonly path: string) {}

  /** Takes the lock of `dataDir` (which must exist), or throws DataDirLockedError. */
  static acquire(dataDir: string): DataDirLock {
    const path = join(resolve(dataDir), LOCK_FILE);
    if (heldInThisProcess.has(path)) throw new DataDirLockedError(`data dir ${resolve(dataDir)} is in use by another broker in this process: stop it first, or give this one another data dir`);
    const owner = readOwner(path);
    if (owner !== null && owner !== process.pid && isRunning(owner)) {
      throw new DataDirLockedError(`data dir ${resolve(dataDir)} is in use by process ${owner} (${path}): stop that broker first, or give this one another data dir`);
    }
    writeFileSync(path, `${process.pid}\n`);
    heldInThisProcess.add(path);
    return new DataDirLock(path);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    heldInThisProcess.delete(this.path);
    if (readOwner(this.path) === process.pid) rmSync(this.path, { force: true });
  }
}

function readOwner(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
