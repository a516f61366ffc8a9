/**
 * The chaos run's nemesis: a seeded schedule of faults, applied through the broker's admin
 * endpoint (fault injection). At most a minority of nodes is faulty at any time: one fault
 * runs, heals, and the next starts after a quiet gap. Targets: the leader of a busy partition,
 * the controller, or a random node. Faults: kill then restart, pause then resume (long enough
 * to be fenced), network partitions (the target alone against the rest), and kill -9 of the
 * whole broker process, restarted on its data dirs and ports.
 */
import { SeededRandom } from '../../src/runtime/random.js';

export type FaultKind = 'kill' | 'pause' | 'partition' | 'crash';
export type TargetKind = 'leader' | 'controller' | 'random';

export interface PlannedFault {
  readonly kind: FaultKind;
  readonly target: TargetKind;
  /** Offset from the run's start. */
  readonly startMs: number;
  readonly durationMs: number;
}

export interface AppliedFault extends PlannedFault {
  readonly nodeId: number;
  readonly appliedAtMs: number;
  healedAtMs: number;
  error: string | null;
}

/** Node faults three times as often as a crash of the whole process. */
const KINDS: readonly FaultKind[] = ['kill', 'pause', 'partition', 'kill', 'pause', 'partition', 'kill', 'pause', 'partition', 'crash'];
const TARGETS: readonly TargetKind[] = ['leader', 'controller', 'random'];

/** The faults of a run of `runMs`: the first after `quietStartMs`, none in the last `quietEndMs`. */
export function planFaults(seed: number, runMs: number, quietStartMs = 2000, quietEndMs = 3000): PlannedFault[] {
  const random = new SeededRandom(seed);
  const faults: PlannedFault[] = [];
  let atMs = quietStartMs;
  for (let index = 0; index < 10_000; index++) {
    const durationMs = random.int(800, 4000);
    if (atMs + durationMs > runMs - quietEndMs) break;
    faults.push({ kind: KINDS[random.int(0, KINDS.length - 1)]!, target: TARGETS[random.int(0, TARGETS.length - 1)]!, startMs: atMs, durationMs });
    atMs += durationMs + random.int(1000, 3000);
  }
  return faults;
}

export interface NodeView {
  readonly id: number;
  readonly state: string;
  readonly controller: boolean;
}

/** The broker's admin endpoint. */
export class AdminClient {
  constructor(private readonly address: string) {}

  async nodes(): Promise<NodeView[]> {
    const response = await fetch(`http://${this.address}/nodes`);
    const body = (await response.json()) as { nodes: NodeView[] };
    return body.nodes;
  }

  async post(path: string, body?: unknown): Promise<void> {
    const response = await fetch(`http://${this.address}${path}`, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  }

  async apply(kind: FaultKind, nodeId: number, nodeIds: readonly number[]): Promise<void> {
    if (kind === 'kill') await this.post(`/nodes/${nodeId}/kill`);
    else if (kind === 'pause') await this.post(`/nodes/${nodeId}/pause`);
    else await this.post('/partition', { groups: [[nodeId], nodeIds.filter((id) => id !== nodeId)] });
  }

  async heal(kind: FaultKind, nodeId: number): Promise<void> {
    if (kind === 'kill') await this.post(`/nodes/${nodeId}/restart`);
    else if (kind === 'pause') await this.post(`/nodes/${nodeId}/resume`);
    else await this.post('/heal');
  }
}

export interface NemesisContext {
  readonly admin: AdminClient;
  readonly nodeIds: readonly number[];
  /** The node leading the busiest partition now, or -1. */
  readonly busyLeader: () => Promise<number>;
  readonly nowMs: () => number;
  readonly sleepUntil: (atMs: number) => Promise<void>;
  readonly log: (line: string) => void;
  /** kill -9 of the broker process, down for `downMs`, restarted on its data dirs and ports. */
  readonly crashBroker: (downMs: number) => Promise<void>;
}

/** Runs the schedule; returns what was applied (a fault that could not be applied says why). */
export async function runNemesis(plan: readonly PlannedFault[], context: NemesisContext, seed: number): Promise<AppliedFault[]> {
  const random = new SeededRandom(seed ^ 0x5bd1e995);
  const applied: AppliedFault[] = [];
  for (const fault of plan) {
    await context.sleepUntil(fault.startMs);
    const nodeId = await pickTarget(fault.target, context, random);
    const entry: AppliedFault = { ...fault, nodeId, appliedAtMs: context.nowMs(), healedAtMs: -1, error: null };
    applied.push(entry);
    try {
      if (fault.kind === 'crash') {
        context.log(`${(entry.appliedAtMs / 1000).toFixed(1)} s: kill -9 of the whole broker, down ${fault.durationMs} ms`);
        await context.crashBroker(fault.durationMs);
        entry.healedAtMs = context.nowMs();
        continue;
      }
      await context.admin.apply(fault.kind, nodeId, context.nodeIds);
      context.log(`${(entry.appliedAtMs / 1000).toFixed(1)} s: ${fault.kind} node ${nodeId} (${fault.target}) for ${fault.durationMs} ms`);
      await context.sleepUntil(fault.startMs + fault.durationMs);
      await context.admin.heal(fault.kind, nodeId);
      entry.healedAtMs = context.nowMs();
    } catch (error) {
      entry.error = error instanceof Error ? error.message : String(error);
      context.log(`fault ${fault.kind} on node ${nodeId} failed: ${entry.error}`);
      await healEverything(context.admin, context.nodeIds);
      entry.healedAtMs = context.nowMs();
    }
  }
  return applied;
}

async function pickTarget(target: TargetKind, context: NemesisContext, random: SeededRandom): Promise<number> {
  if (target === 'leader') {
    const leader = await context.busyLeader().catch(() => -1);
    if (leader >= 0) return leader;
  }
  if (target === 'controller') {
    const controller = (await context.admin.nodes()).find((node) => node.controller);
    if (controller !== undefined) return controller.id;
  }
  return context.nodeIds[random.int(0, context.nodeIds.length - 1)]!;
}

/** Restarts killed nodes, resumes paused ones, heals the network. */
export async function healEverything(admin: AdminClient, nodeIds: readonly number[]): Promise<void> {
  await admin.post('/heal').catch(() => undefined);
  const nodes = await admin.nodes().catch(() => [] as NodeView[]);
  for (const nodeId of nodeIds) {
    const state = nodes.find((node) => node.id === nodeId)?.state;
    if (state === 'killed') await admin.post(`/nodes/${nodeId}/restart`).catch(() => undefined);
    if (state === 'paused') await admin.post(`/nodes/${nodeId}/resume`).catch(() => undefined);
  }
}
