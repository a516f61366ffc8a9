/**
 * The random side of the replication simulation: a client producing with acks=-1 to whichever
 * node believes it leads a random partition, and a nemesis that, until the fault phase ends,
 * crashes and restarts nodes, isolates a partition leader from the controller and its
 * followers, cuts a node off the controller only or off one other node, holds a node's fsyncs,
 * stalls a node's metadata log consumer, fails the controller over (its answers are lost),
 * moves leaders back to their preferred replicas and shuts nodes down cleanly.
 * Each fault heals itself after a while; everything heals when the fault phase ends.
 */
import type { ReplicationCluster } from './replication-cluster.js';

export class ReplicationNemesis {
  constructor(private readonly cluster: ReplicationCluster) {}

  scheduleClient(untilMs: number): void {
    const { scheduler, random } = this.cluster;
    const next = (): void => {
      if (scheduler.nowMs >= untilMs) return;
      this.cluster.produce(random.int(0, this.cluster.partitionCount - 1));
      scheduler.after(0.5 + random.next() * 5, 'client', next);
    };
    scheduler.after(20, 'client', next);
  }

  scheduleFaults(untilMs: number): void {
    const { scheduler, random } = this.cluster;
    const next = (): void => {
      if (scheduler.nowMs >= untilMs) return;
      this.injectFault();
      scheduler.after(30 + random.next() * 200, 'nemesis', next);
    };
    scheduler.after(100 + random.next() * 200, 'nemesis', next);
  }

  /** Heals the network after a while, unless the fault phase is over (everything healed then). */
  private healLater(minMs: number, spreadMs: number): void {
    const cluster = this.cluster;
    cluster.scheduler.after(minMs + cluster.random.next() * spreadMs, 'heal', () => cluster.faultsOn && cluster.heal());
  }

  private injectFault(): void {
    const cluster = this.cluster;
    const { scheduler, random } = cluster;
    const node = cluster.nodes[random.int(0, cluster.nodeCount - 1)]!;
    const choice = random.int(0, 13);
    if (choice <= 2 && node.up) {
      cluster.crash(node.id);
      scheduler.after(20 + random.next() * 500, `restart n${node.id}`, () => cluster.faultsOn && cluster.restart(node.id));
    } else if (choice <= 4) {
      // The leader of a random partition, cut off from the controller and its followers.
      const leader = cluster.controller.image.partition('sim', random.int(0, cluster.partitionCount - 1))!.leader;
      cluster.isolate(leader >= 0 ? leader : node.id);
      this.healLater(50, 500);
    } else if (choice === 5) {
      cluster.isolate(node.id, true);
      this.healLater(50, 500);
    } else if (choice === 6) {
      cluster.holdFsync(node.id, true);
      scheduler.after(20 + random.next() * 200, `release fsync n${node.id}`, () => cluster.holdFsync(node.id, false));
    } else if (choice === 7) {
      cluster.stallMetadata(node.id);
      this.healLater(50, 400);
    } else if (choice === 8) {
      cluster.cutLink(node.id, cluster.nodes[(node.id + random.int(1, cluster.nodeCount - 1)) % cluster.nodeCount]!.id);
      this.healLater(50, 500);
    } else if (choice === 9) {
      cluster.loseControllerAnswers(10 + random.next() * 150);
    } else if (choice === 10) {
      cluster.note('preferred leader election');
      cluster.controller.electPreferredLeaders();
    } else if (choice === 11 && node.up) {
      cluster.shutDown(node.id, 20 + random.next() * 400);
    } else if (random.next() < 0.5) {
      cluster.heal();
    }
  }
}
