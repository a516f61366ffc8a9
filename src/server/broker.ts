/**
 * The broker process: the front-end thread with one TCP listener per node, the node workers,
 * the metadata log and image, and the controller. `Broker.start` brings it all up in order;
 * `stop` takes it down cleanly (nodes flush and checkpoint).
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { BrokerConfig } from '../config/broker-config.js';
import { logConfigFor } from '../config/topic-config.js';
import { Controller, type MetadataChanges, type TopicRequest } from '../controller/controller.js';
import { MetadataImage } from '../metadata/image.js';
import { MetadataLog } from '../metadata/metadata-log.js';
import { SingleVoterMetadataWriter } from '../metadata/single-voter-writer.js';
import type { MetadataRecord } from '../metadata/records.js';
import { ErrorCode, errorName } from '../protocol/errors.js';
import { systemClock } from '../runtime/clock.js';
import { Limits } from '../runtime/limits.js';
import { cryptoRandom } from '../runtime/random.js';
import { Logger } from '../runtime/logger.js';
import type { LogConfig } from '../storage/log-config.js';
import { NodeHandle } from '../workers/node-handle.js';
import type { SpawnedNodeWorker } from '../workers/node-spawn.js';
import type { PartitionAssignment } from '../workers/node-protocol.js';
import { AdminServer } from './admin-server.js';
import { Connection } from './connection.js';
import { CONSUMER_OFFSETS_TOPIC } from './handlers/groups.js';
import { advertisedApiVersions, requestHandlers } from './handlers/index.js';
import { NetworkPartitions, partitionProblem } from './network-partitions.js';
import { FAULT_INJECTION_DISABLED_MESSAGE, NodeFaultError, NodeState, type NodeStatus, type QuorumStatus } from './node-faults.js';
import type { BrokerServices, ListenerAddress } from './services.js';

/** The controller role sits with node 0 until the Raft quorum elects one. */
const CONTROLLER_NODE_ID = 0;

export class Broker implements BrokerServices {
  readonly image = new MetadataImage();
  readonly settings: BrokerConfig['broker'];
  readonly logger: Logger;
  readonly controllerId = CONTROLLER_NODE_ID;
  readonly handlers = requestHandlers();
  readonly apiVersions = advertisedApiVersions(this.handlers);
  nodes: NodeHandle[] = [];
  controller!: Controller;
  /** Fault injection: which nodes reach which (node-to-node messages consult it). */
  readonly networkPartitions: NetworkPartitions;
  /** Every node's listener address, by node id, killed nodes included. */
  private listenerAddresses: ListenerAddress[] = [];
  /** Nodes killed by fault injection and not yet back (worker gone, listener closed). */
  private readonly offline = new Set<number>();
  private readonly restarting = new Set<number>();
  /** Client sockets by listener node id, so killing a node can reset them. */
  private readonly sockets = new Map<number, Set<Socket>>();
  private adminServer: AdminServer | null = null;
  private metadataLog!: MetadataLog;
  private readonly servers = new Map<number, Server>();
  private readonly connections = new Set<Connection>();
  private stopping: Promise<void> | null = null;

  private constructor(readonly config: BrokerConfig) {
    this.settings = config.broker;
    this.logger = new Logger('broker', config.logLevel);
    this.networkPartitions = new NetworkPartitions(config.nodes);
  }

  /**
   * Starts everything; resolves once every listener accepts connections. `spawned` may hold
   * node workers started earlier (see node-spawn.ts), one per node id.
   */
  static async start(config: BrokerConfig, spawned: readonly SpawnedNodeWorker[] = []): Promise<Broker> {
    const broker = new Broker(config);
    try {
      await broker.startComponents(spawned);
    } catch (error) {
      await broker.stop().catch(() => undefined);
      throw error;
    }
    return broker;
  }

