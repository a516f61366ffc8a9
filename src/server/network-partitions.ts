/**
 * Fault injection: which nodes can reach which. `partition([[0], [1, 2]])` splits the nodes
 * into groups that only talk within themselves; `heal()` joins them again. Node-to-node
 * messages (the Raft relay) ask `blocked(from, to)` before delivering. A pure core: no I/O.
 */
export class NetworkPartitions {
  /** The group index of each node id while partitioned; empty when the network is whole. */
  private readonly groupOf = new Map<number, number>();
  private current: number[][] = [];

  constructor(private readonly nodeCount: number) {
    if (!Number.isInteger(nodeCount) || nodeCount < 1) throw new Error(`node count must be a positive integer, got ${nodeCount}`);
  }

  /**
   * Splits the network. Every node must be in exactly one group; throws a RangeError naming
   * the problem otherwise (unknown id, duplicate, missing node, empty group).
   */
  partition(groups: readonly (readonly number[])[]): void {
    const problem = partitionProblem(groups, this.nodeCount);
    if (problem !== null) throw new RangeError(problem);
    this.groupOf.clear();
    groups.forEach((group, index) => {
      for (const nodeId of group) this.groupOf.set(nodeId, index);
    });
    this.current = groups.map((group) => [...group].sort((a, b) => a - b));
  }

  heal(): void {
    this.groupOf.clear();
    this.current = [];
  }

  /** Whether a message from `from` to `to` is dropped. A node always reaches itself. */
  blocked(from: number, to: number): boolean {
    if (this.groupOf.size === 0 || from === to) return false;
    return this.groupOf.get(from) !== this.groupOf.get(to);
  }

  /** The groups now in force (copies), or [] when the network is whole. */
  groups(): number[][] {
    return this.current.map((group) => [...group]);
  }

  get isPartitioned(): boolean {
    return this.groupOf.size > 0;
  }
}

/** Why `groups` is not a split of nodes 0..nodeCount-1, or null if it is one. */
export function partitionProblem(groups: readonly (readonly number[])[], nodeCount: number): string | null {
  if (!Array.isArray(groups) || groups.length < 2) return 'a partition needs at least two groups of node ids, e.g. [[0], [1, 2]]';
  const seen = new Set<number>();
  for (const group of groups) {
    if (!Array.isArray(group) || group.length === 0) return 'every group must be a non-empty list of node ids';
    for (const nodeId of group) {
      if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId >= nodeCount) return `unknown node id ${JSON.stringify(nodeId)}: this broker runs nodes 0-${nodeCount - 1}`;
      if (seen.has(nodeId)) return `node ${nodeId} appears in more than one group`;
      seen.add(nodeId);
    }
  }
  const missing = Array.from({ length: nodeCount }, (_, nodeId) => nodeId).filter((nodeId) => !seen.has(nodeId));
  if (missing.length > 0) return `every node must be in a group; missing: ${missing.join(', ')}`;
  return null;
}
