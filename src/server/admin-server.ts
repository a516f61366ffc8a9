/**
 * The admin HTTP endpoint (config `adminPort`), JSON in and out:
 *
 *   GET  /health                  200 when every node not killed serves, 503 with the problems
 *   GET  /nodes                   the nodes: listener, state, Raft view, the controller
 *   POST /nodes/<id>/kill|restart|pause|resume     (fault injection only, 403 otherwise)
 *   POST /partition {"groups": [[0], [1, 2]]}      (fault injection only)
 *   POST /heal                                     (fault injection only)
 *
 * Refused verbs answer 400 (bad id or body), 409 (wrong state), 404 (unknown route).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { NetworkPartitions } from './network-partitions.js';
import { FAULT_INJECTION_DISABLED_MESSAGE, NodeFaultError, NodeState, type NodeFaultKind, type NodeStatus, type QuorumStatus } from './node-faults.js';

/** What the endpoint needs from the broker. */
export interface AdminTarget {
  readonly config: { readonly faultInjection: boolean };
  readonly networkPartitions: NetworkPartitions;
  quorumStatus(): QuorumStatus;
  nodeStatuses(): NodeStatus[];
  killNode(nodeId: number): Promise<void>;
  restartNode(nodeId: number): Promise<void>;
  pauseNode(nodeId: number): Promise<void>;
  resumeNode(nodeId: number): void;
  partitionNetwork(groups: number[][]): void;
  healNetwork(): void;
}

/** Request bodies are a line of JSON; anything bigger is a mistake. */
const MAX_BODY_BYTES = 64 * 1024;
const NODE_VERBS = ['kill', 'restart', 'pause', 'resume'] as const;
type NodeVerb = (typeof NODE_VERBS)[number];

const STATUS_BY_KIND: Record<NodeFaultKind, number> = { disabled: 403, invalid: 400, conflict: 409 };

type Reply = { status: number; body: unknown };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class AdminServer {
  private constructor(
    private readonly server: Server,
    readonly address: { host: string; port: number },
  ) {}

  static start(target: AdminTarget, host: string, port: number): Promise<AdminServer> {
    const server = createServer((request, response) => void respond(target, request, response));
    return new Promise((resolve, reject) => {
      server.once('error', (error) => reject(new Error(`admin endpoint cannot listen on ${host}:${port}: ${error.message}`)));
      server.listen({ host, port }, () => {
        const address = server.address();
        if (address === null || typeof address === 'string') return reject(new Error('admin endpoint has no address'));
        resolve(new AdminServer(server, { host, port: address.port }));
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function respond(target: AdminTarget, request: IncomingMessage, response: ServerResponse): Promise<void> {
  let reply: Reply;
  try {
    reply = await route(target, request);
  } catch (error) {
    if (error instanceof NodeFaultError) reply = { status: STATUS_BY_KIND[error.kind], body: { error: error.message } };
    else if (error instanceof HttpError) reply = { status: error.status, body: { error: error.message } };
    else reply = { status: 500, body: { error: (error as Error).message } };
  }
  const text = `${JSON.stringify(reply.body)}\n`;
  response.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

async function route(target: AdminTarget, request: IncomingMessage): Promise<Reply> {
  const path = new URL(request.url ?? '/', 'http://admin').pathname.replace(/\/+$/, '') || '/';
  if (path === '/health') return requireMethod(request, 'GET', () => health(target));
  if (path === '/nodes') return requireMethod(request, 'GET', () => ({ status: 200, body: nodesBody(target) }));
  const nodeRoute = /^\/nodes\/([^/]+)\/([^/]+)$/.exec(path);
  if (nodeRoute !== null && (NODE_VERBS as readonly string[]).includes(nodeRoute[2]!)) {
    return requireMethod(request, 'POST', async () => runNodeVerb(target, nodeRoute[2] as NodeVerb, parseNodeId(nodeRoute[1]!)));
  }
  if (path === '/partition') {
    return requireMethod(request, 'POST', async () => {
      requireFaultInjection(target);
      target.partitionNetwork(parseGroups(await readJson(request)));
      return { status: 200, body: { partitions: target.networkPartitions.groups() } };
    });
  }
  if (path === '/heal') {
    return requireMethod(request, 'POST', () => {
      requireFaultInjection(target);
      target.healNetwork();
      return { status: 200, body: { partitions: [] } };
    });
  }
  throw new HttpError(404, `no route ${request.method} ${path}: see GET /health, GET /nodes, POST /nodes/<id>/kill|restart|pause|resume, POST /partition, POST /heal`);
}

async function requireMethod(request: IncomingMessage, method: string, handle: () => Reply | Promise<Reply>): Promise<Reply> {
  if (request.method !== method) throw new HttpError(405, `${request.url} takes ${method}, not ${request.method}`);
  return handle();
}

function requireFaultInjection(target: AdminTarget): void {
  if (!target.config.faultInjection) throw new NodeFaultError('disabled', FAULT_INJECTION_DISABLED_MESSAGE);
}

async function runNodeVerb(target: AdminTarget, verb: NodeVerb, nodeId: number): Promise<Reply> {
  requireFaultInjection(target);
  if (verb === 'kill') await target.killNode(nodeId);
  else if (verb === 'restart') await target.restartNode(nodeId);
  else if (verb === 'pause') await target.pauseNode(nodeId);
  else target.resumeNode(nodeId);
  return { status: 200, body: target.nodeStatuses().find((node) => node.id === nodeId) };
}

function health(target: AdminTarget): Reply {
  const nodes = target.nodeStatuses();
  const problems: string[] = [];
  for (const node of nodes) {
    if (node.crash !== null) problems.push(`node ${node.id} is down: ${node.crash}`);
    else if (node.state === NodeState.PAUSED || node.state === NodeState.FENCED) problems.push(`node ${node.id} is ${node.state}`);
  }
  const killed = nodes.filter((node) => node.state === NodeState.KILLED).map((node) => node.id);
  if (problems.length > 0) return { status: 503, body: { status: 'unavailable', problems, killed } };
  return { status: 200, body: { status: 'ok', nodes: nodes.length, killed } };
}

function nodesBody(target: AdminTarget): unknown {
  return { controllerId: target.quorumStatus().controllerId, nodes: target.nodeStatuses(), partitions: target.networkPartitions.groups() };
}

function parseNodeId(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new HttpError(400, `node id must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

function parseGroups(body: unknown): number[][] {
  const groups = (body as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups) || !groups.every((group) => Array.isArray(group) && group.every((id) => Number.isInteger(id)))) {
    throw new HttpError(400, 'body must be {"groups": [[0], [1, 2]]}: lists of node ids');
  }
  return groups as number[][];
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let sizeBytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    sizeBytes += chunk.length;
    if (sizeBytes > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `body is not valid JSON: ${(error as Error).message}`);
  }
}
