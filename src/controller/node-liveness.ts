/**
 * Node liveness as the controller sees it: each node heartbeats every
 * broker.heartbeat.interval.ms; one silent for broker.session.timeout.ms is fenced (a metadata
 * record), and unfenced at its next heartbeat. Pure: time comes in through `nowMs` arguments.
 */
export interface FenceChange {
  nodeId: number;
  fenced: boolean;
}

export class NodeLiveness {
  private readonly lastHeartbeatMs = new Map<number, number>();

  constructor(
    private readonly sessionTimeoutMs: number,
    nodeIds: readonly number[],
    startMs: number,
  ) {
    // Every node gets a full session from start-up before it can be fenced.
    for (const nodeId of nodeIds) this.lastHeartbeatMs.set(nodeId, startMs);
  }

  /** The node is known to be gone (its worker exited): fence it at the next check. */
  markGone(nodeId: number): void {
    this.lastHeartbeatMs.set(nodeId, Number.NEGATIVE_INFINITY);
  }

  heartbeat(nodeId: number, nowMs: number): void {
    this.lastHeartbeatMs.set(nodeId, nowMs);
  }

  /** What fencing should be now, for nodes whose state differs from `fenced`. */
  changes(nowMs: number, fenced: ReadonlySet<number>): FenceChange[] {
    const changes: FenceChange[] = [];
    for (const [nodeId, lastMs] of this.lastHeartbeatMs) {
      const expired = nowMs - lastMs > this.sessionTimeoutMs;
      if (expired !== fenced.has(nodeId)) changes.push({ nodeId, fenced: expired });
    }
    return changes;
  }
}