  private async startComponents(spawned: readonly SpawnedNodeWorker[]): Promise<void> {
    const phases: Record<string, string> = {};
    let mark = performance.now();
    const phase = (name: string) => {
      const now = performance.now();
      phases[name] = (now - mark).toFixed(1);
      mark = now;
    };
    mkdirSync(this.config.dataDir, { recursive: true });
    // Workers boot in parallel with the metadata log replay on this thread.
    const topicConfigs = () => this.topicLogConfigs();
    this.metadataLog = MetadataLog.open(join(this.config.dataDir, 'metadata'), systemClock, this.image);
    phase('metadataMs');
    for (const extra of spawned.slice(this.config.nodes)) void extra.worker.terminate();
    this.nodes = Array.from({ length: this.config.nodes }, (_, nodeId) => this.startNode(nodeId, topicConfigs(), spawned[nodeId]));
    const writer = new SingleVoterMetadataWriter(this.metadataLog, this.image, (changes) => this.applyChanges(changes));
    this.controller = new Controller(this.image, writer, this.config.nodes, this.settings, cryptoRandom);
    await this.controller.ensureClusterId(this.config.clusterId);
    phase('clusterIdMs');
    const ready = await Promise.all(this.nodes.map((node) => node.ready()));
    phase('nodesReadyMs');
    for (const node of ready) this.logger.debug('node ready', { node: node.nodeId, partitions: node.partitions, cleanShutdown: node.cleanShutdown, openMs: node.openMs.toFixed(1) });
    await this.assignAllPartitions();
    phase('assignMs');
    this.listenerAddresses = await Promise.all(this.nodes.map((node) => this.listen(node.nodeId)));
    phase('listenMs');
    if (this.config.adminPort !== null) this.adminServer = await AdminServer.start(this, this.config.host, this.config.adminPort);
    this.logger.debug('started', phases);
  }

  private topicLogConfigs(): Record<string, LogConfig> {
    const topicConfigs: Record<string, LogConfig> = {};
    for (const topic of this.image.topics.values()) topicConfigs[topic.name] = logConfigFor(topic.configs, this.settings);
    return topicConfigs;
  }

  private startNode(nodeId: number, topicConfigs: Record<string, LogConfig>, spawned: SpawnedNodeWorker | undefined): NodeHandle {
    const node = new NodeHandle(
      {
        nodeId,
        dataDir: join(this.config.dataDir, `node-${nodeId}`),
        topicConfigs,
        defaultLogConfig: logConfigFor({}, this.settings),
        retentionCheckIntervalMs: this.settings['log.retention.check.interval.ms'],
        checkpointIntervalMs: this.settings['log.flush.offset.checkpoint.interval.ms'],
        groupConfig: {
          groupMinSessionTimeoutMs: this.settings['group.min.session.timeout.ms'],
          groupMaxSessionTimeoutMs: this.settings['group.max.session.timeout.ms'],
          groupInitialRebalanceDelayMs: this.settings['group.initial.rebalance.delay.ms'],
          groupMaxSize: this.settings['group.max.size'],
          offsetsRetentionMs: this.settings['offsets.retention.minutes'] * 60_000,
          offsetMetadataMaxBytes: this.settings['offset.metadata.max.bytes'],
        },
        journal: this.settings['log.journal'] as 'auto' | 'always' | 'off',
        logLevel: this.config.logLevel,
      },
      this.logger.child(`node-${nodeId}`),
      spawned,
    );
    node.onDrained = () => {
      for (const connection of this.connections) connection.applyBackpressure();
    };
    return node;
  }

  /** At start: every node learns the partitions it leads and drops logs of deleted topics. */
  private async assignAllPartitions(): Promise<void> {
    const byNode = this.assignmentsByNode();
    await Promise.all(this.nodes.map((node) => this.assignPartitions(node, byNode.get(node.nodeId) ?? [])));
  }

