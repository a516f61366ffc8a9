/**
 * The vocabulary of fault injection, shared by the broker, the admin endpoint, the embedded
 * API and the CLI: a node's state as seen from outside, the Raft view of it, and the error a
 * refused verb raises (its `kind` picks the HTTP status).
 */

export const NodeState = { RUNNING: 'running', PAUSED: 'paused', KILLED: 'killed', FENCED: 'fenced' } as const;
export type NodeState = (typeof NodeState)[keyof typeof NodeState];

/** The metadata quorum's view of the nodes (filled in by the Raft quorum). */
export interface QuorumStatus {
  controllerId: number;
  nodes: Array<{ nodeId: number; term: number | null; role: string | null; commitIndex: number | null; fenced: boolean }>;
}

export interface NodeStatus {
  id: number;
  /** The node's listener, `host:port` (kept while the node is killed: a restart reopens it). */
  listener: string;
  state: NodeState;
  /** Whether this node holds the active controller. */
  controller: boolean;
  term: number | null;
  role: string | null;
  commitIndex: number | null;
  /** Why the node's worker died on its own, if it did (not a kill). */
  crash: string | null;
}

export const NodeFaultKind = {
  /** Fault injection is off. */
  DISABLED: 'disabled',
  /** No such node id, or a malformed argument. */
  INVALID: 'invalid',
  /** The verb does not fit the node's state (restart a running node, resume one not paused). */
  CONFLICT: 'conflict',
} as const;
export type NodeFaultKind = (typeof NodeFaultKind)[keyof typeof NodeFaultKind];

export class NodeFaultError extends Error {
  constructor(
    readonly kind: NodeFaultKind,
    message: string,
  ) {
    super(message);
    this.name = 'NodeFaultError';
  }
}

export const FAULT_INJECTION_DISABLED_MESSAGE =
  'fault injection is off: start the broker with --fault-injection (config "faultInjection": true, or startBroker({ faultInjection: true }))';
