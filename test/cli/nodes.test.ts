/**
 * `minikafka nodes` against a real broker's admin endpoint: the table, every verb, usage
 * errors (exit 2) and refused or failed calls (exit 1); and `minikafka start --admin-port
 * --fault-injection` as a child process driven by the shipped CLI.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { run as nodes } from '../../src/cli/commands/nodes.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { captureIo } from './cli-io.js';

const cli = fileURLToPath(new URL('../../bundle/main.js', import.meta.url));

let broker: BrokerHandle;
let adminFlag: string[];

before(async () => {
  broker = await startBroker({ nodes: 3, adminPort: 0, faultInjection: true, logLevel: 'silent' });
  adminFlag = ['--admin', broker.adminAddress!];
});

after(async () => {
  await broker?.stop();
});

async function runNodes(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await nodes(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** The rows of `nodes list`, split into cells. */
function tableRows(out: string): string[][] {
  return out.trimEnd().split('\n').filter((line) => !line.startsWith('Network')).map((line) => line.split(/\s{2,}/));
}

test('nodes list prints a table: id, listener, state, controller, role, term, commit index', async () => {
  const { code, out, err } = await runNodes(['list', ...adminFlag]);
  assert.equal(code, 0, err);
  const rows = tableRows(out);
  assert.deepEqual(rows[0], ['ID', 'LISTENER', 'STATE', 'CONTROLLER', 'ROLE', 'TERM', 'COMMIT INDEX']);
  // The controller row has a '*'; role, term and commit index come from the Raft quorum.
  const body = rows.slice(1);
  assert.deepEqual(body.map((row) => row.slice(0, 3)), [0, 1, 2].map((id) => [String(id), `${broker.nodes[id]!.host}:${broker.nodes[id]!.port}`, 'running']));
  const controllerRow = body.find((row) => row[3] === '*')!;
  assert.deepEqual(controllerRow.slice(4, 5), ['leader']);
  for (const row of body.filter((entry) => entry !== controllerRow)) assert.equal(row[3], 'follower');
  for (const row of body) assert.match(row.slice(-2).join(' '), /^\d+ \d+$/);
});

test('kill, restart, pause, resume, partition and heal change what list shows', async () => {
  const steps: Array<[string[], string, Array<string | undefined>, string | null]> = [
    [['kill', '1'], 'Killed node 1.\n', ['running', 'killed', 'running'], null],
    [['restart', '1'], 'Restarted node 1.\n', ['running', 'running', 'running'], null],
    [['pause', '2'], 'Paused node 2.\n', ['running', 'running', 'paused'], null],
    [['resume', '2'], 'Resumed node 2.\n', ['running', 'running', 'running'], null],
    [['partition', '0', '1,2'], 'Partitioned the network: 0 | 1,2.\n', ['running', 'running', 'running'], 'Network partitioned: 0 | 1,2'],
    [['heal'], 'Healed the network.\n', ['running', 'running', 'running'], null],
  ];
  for (const [args, printed, states, partitionLine] of steps) {
    const step = await runNodes([...args, ...adminFlag]);
    assert.equal(step.code, 0, `${args.join(' ')}: ${step.err}`);
    assert.equal(step.out, printed);
    const listed = await runNodes(['list', ...adminFlag]);
    assert.deepEqual(tableRows(listed.out).slice(1).map((row) => row[2]), states, args.join(' '));
    const lastLine = listed.out.trimEnd().split('\n').at(-1)!;
    if (partitionLine === null) assert.ok(!lastLine.startsWith('Network'), lastLine);
    else assert.equal(lastLine, partitionLine);
  }
});

test('usage errors exit 2 with the reason; refused and failed calls exit 1', async () => {
  const usage: Array<[string[], RegExp]> = [
    [['list'], /--admin HOST:PORT is required/],
    [['kill', ...['--admin', 'localhost']], /--admin must be HOST:PORT, got "localhost"/],
    [['kill'], /kill takes one node id/],
    [['kill', 'one'], /node id must be a non-negative integer, got "one"/],
    [['partition', '0'], /at least two groups/],
    [['partition', '0', '1,x'], /a group is node ids separated by commas, got "1,x"/],
    [['heal', 'now'], /heal takes no arguments/],
    [['explode', '1'], /unknown action "explode"/],
    [[], /an action is required/],
    [['list', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of usage) {
    const withAdmin = args.includes('--admin') || (args[0] === 'list' && args.length === 1) ? args : [...args, ...adminFlag];
    const result = await runNodes(withAdmin);
    assert.equal(result.code, 2, `${withAdmin.join(' ')}: ${result.err}`);
    assert.match(result.err, message, withAdmin.join(' '));
  }
  const refused: Array<[string[], RegExp]> = [
    [['restart', '0'], /node 0 is running; only a killed node can be restarted \(HTTP 409\)/],
    [['resume', '0'], /node 0 is not paused \(HTTP 409\)/],
    [['kill', '9'], /no node 9: this broker runs nodes 0-2 \(HTTP 400\)/],
    [['partition', '0', '1'], /missing: 2 \(HTTP 400\)/],
  ];
  for (const [args, message] of refused) {
    const result = await runNodes([...args, ...adminFlag]);
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.err}`);
    assert.match(result.err, message);
  }
  const closedPort = await unusedPort();
  const unreachable = await runNodes(['list', '--admin', `127.0.0.1:${closedPort}`]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.err, new RegExp(`cannot reach the admin endpoint at 127.0.0.1:${closedPort}: .*ECONNREFUSED`));
});

test('minikafka start --admin-port --fault-injection, driven by minikafka nodes', { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, [cli, 'start', '--nodes', '2', '--port', '0', '--data-dir', temporaryDirectory(), '--admin-port', '0', '--fault-injection', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const ready = await readyLine(child);
    const admin = /admin (\S+) \(fault injection on\)/.exec(ready)?.[1];
    assert.ok(admin !== undefined, ready);
    const killed = await runCli(['nodes', 'kill', '1', '--admin', admin]);
    assert.deepEqual(killed, { code: 0, stdout: 'Killed node 1.\n', stderr: '' });
    const listed = await runCli(['nodes', 'list', '--admin', admin]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(tableRows(listed.stdout).slice(1).map((row) => row[2]), ['running', 'killed']);
    const usage = await runCli(['nodes', 'kill', '--admin', admin]);
    assert.equal(usage.code, 2);
    const refused = await runCli(['nodes', 'kill', '1', '--admin', admin]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /node 1 is already killed/);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  const badFlag = await runCli(['start', '--admin-port', 'x']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--admin-port must be an integer, got "x"/);
});

function readyLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk;
      const line = output.split('\n').find((entry) => entry.includes('ready'));
      if (line !== undefined) resolve(line);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`broker exited with ${code} before ready:\n${output}`)));
  });
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** A port nothing listens on: bind an ephemeral one and release it. */
function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