  /** The partitions each node leads in the metadata image. */
  private assignmentsByNode(): Map<number, PartitionAssignment[]> {
    const byNode = new Map<number, PartitionAssignment[]>();
    for (const topic of this.image.topics.values()) {
      const config = logConfigFor(topic.configs, this.settings);
      for (const partition of topic.partitions) {
        if (partition.leader >= this.nodes.length) {
          this.logger.warn('partition leader is not a node of this run; partition offline', { topic: topic.name, partition: partition.partition, leader: partition.leader });
          continue;
        }
        const list = byNode.get(partition.leader) ?? [];
        list.push({ topic: topic.name, partition: partition.partition, leaderEpoch: partition.leaderEpoch, config, partitionCount: topic.partitions.length });
        byNode.set(partition.leader, list);
      }
    }
    return byNode;
  }

  private async assignPartitions(node: NodeHandle, partitions: PartitionAssignment[]): Promise<void> {
    await node.control({ op: 'dropStrayLogs', knownTopics: [...this.image.topics.keys()] });
    await node.control({ op: 'becomeLeader', partitions });
  }

  /** Tells the nodes about committed metadata changes (called by the controller, in order). */
  private async applyChanges(changes: MetadataChanges): Promise<void> {
    if (this.nodes.length === 0) return; // during start: assignAllPartitions covers it
    const work: Array<Promise<unknown>> = [];
    for (const record of changes.records) work.push(...this.nodeWorkFor(record));
    await Promise.all(work);
  }

  private nodeWorkFor(record: MetadataRecord): Array<Promise<unknown>> {
    switch (record.type) {
      case 'partition': {
        const node = this.liveNode(record.leader);
        if (node === undefined) return [];
        const topic = this.image.topic(record.topic);
        const config = logConfigFor(topic?.configs ?? {}, this.settings);
        const partitionCount = topic?.partitions.length ?? record.partition + 1;
        return [node.control({ op: 'becomeLeader', partitions: [{ topic: record.topic, partition: record.partition, leaderEpoch: record.leaderEpoch, config, partitionCount }] })];
      }
      case 'removeTopic':
        return this.liveNodes().map((node) => node.control({ op: 'dropStrayLogs', knownTopics: [...this.image.topics.keys()] }));
      case 'topicConfig': {
        const config = logConfigFor(record.configs, this.settings);
        return this.liveNodes().map((node) => node.control({ op: 'updateConfig', topic: record.name, config }));
      }
      default:
        return [];
    }
  }

  async autoCreateTopics(names: readonly string[]): Promise<void> {
    const requests: TopicRequest[] = names.map((name) => ({ name, numPartitions: -1, replicationFactor: -1 }));
    const results = await this.controller.createTopics(requests);
    for (const result of results) {
      if (result.errorCode === ErrorCode.NONE) this.logger.info('auto-created topic', { topic: result.name, partitions: result.numPartitions });
      else if (result.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) this.logger.warn('auto-create failed', { topic: result.name, error: errorName(result.errorCode), detail: result.errorMessage ?? '' });
    }
  }

