/**
 * Raw limits measured beside the broker in the same run: what the disk, the runtime and the
 * machine allow before any broker code runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDirectory } from './bench-util.js';

const mebibyte = 1024 * 1024;

/**
 * Batched-fdatasync write bandwidth: write 1 MiB, fdatasync, repeat, in a fresh file on the
 * filesystem the broker's data lives on (BENCH_DIR or the OS temp dir). MB = 10^6 bytes.
 */
export function rawFdatasyncMegabytesPerSecond(totalMiB: number): number {
  const scratch = scratchDirectory('mk-bench-raw-');
  const fd = openSync(join(scratch.path, 'raw.log'), 'w');
  try {
    const chunk = Buffer.alloc(mebibyte, 0x5a);
    let position = 0;
    const started = process.hrtime.bigint();
    for (let index = 0; index < totalMiB; index++) {
      position += writeSync(fd, chunk, 0, chunk.length, position);
      fdatasyncSync(fd);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return (totalMiB * mebibyte) / 1e6 / seconds;
  } finally {
    closeSync(fd);
    scratch.remove();
  }
}

/** Milliseconds for a bare `node -e 0`, spawn to exit. */
export function bareNodeStartMs(env: NodeJS.ProcessEnv = process.env): number {
  const started = performance.now();
  spawnSync(process.execPath, ['-e', '0'], { env });
  return performance.now() - started;
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? Number.NaN : Number(match[1]) / 1024;
}

/** RSS of an idle bare node process (a timer keeps it alive), after `settleMs`. */
export async function bareNodeIdleRssMiB(settleMs: number, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', env });
  try {
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    return rssMiB(child.pid!);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
