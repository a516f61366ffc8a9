/**
 * Which node-to-node links are cut, for fault injection's network partitions: an N x N matrix
 * of Int32 cells in a SharedArrayBuffer, `blocked[from][to]`, written by the front end only and
 * read by every node before it sends to a peer. A cut link is one-way: a -> b may be cut while
 * b -> a is not.
 *
 * No torn updates: `setGroups` and `heal` work out the whole new matrix first, then store each
 * cell that changes once, straight from its old value to its new one. A node reading while the
 * front end updates sees every link either as before or as after the update, never in a state
 * of neither: a link inside a group of both the old and the new partition is never stored, so
 * it never reads as blocked (as it would if an update first blocked everything, then opened the
 * groups). The links that do change flip one by one, as links of a real network would.
 *
 * Layout: cell 0 holds N, then N * N cells, row `from`, column `to`; 1 means blocked.
 */
import { assert } from './assert.js';

const NODE_COUNT_CELL = 0;
const HEADER_CELLS = 1;
const BLOCKED = 1;
const OPEN = 0;

export function createLinkMatrix(nodeCount: number): SharedArrayBuffer {
  assert(Number.isSafeInteger(nodeCount) && nodeCount > 0, () => `a link matrix needs a positive node count, got ${nodeCount}`);
  const shared = new SharedArrayBuffer((HEADER_CELLS + nodeCount * nodeCount) * 4);
  new Int32Array(shared)[NODE_COUNT_CELL] = nodeCount;
  return shared;
}

export class LinkMatrix {
  private readonly cells: Int32Array;
  readonly nodeCount: number;

  constructor(shared: SharedArrayBuffer) {
    this.cells = new Int32Array(shared);
    this.nodeCount = this.cells[NODE_COUNT_CELL]!;
    assert(this.cells.length === HEADER_CELLS + this.nodeCount * this.nodeCount, () => `link matrix of ${this.cells.length} cells does not hold ${this.nodeCount} nodes`);
  }

  /** Whether messages from node `from` to node `to` are dropped now. */
  isBlocked(from: number, to: number): boolean {
    return Atomics.load(this.cells, this.cellOf(from, to)) === BLOCKED;
  }

  /** Cuts (or restores) the one-way link `from` -> `to`. */
  setBlocked(from: number, to: number, blocked: boolean): void {
    assert(from !== to, () => `node ${from} cannot be cut off from itself`);
    Atomics.store(this.cells, this.cellOf(from, to), blocked ? BLOCKED : OPEN);
  }

  /**
   * Partitions the network: nodes in one group reach each other, nodes in different groups do
   * not, and a node in no group reaches nobody. A node may be in one group at most.
   */
  setGroups(groups: readonly (readonly number[])[]): void {
    const groupOf = new Int32Array(this.nodeCount).fill(-1);
    groups.forEach((group, groupIndex) => {
      for (const node of group) {
        this.checkNode(node);
        assert(groupOf[node] === -1, () => `node ${node} is in more than one partition group`);
        groupOf[node] = groupIndex;
      }
    });
    this.storeChanged((from, to) => from !== to && (groupOf[from] === -1 || groupOf[from] !== groupOf[to]));
  }

  /** Restores every link. */
  heal(): void {
    this.storeChanged(() => false);
  }

  /** The blocked links now, as [from, to] pairs (for logs and the admin API). */
  blockedLinks(): Array<[number, number]> {
    const links: Array<[number, number]> = [];
    for (let from = 0; from < this.nodeCount; from++) {
      for (let to = 0; to < this.nodeCount; to++) if (this.isBlocked(from, to)) links.push([from, to]);
    }
    return links;
  }

  /** Stores each cell whose value differs from `blocked(from, to)`, once (see the header). */
  private storeChanged(blocked: (from: number, to: number) => boolean): void {
    for (let from = 0; from < this.nodeCount; from++) {
      for (let to = 0; to < this.nodeCount; to++) {
        const cell = this.cellOf(from, to);
        const next = blocked(from, to) ? BLOCKED : OPEN;
        if (Atomics.load(this.cells, cell) !== next) Atomics.store(this.cells, cell, next);
      }
    }
  }

  private cellOf(from: number, to: number): number {
    this.checkNode(from);
    this.checkNode(to);
    return HEADER_CELLS + from * this.nodeCount + to;
  }

  private checkNode(node: number): void {
    assert(Number.isInteger(node) && node >= 0 && node < this.nodeCount, () => `node ${node} is outside the link matrix of ${this.nodeCount} nodes`);
  }
}
