/**
 * The node-to-node links: one SharedArrayBuffer ring per ordered pair of nodes (a -> b written
 * by a, read by b; follower fetches one way, the leader's answers the other), each node's one
 * doorbell that every writer of its inbound rings rings, and the link matrix that fault
 * injection cuts. The front end allocates them (NodeLinkRings) and renews a node's rings when it
 * restarts; each node worker reads and writes its own (NodeLinks).
 *
 * Sends are best effort, as on a network: a cut link or a full ring drops the message, and the
 * follower's fetch times out and goes again. A killed node's rings are replaced, never reused:
 * what it left half read is gone with it.
 */
import { Doorbell } from '../runtime/doorbell.js';
import { LinkMatrix, createLinkMatrix } from '../runtime/link-matrix.js';
import { FRONT_SOURCE_ID, RingSet, type RingSetMessageHandler } from '../runtime/ring-set.js';
import { createRingBuffer, RingWriter, type RingWaitOutcome } from '../runtime/shared-ring.js';

/** What one node gets of the links: its peers' rings both ways, and their doorbells. */
export interface NodeLinkInit {
  linkMatrix: SharedArrayBuffer;
  peers: PeerLink[];
}

export interface PeerLink {
  peerId: number;
  /** The ring the peer writes and this node reads. */
  inbound: SharedArrayBuffer;
  /** The ring this node writes and the peer reads. */
  outbound: SharedArrayBuffer;
  /** The peer's doorbell (rung after each write to `outbound`). */
  peerDoorbell: SharedArrayBuffer;
}

/** Front end: allocates every link ring, and fresh ones for a restarted node. */
export class NodeLinkRings {
  readonly linkMatrix: SharedArrayBuffer;
  readonly matrix: LinkMatrix;
  private readonly rings = new Map<string, SharedArrayBuffer>();

  constructor(
    private readonly doorbells: SharedArrayBuffer[],
    private readonly ringCapacityBytes: number,
  ) {
    this.linkMatrix = createLinkMatrix(doorbells.length);
    this.matrix = new LinkMatrix(this.linkMatrix);
    for (let from = 0; from < doorbells.length; from++) {
      for (let to = 0; to < doorbells.length; to++) if (from !== to) this.rings.set(`${from}>${to}`, createRingBuffer(ringCapacityBytes));
    }
  }

  /** The links of `nodeId` as they are now. */
  forNode(nodeId: number): NodeLinkInit {
    const peers: PeerLink[] = [];
    for (let peerId = 0; peerId < this.doorbells.length; peerId++) {
      if (peerId === nodeId) continue;
      peers.push({ peerId, inbound: this.rings.get(`${peerId}>${nodeId}`)!, outbound: this.rings.get(`${nodeId}>${peerId}`)!, peerDoorbell: this.doorbells[peerId]! });
    }
    return { linkMatrix: this.linkMatrix, peers };
  }

  /**
   * `nodeId` restarts with a new worker and doorbell: every ring to or from it is new. Returns,
   * per other node, the link it must swap in (see NodeLinks.replacePeer).
   */
  renew(nodeId: number, doorbell: SharedArrayBuffer): Array<{ nodeId: number; link: PeerLink }> {
    this.doorbells[nodeId] = doorbell;
    const updates: Array<{ nodeId: number; link: PeerLink }> = [];
    for (let peerId = 0; peerId < this.doorbells.length; peerId++) {
      if (peerId === nodeId) continue;
      const toPeer = createRingBuffer(this.ringCapacityBytes);
      const fromPeer = createRingBuffer(this.ringCapacityBytes);
      this.rings.set(`${nodeId}>${peerId}`, toPeer);
      this.rings.set(`${peerId}>${nodeId}`, fromPeer);
      updates.push({ nodeId: peerId, link: { peerId: nodeId, inbound: toPeer, outbound: fromPeer, peerDoorbell: doorbell } });
    }
    return updates;
  }
}

/** A node worker's side: all its inbound rings (the front's too) and its writers to peers. */
export class NodeLinks {
  readonly inbound: RingSet;
  private readonly writers = new Map<number, RingWriter>();
  private readonly matrix: LinkMatrix | null;
  /** Messages dropped because a ring was full or a link cut (for logs and tests). */
  droppedSends = 0;

  constructor(
    readonly nodeId: number,
    doorbell: SharedArrayBuffer,
    frontRequestRing: SharedArrayBuffer,
    init: NodeLinkInit | null,
  ) {
    this.inbound = new RingSet(doorbell);
    this.inbound.add(FRONT_SOURCE_ID, frontRequestRing);
    this.matrix = init === null ? null : new LinkMatrix(init.linkMatrix);
    for (const link of init?.peers ?? []) this.replacePeer(link);
  }

  /** Swaps in new rings to and from a peer (it restarted): what the old ones held is dropped. */
  replacePeer(link: PeerLink): void {
    this.inbound.replace(link.peerId, link.inbound);
    this.writers.set(link.peerId, new RingWriter(link.outbound, { doorbell: new Doorbell(link.peerDoorbell) }));
  }

  get peerIds(): number[] {
    return [...this.writers.keys()];
  }

  /** Whether messages from `from` to `to` are dropped (fault injection's network partitions). */
  isCut(from: number, to: number): boolean {
    return this.matrix !== null && from !== to && this.matrix.isBlocked(from, to);
  }

  /** Writes to a peer's ring; false (dropped) when the link is cut, the ring full or the peer unknown. */
  send(peerId: number, write: (ring: RingWriter) => boolean): boolean {
    const writer = this.writers.get(peerId);
    if (writer === undefined || this.isCut(this.nodeId, peerId) || !write(writer)) {
      this.droppedSends++;
      return false;
    }
    return true;
  }

  /** The most bytes one message to a peer may take. */
  maxMessageBytes(peerId: number): number {
    return this.writers.get(peerId)?.maxMessageBytes ?? 0;
  }

  /**
   * Hands queued messages to `handle` (source FRONT_SOURCE_ID or a peer id); messages from a
   * peer whose link to this node is cut are dropped, as the network would.
   */
  drain(handle: RingSetMessageHandler, maxMessages: number): number {
    return this.inbound.drain((sourceId, bytes, offset, length) => {
      if (sourceId !== FRONT_SOURCE_ID && this.isCut(sourceId, this.nodeId)) return;
      handle(sourceId, bytes, offset, length);
    }, maxMessages);
  }

  get isEmpty(): boolean {
    return this.inbound.isEmpty;
  }

  waitForAny(timeoutMs?: number): Promise<RingWaitOutcome> {
    return this.inbound.waitForAny(timeoutMs);
  }

  wake(): void {
    this.inbound.wake();
  }
}
