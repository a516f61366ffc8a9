/**
 * The simulation's admin client and controller stand-in: it proposes metadata changes through
 * whichever voter leads, validated the way the real controller must validate them (against the
 * leader's applied image plus its own proposals not yet applied, and only once the leader has
 * applied everything before its term), so every committed record applies cleanly on every voter.
 */
import { MetadataImage } from '../../src/metadata/image.js';
import type { MetadataRecord } from '../../src/metadata/records.js';
import type { RaftCore } from '../../src/raft/raft-core.js';
import type { RaftDriver } from '../../src/raft/raft-driver.js';
import { RaftRole } from '../../src/raft/types.js';
import type { SeededRandom } from '../../src/runtime/random.js';
import { encodeRecords, type MetadataMachine } from './metadata-machine.js';

interface Pending {
  index: number;
  records: MetadataRecord[];
}

interface LeaderView {
  term: number;
  pending: Pending[];
}

export class SimProposer {
  private readonly views = new Map<number, LeaderView>();
  private topicCounter = 0;
  marker: { index: number; term: number } | null = null;

  constructor(private readonly random: SeededRandom) {}

  /** Forgets the proposals of a voter that no longer leads in the same term; prunes applied ones. */
  observe(nodeId: number, core: RaftCore, machine: MetadataMachine): void {
    const view = this.views.get(nodeId);
    if (view === undefined) return;
    if (core.role !== RaftRole.leader || core.term !== view.term) {
      this.views.delete(nodeId);
      return;
    }
    while (view.pending.length > 0 && view.pending[0]!.index <= machine.appliedIndex) view.pending.shift();
  }

  proposeRandom(nodeId: number, driver: RaftDriver, core: RaftCore, machine: MetadataMachine): void {
    const image = this.leaderImage(nodeId, core, machine);
    if (image === null) return;
    this.propose(nodeId, driver, core, this.randomChange(image, core.nodeId));
  }

  /** The entry whose application everywhere ends the run. */
  proposeMarker(nodeId: number, driver: RaftDriver, core: RaftCore, machine: MetadataMachine): void {
    if (this.leaderImage(nodeId, core, machine) === null) return;
    const index = this.propose(nodeId, driver, core, this.createTopic(core.nodeId));
    if (index !== null) this.marker = { index, term: core.term };
  }

  private propose(nodeId: number, driver: RaftDriver, core: RaftCore, records: MetadataRecord[]): number | null {
    const index = driver.propose(encodeRecords(records));
    if (index === null) return null;
    let view = this.views.get(nodeId);
    if (view === undefined || view.term !== core.term) {
      view = { term: core.term, pending: [] };
      this.views.set(nodeId, view);
    }
    view.pending.push({ index, records });
    return index;
  }

  /** The image a leader validates against, or null while it has not applied its term's start. */
  private leaderImage(nodeId: number, core: RaftCore, machine: MetadataMachine): MetadataImage | null {
    if (core.role !== RaftRole.leader || core.log.term(core.appliedIndex) !== core.term) return null;
    const image = new MetadataImage();
    for (const record of machine.image.toRecords()) image.apply(record);
    const view = this.views.get(nodeId);
    if (view !== undefined && view.term === core.term) for (const pending of view.pending) for (const record of pending.records) image.apply(record);
    return image;
  }

  private randomChange(image: MetadataImage, leaderId: number): MetadataRecord[] {
    const topics = [...image.topics.values()];
    const choice = this.random.int(0, 9);
    if (topics.length === 0 || choice <= 3) return this.createTopic(leaderId);
    const topic = topics[this.random.int(0, topics.length - 1)]!;
    if (choice === 4) return [{ type: 'removeTopic', name: topic.name }];
    if (choice === 5) return [{ type: 'topicConfig', name: topic.name, configs: { 'retention.ms': String(this.random.int(1, 1e6)) } }];
    if (choice === 9) return [{ type: 'nodeFence', nodeId: this.random.int(0, 4), fenced: this.random.next() < 0.5 }];
    if (choice === 6) {
      const partition = topic.partitions.length;
      return [{ type: 'partition', topic: topic.name, partition, replicas: [leaderId], isr: [leaderId], leader: leaderId, leaderEpoch: 0, partitionEpoch: 0 }];
    }
    const partition = topic.partitions[this.random.int(0, topic.partitions.length - 1)]!;
    return [{ type: 'partition', topic: topic.name, partition: partition.partition, replicas: [...partition.replicas], isr: [...partition.isr], leader: leaderId, leaderEpoch: partition.leaderEpoch + 1, partitionEpoch: partition.partitionEpoch + 1 }];
  }

  private createTopic(leaderId: number): MetadataRecord[] {
    const name = `t${this.topicCounter++}`;
    const records: MetadataRecord[] = [{ type: 'topic', name, topicId: `id-${name}`, configs: {} }];
    const count = this.random.int(1, 3);
    for (let partition = 0; partition < count; partition++) records.push({ type: 'partition', topic: name, partition, replicas: [leaderId], isr: [leaderId], leader: leaderId, leaderEpoch: 0, partitionEpoch: 0 });
    return records;
  }
}
