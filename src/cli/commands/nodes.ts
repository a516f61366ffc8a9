/**
 * `minikafka nodes list|kill|restart|pause|resume|partition|heal`: the broker's admin endpoint
 * (`minikafka start --admin-port A [--fault-injection]`) from the command line.
 */
import { request as httpRequest } from 'node:http';
import { parseArgs } from 'node:util';
import type { NodeStatus } from '../../server/node-faults.js';
import { attachOptionValues, UsageError, type CommandIo } from './common.js';

const help = `usage: minikafka nodes <action> [ID | GROUPS...] --admin HOST:PORT

actions:
  list               print every node: id, listener, state, controller (*), term, commit index
  kill ID            terminate a node like a crash; its listener closes, its clients are reset
  restart ID         start a killed node again on its data dir and its old port
  pause ID           freeze a node (like SIGSTOP): its listener stays open, requests wait
  resume ID          let a paused node run again
  partition G G...   split node-to-node traffic: groups separated by spaces, ids by commas,
                     e.g. "partition 0 1,2"
  heal               join the network again

options:
  --admin HOST:PORT  the broker's admin endpoint (minikafka start --admin-port)
  -h, --help         print this text

Every action but list needs a broker started with --fault-injection.
`;

const options = {
  admin: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Restart recovers a node's logs; pause may wait for a busy node. */
const REQUEST_TIMEOUT_MS = 30_000;

type Command = { method: 'GET' | 'POST'; path: string; body?: unknown; done: (body: unknown, io: CommandIo) => void };

/** Runs `minikafka nodes`; `argv` holds the arguments after "nodes". Returns the exit code. */
export async function run(argv: string[], io: CommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let command: Command;
  let admin: { host: string; port: number };
  try {
    const { values, positionals } = parseArgs({ args: attachOptionValues(argv, options), options, allowPositionals: true, strict: true });
    if (values.help) {
      io.stdout.write(help);
      return 0;
    }
    if (values.admin === undefined) throw new UsageError('--admin HOST:PORT is required (the address given to minikafka start --admin-port)');
    admin = parseAdminAddress(values.admin);
    command = parseCommand(positionals);
  } catch (error) {
    io.stderr.write(`minikafka nodes: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  try {
    const body = await call(admin, command.method, command.path, command.body);
    command.done(body, io);
    return 0;
  } catch (error) {
    io.stderr.write(`minikafka nodes: ${(error as Error).message}\n`);
    return 1;
  }
}

function parseCommand(positionals: readonly string[]): Command {
  const [action, ...rest] = positionals;
  const noArguments = () => {
    if (rest.length > 0) throw new UsageError(`${action} takes no arguments, got: ${rest.join(' ')}`);
  };
  switch (action) {
    case 'list':
      noArguments();
      return { method: 'GET', path: '/nodes', done: (body, io) => io.stdout.write(formatNodes(body as NodesBody)) };
    case 'kill':
    case 'restart':
    case 'pause':
    case 'resume': {
      const nodeId = parseNodeId(action, rest);
      const past = { kill: 'Killed', restart: 'Restarted', pause: 'Paused', resume: 'Resumed' }[action];
      return { method: 'POST', path: `/nodes/${nodeId}/${action}`, done: (_, io) => io.stdout.write(`${past} node ${nodeId}.\n`) };
    }
    case 'partition': {
      const groups = parseGroups(rest);
      return { method: 'POST', path: '/partition', body: { groups }, done: (_, io) => io.stdout.write(`Partitioned the network: ${groups.map((group) => group.join(',')).join(' | ')}.\n`) };
    }
    case 'heal':
      noArguments();
      return { method: 'POST', path: '/heal', done: (_, io) => io.stdout.write('Healed the network.\n') };
    case undefined:
      throw new UsageError('an action is required: list, kill, restart, pause, resume, partition or heal');
    default:
      throw new UsageError(`unknown action "${action}": list, kill, restart, pause, resume, partition or heal`);
  }
}

function parseNodeId(action: string, rest: readonly string[]): number {
  if (rest.length !== 1) throw new UsageError(`${action} takes one node id, e.g. "nodes ${action} 1"`);
  if (!/^\d+$/.test(rest[0]!)) throw new UsageError(`node id must be a non-negative integer, got "${rest[0]}"`);
  return Number(rest[0]);
}

function parseGroups(rest: readonly string[]): number[][] {
  if (rest.length < 2) throw new UsageError('partition takes at least two groups, e.g. "nodes partition 0 1,2"');
  return rest.map((group) => {
    const ids = group.split(',');
    if (!ids.every((id) => /^\d+$/.test(id))) throw new UsageError(`a group is node ids separated by commas, got "${group}"`);
    return ids.map(Number);
  });
}

function parseAdminAddress(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--admin must be HOST:PORT, got "${text}"`);
  return { host: text.slice(0, colon), port };
}

interface NodesBody {
  controllerId: number;
  nodes: NodeStatus[];
  partitions: number[][];
}

/** A table, one row per node; the controller is marked with *. */
export function formatNodes(body: NodesBody): string {
  const dash = (value: number | string | null) => (value === null ? '-' : String(value));
  const rows = [['ID', 'LISTENER', 'STATE', 'CONTROLLER', 'ROLE', 'TERM', 'COMMIT INDEX']];
  for (const node of body.nodes) {
    rows.push([String(node.id), node.listener, node.state, node.id === body.controllerId ? '*' : '', dash(node.role), dash(node.term), dash(node.commitIndex)]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  let text = '';
  for (const row of rows) text += `${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`;
  if (body.partitions.length > 0) text += `Network partitioned: ${body.partitions.map((group) => group.join(',')).join(' | ')}\n`;
  return text;
}

/** One JSON request to the admin endpoint; rejects with the endpoint's error message on non-2xx. */
function call(admin: { host: string; port: number }, method: string, path: string, body?: unknown): Promise<unknown> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const where = `${admin.host}:${admin.port}`;
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: admin.host, port: admin.port, method, path, agent: false, timeout: REQUEST_TIMEOUT_MS, headers: payload === undefined ? {} : { 'content-type': 'application/json' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        let parsed: { error?: string } | null = null;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: string };
        } catch {
          return reject(new Error(`the admin endpoint at ${where} answered ${response.statusCode} with something other than JSON`));
        }
        if (response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300) resolve(parsed);
        else reject(new Error(`${parsed?.error ?? 'request refused'} (HTTP ${response.statusCode})`));
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from the admin endpoint at ${where} within ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', (error) => reject(new Error(`cannot reach the admin endpoint at ${where}: ${error.message}`)));
    request.end(payload);
  });
}