  async ensureOffsetsTopic(): Promise<void> {
    if (this.image.topic(CONSUMER_OFFSETS_TOPIC) !== undefined) return;
    const [result] = await this.controller.createTopics([
      {
        name: CONSUMER_OFFSETS_TOPIC,
        numPartitions: this.settings['offsets.topic.num.partitions'],
        replicationFactor: 1,
        configs: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.bytes', value: String(this.settings['offsets.topic.segment.bytes']) },
        ],
      },
    ]);
    if (result!.errorCode === ErrorCode.NONE) this.logger.info('created the consumer offsets topic', { partitions: result!.numPartitions });
    else if (result!.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) throw new Error(`cannot create ${CONSUMER_OFFSETS_TOPIC}: ${result!.errorMessage}`);
  }

  private listen(nodeId: number, port = this.config.port === 0 ? 0 : this.config.port + nodeId): Promise<ListenerAddress> {
    const server = createServer((socket) => this.accept(socket, nodeId));
    this.servers.set(nodeId, server);
    return new Promise((resolve, reject) => {
      server.once('error', (error) => reject(new Error(`node ${nodeId} cannot listen on ${this.config.host}:${port}: ${error.message}`)));
      server.listen({ host: this.config.host, port }, () => {
        const address = server.address();
        if (address === null || typeof address === 'string') return reject(new Error('listener has no address'));
        resolve({ nodeId, host: this.config.host, port: address.port });
      });
    });
  }

  private accept(socket: Socket, nodeId: number): void {
    if (this.stopping !== null) {
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, nodeId, this, this.handlers, this.settings['socket.request.max.bytes'], (closed) => this.connections.delete(closed));
    this.connections.add(connection);
    let sockets = this.sockets.get(nodeId);
    if (sockets === undefined) this.sockets.set(nodeId, (sockets = new Set()));
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  }

  /** The listeners of the nodes that serve now (Metadata lists only live brokers, as Kafka does). */
  get listeners(): ListenerAddress[] {
    return this.listenerAddresses.filter((listener) => !this.offline.has(listener.nodeId));
  }

  /** The admin endpoint's address, when it runs. */
  get adminAddress(): { host: string; port: number } | null {
    return this.adminServer?.address ?? null;
  }

  get bootstrapServers(): string {
    return this.listeners.map((listener) => `${listener.host}:${listener.port}`).join(',');
  }

  /** Stops listening, closes connections, lets every node flush and checkpoint, closes the metadata log. */
  stop(): Promise<void> {
    this.stopping ??= this.stopComponents();
    return this.stopping;
  }

  private async stopComponents(): Promise<void> {
    await this.adminServer?.close();
    const closed = Promise.all([...this.servers.values()].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const connection of this.connections) connection.shutdown();
    this.connections.clear();
    await closed;
    await Promise.all(this.nodes.map((node) => node.stop(Limits.shutdownTimeoutMs - 500)));
    if (this.metadataLog !== undefined) await this.metadataLog.close();
  }

  // Fault injection (see node-faults.ts and admin-server.ts).

  /**
   * The metadata quorum's view of every node. Until the Raft quorum runs: the fixed
   * controller, and no terms, roles or commit indexes.
   */
  quorumStatus(): QuorumStatus {
    return { controllerId: this.controllerId, nodes: this.nodes.map((node) => ({ nodeId: node.nodeId, term: null, role: null, commitIndex: null, fenced: false })) };
  }

  /** Every node with its listener, state and Raft view. */
  nodeStatuses(): NodeStatus[] {
    const quorum = this.quorumStatus();
    return this.nodes.map((node) => {
      const raft = quorum.nodes.find((entry) => entry.nodeId === node.nodeId);
      const listener = this.listenerAddresses[node.nodeId];
      let state: NodeState = NodeState.RUNNING;
      if (this.offline.has(node.nodeId)) state = NodeState.KILLED;
      else if (node.isPaused) state = NodeState.PAUSED;
      else if (raft?.fenced === true) state = NodeState.FENCED;
      return {
        id: node.nodeId,
        listener: listener === undefined ? '' : `${listener.host}:${listener.port}`,
        state,
        controller: node.nodeId === quorum.controllerId,
        term: raft?.term ?? null,
        role: raft?.role ?? null,
        commitIndex: raft?.commitIndex ?? null,
        crash: node.crash?.message ?? null,
      };
    });
  }

  /** Terminates a node's worker like a crash and closes its listener; its clients are reset. */
  async killNode(nodeId: number): Promise<void> {
    const node = this.faultTarget(nodeId);
    if (this.offline.has(nodeId)) throw new NodeFaultError('conflict', `node ${nodeId} is already killed`);
    this.offline.add(nodeId);
    const server = this.servers.get(nodeId);
    this.servers.delete(nodeId);
    const closed = new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    for (const socket of this.sockets.get(nodeId) ?? []) socket.resetAndDestroy();
    await Promise.all([closed, node.kill()]);
    this.logger.warn('fault injection: node killed', { node: nodeId });
  }

  /** Starts a fresh worker for a killed node on its data dir and reopens its listener on the same port. */
  async restartNode(nodeId: number): Promise<void> {
    this.faultTarget(nodeId);
    if (!this.offline.has(nodeId)) throw new NodeFaultError('conflict', `node ${nodeId} is running; only a killed node can be restarted`);
    if (this.restarting.has(nodeId)) throw new NodeFaultError('conflict', `node ${nodeId} is already restarting`);
    this.restarting.add(nodeId);
    // From here metadata changes go to the new worker (liveNode), queued until it serves.
    const node = (this.nodes[nodeId] = this.startNode(nodeId, this.topicLogConfigs(), undefined));
    try {
      await node.ready();
      await this.assignPartitions(node, this.assignmentsByNode().get(nodeId) ?? []);
      await this.listen(nodeId, this.listenerAddresses[nodeId]!.port);
      this.offline.delete(nodeId);
    } catch (error) {
      // Still killed: a later restart starts from scratch (e.g. once its port is free again).
      this.servers.delete(nodeId);
      await node.kill();
      throw error;
    } finally {
      this.restarting.delete(nodeId);
    }
    this.logger.warn('fault injection: node restarted', { node: nodeId });
  }

  /** Freezes a node's worker (it serves nothing, its listener stays open); resolves once frozen. */
  async pauseNode(nodeId: number): Promise<void> {
    const node = this.faultTarget(nodeId);
    if (this.offline.has(nodeId)) throw new NodeFaultError('conflict', `node ${nodeId} is killed; restart it instead`);
    if (node.isPaused) throw new NodeFaultError('conflict', `node ${nodeId} is already paused`);
    await node.pause(Limits.shutdownTimeoutMs);
    this.logger.warn('fault injection: node paused', { node: nodeId });
  }

  resumeNode(nodeId: number): void {
    const node = this.faultTarget(nodeId);
    if (this.offline.has(nodeId) || !node.isPaused) throw new NodeFaultError('conflict', `node ${nodeId} is not paused`);
    node.resume();
    this.logger.warn('fault injection: node resumed', { node: nodeId });
  }

  /** Splits node-to-node traffic into `groups` (every node in exactly one). */
  partitionNetwork(groups: number[][]): void {
    this.requireFaultInjection();
    const problem = partitionProblem(groups, this.nodes.length);
    if (problem !== null) throw new NodeFaultError('invalid', problem);
    this.networkPartitions.partition(groups);
    this.logger.warn('fault injection: network partitioned', { groups: JSON.stringify(groups) });
  }

  healNetwork(): void {
    this.requireFaultInjection();
    this.networkPartitions.heal();
    this.logger.warn('fault injection: network healed');
  }

  private requireFaultInjection(): void {
    if (!this.config.faultInjection) throw new NodeFaultError('disabled', FAULT_INJECTION_DISABLED_MESSAGE);
  }

  private faultTarget(nodeId: number): NodeHandle {
    this.requireFaultInjection();
    const node = Number.isInteger(nodeId) ? this.nodes[nodeId] : undefined;
    if (node === undefined) throw new NodeFaultError('invalid', `no node ${nodeId}: this broker runs nodes 0-${this.nodes.length - 1}`);
    return node;
  }

  /** The node that should hear about metadata changes, unless it is killed (it re-learns at restart). */
  private liveNode(nodeId: number): NodeHandle | undefined {
    if (this.offline.has(nodeId) && !this.restarting.has(nodeId)) return undefined;
    return this.nodes[nodeId];
  }

  private liveNodes(): NodeHandle[] {
    return this.nodes.filter((node) => this.liveNode(node.nodeId) !== undefined);
  }
}
