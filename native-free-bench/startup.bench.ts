/**
 * Start-up and idle memory: runs `minikafka start` N times (3 nodes by default), timing spawn
 * to the ready line, beside a bare `node -e 0` measured in the same run, and reads the RSS of
 * the idle broker from /proc. The shipped CLI is the bundle (dist/bundle); the unbundled
 * modules (dist/src) are timed beside it.
 *
 *   node dist/native-free-bench/startup.bench.js [--runs 5] [--nodes 3]
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineNote, median, printTable, scratchDirectory } from './bench-util.js';

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const runs = argument('runs', 5);
const nodes = argument('nodes', 3);
const bundledCli = fileURLToPath(new URL('../bundle/main.js', import.meta.url));
const unbundledCli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

async function startOnce(cli: string, env: NodeJS.ProcessEnv): Promise<{ readyMs: number; rssMiB: number }> {
  const scratch = scratchDirectory('mk-bench-start-');
  const started = performance.now();
  const child = spawn(process.execPath, [cli, 'start', '--nodes', String(nodes), '--port', '0', '--data-dir', scratch.path, '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'ignore'], env });
  const readyMs = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error('no ready line in 15 s')), 15_000);
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      if (output.includes('ready')) {
        clearTimeout(timer);
        resolve(performance.now() - started);
      }
    });
  });
  await new Promise((resolve) => setTimeout(resolve, 1000)); // settle: idle RSS, not start-up peak
  const rss = rssMiB(child.pid!);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  scratch.remove();
  return { readyMs, rssMiB: rss };
}

function bareNodeMs(env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  spawnSync(process.execPath, ['-e', '0'], { env });
  return performance.now() - started;
}

const withCerts = { ...process.env };
const withoutCerts = { ...process.env };
delete withoutCerts.NODE_EXTRA_CA_CERTS;
const variants: Array<[string, NodeJS.ProcessEnv]> = [['without NODE_EXTRA_CA_CERTS', withoutCerts]];
if (process.env.NODE_EXTRA_CA_CERTS) variants.push(['with NODE_EXTRA_CA_CERTS', withCerts]);

console.log(`startup bench: ${machineNote()}; ${nodes} nodes, ${runs} runs`);
const rows = [];
for (const [label, env] of variants) {
  const ready = { bundled: [] as number[], unbundled: [] as number[] };
  const bare: number[] = [];
  const rss: number[] = [];
  for (let run = 0; run < runs; run++) {
    bare.push(bareNodeMs(env));
    const result = await startOnce(bundledCli, env);
    ready.bundled.push(result.readyMs);
    rss.push(result.rssMiB);
    ready.unbundled.push((await startOnce(unbundledCli, env)).readyMs);
  }
  rows.push({
    environment: label,
    'start→ready (median)': `${median(ready.bundled).toFixed(0)} ms`,
    'node -e 0 (median)': `${median(bare).toFixed(0)} ms`,
    ratio: (median(ready.bundled) / median(bare)).toFixed(2),
    'unbundled dist/src': `${median(ready.unbundled).toFixed(0)} ms`,
    'idle RSS (median)': `${median(rss).toFixed(0)} MiB`,
  });
}
printTable(rows);
