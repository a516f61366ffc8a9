/**
 * The broker process: the front-end thread with one TCP listener per node, the node workers,
 * the metadata log and image, and the controller. `Broker.start` brings it all up in order;
 * `stop` takes it down cleanly (nodes flush and checkpoint).
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { internalTopicReplicationFactor, quorumVoterIds, type BrokerConfig } from '../config/broker-config.js';
import { logConfigFor } from '../config/topic-config.js';
import { Controller, type TopicRequest } from '../controller/controller.js';
import { NodeLiveness } from '../controller/node-liveness.js';
import { MetadataImage } from '../metadata/image.js';
import { MetadataQuorumObserver } from '../metadata/quorum-observer.js';
import { QuorumMetadataWriter } from '../metadata/quorum-writer.js';
import { DataDirLock } from '../storage/data-dir-lock.js';
import type { QuorumEvent, QuorumSettings } from '../workers/quorum-protocol.js';
import { ErrorCode, errorName } from '../protocol/errors.js';
import { Limits } from '../runtime/limits.js';
import { cryptoRandom } from '../runtime/random.js';
import type { ProducerIdManager } from '../txn/producer-id-manager.js';
import { ProducerIdManagers } from '../txn/producer-id-managers.js';
import { Logger } from '../runtime/logger.js';
import type { LogConfig } from '../storage/log-config.js';
import { NodeHandle } from '../workers/node-handle.js';
import { spawnNodeWorker, type SpawnedNodeWorker } from '../workers/node-spawn.js';
import { NodeLinkRings } from '../workers/node-links.js';
import type { AlterPartitionRequest } from '../workers/broker-node.js';
import { AdminServer } from './admin-server.js';
import { Connection } from './connection.js';
import { CONSUMER_OFFSETS_TOPIC } from './handlers/groups.js';
import { advertisedApiVersions, requestHandlers } from './handlers/index.js';
import { NetworkPartitions, partitionProblem } from './network-partitions.js';
import { finishMigration, nodesThatLostMetadata, preRaftMetadataSnapshot, quorumSettingsFor } from './quorum-bootstrap.js';
import { FAULT_INJECTION_DISABLED_MESSAGE, NodeFaultError, NodeState, type NodeStatus, type QuorumStatus } from './node-faults.js';
import type { BrokerServices, ListenerAddress } from './services.js';


export class Broker implements BrokerServices {
  readonly image = new MetadataImage();
  readonly settings: BrokerConfig['broker'];
  readonly logger: Logger;
  readonly quorum = new MetadataQuorumObserver(this.image);
  readonly handlers = requestHandlers();
  readonly apiVersions = advertisedApiVersions(this.handlers);
  nodes: NodeHandle[] = [];
  controller!: Controller;
  private liveness: NodeLiveness | null = null;
  private dataDirLock: DataDirLock | null = null;
  private quorumSettingsByNode: QuorumSettings[] = [];
  private livenessTimer: NodeJS.Timeout | null = null;
  private rebalanceTimer: NodeJS.Timeout | null = null;
  /** Each node listener's producer ids (InitProducerId). */
  private producerIds: ProducerIdManagers | null = null;
  private fencing = false;
  /** Fault injection: which nodes reach which (node-to-node messages consult it). */
  readonly networkPartitions: NetworkPartitions;
  /** The rings between the nodes (replication); the link matrix in them mirrors networkPartitions. */
  private links: NodeLinkRings | null = null;
  /** Every node's listener address, by node id, killed nodes included. */
  private listenerAddresses: ListenerAddress[] = [];
  /** Nodes killed by fault injection and not yet back (worker gone, listener closed). */
  private readonly offline = new Set<number>();
  private readonly restarting = new Set<number>();
  /** Client sockets by listener node id, so killing a node can reset them. */
  private readonly sockets = new Map<number, Set<Socket>>();
  private adminServer: AdminServer | null = null;
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
    this.dataDirLock = DataDirLock.acquire(this.config.dataDir);
    const bootstrapSnapshot = preRaftMetadataSnapshot(this.config.dataDir, this.logger);
    phase('metadataMs');
    for (const extra of spawned.slice(this.config.nodes)) void extra.worker.terminate();
    this.quorumSettingsByNode = quorumSettingsFor(this.config, bootstrapSnapshot, this.logger);
    this.quorum.setVoters(this.quorumSettingsByNode[0]!.voters);
    const workers = Array.from({ length: this.config.nodes }, (_, nodeId) => spawned[nodeId] ?? spawnNodeWorker(Limits.ringCapacityBytes));
    this.links = new NodeLinkRings(workers.map((worker) => worker.doorbell), Limits.linkRingCapacityBytes);
    this.nodes = workers.map((worker, nodeId) => this.startNode(nodeId, {}, worker, this.quorumSettingsByNode[nodeId]!));
    const writer = new QuorumMetadataWriter(this.quorum, {
      commitTimeoutMs: Limits.metadataCommitTimeoutMs,
      propose: (nodeId, operationId, data) => this.nodes[nodeId]?.sendQuorum({ type: 'propose', operationId, data }),
    });
    this.controller = new Controller(this.image, writer, this.config.nodes, this.settings, cryptoRandom, { maxReplicationFactor: this.config.nodes });
    this.producerIds = new ProducerIdManagers(this.nodes.map((node) => node.nodeId), this.controller, this.logger);
    const ready = await Promise.all(this.nodes.map((node) => node.ready()));
    phase('nodesReadyMs');
    for (const node of ready) this.logger.debug('node ready', { node: node.nodeId, partitions: node.partitions, cleanShutdown: node.cleanShutdown, openMs: node.openMs.toFixed(1) });
    if (bootstrapSnapshot !== null) finishMigration(this.config.dataDir, this.logger);
    await this.waitForMetadata();
    phase('metadataQuorumMs');
    await this.controller.ensureClusterId(this.config.clusterId);
    phase('clusterIdMs');
    await Promise.all(this.nodes.map((node) => this.nodeCaughtUp(node.nodeId)));
    phase('assignMs');
    this.startLivenessChecks();
    this.listenerAddresses = await Promise.all(this.nodes.map((node) => this.listen(node.nodeId)));
    phase('listenMs');
    if (this.config.adminPort !== null) this.adminServer = await AdminServer.start(this, this.config.host, this.config.adminPort);
    this.logger.debug('started', phases);
  }


  private startNode(nodeId: number, topicConfigs: Record<string, LogConfig>, spawned: SpawnedNodeWorker, quorum: QuorumSettings): NodeHandle {
    const node = new NodeHandle(
      {
        nodeId,
        links: this.links!.forNode(nodeId),
        replicaLagTimeMaxMs: this.settings['replica.lag.time.max.ms'],
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
        quorum,
        brokerSettings: this.settings,
      },
      this.logger.child(`node-${nodeId}`),
      spawned,
    );
    node.onDrained = () => {
      for (const connection of this.connections) connection.applyBackpressure();
    };
    node.onQuorumEvent = (event) => this.handleQuorumEvent(event);
    node.onAlterPartition = (request) => void this.alterPartition(nodeId, request);
    return node;
  }

  /**
   * A partition leader's ISR change, for the controller (which runs here, on the quorum
   * leader's behalf). A leader cut off from the controller's node is not heard: it learns so by
   * a timeout, as over a network, and proposes again later.
   */
  private async alterPartition(nodeId: number, request: AlterPartitionRequest): Promise<void> {
    const answer = (errorCode: number) => this.nodes[nodeId]?.post({ type: 'alterPartitionAnswer', topic: request.topic, partition: request.partition, partitionEpoch: request.partitionEpoch, errorCode });
    if (this.isLinkBlocked(nodeId, this.controllerId)) {
      setTimeout(() => answer(ErrorCode.REQUEST_TIMED_OUT), Limits.alterPartitionUnreachableMs).unref();
      return;
    }
    try {
      const [result] = await this.controller.alterPartition([request]);
      if (result!.errorCode !== ErrorCode.NONE) this.logger.info('AlterPartition refused', { topic: request.topic, partition: request.partition, node: nodeId, error: errorName(result!.errorCode), detail: result!.errorMessage ?? '' });
      answer(result!.errorCode);
    } catch (error) {
      this.logger.warn('AlterPartition failed', { topic: request.topic, partition: request.partition, error: error instanceof Error ? error.message : String(error) });
      answer(ErrorCode.UNKNOWN_SERVER_ERROR);
    }
  }

  /** The active controller: the metadata quorum's leader (-1 while there is none). */
  get controllerId(): number {
    return this.quorum.leaderId;
  }

  get quorumVoters(): readonly number[] {
    return this.quorumSettingsByNode[0]?.voters ?? quorumVoterIds(this.config);
  }

  private handleQuorumEvent(event: QuorumEvent): void {
    switch (event.type) {
      case 'raft':
        // Node-to-node traffic passes here, which is where network partitions are injected.
        if (!this.isLinkBlocked(event.message.from, event.message.to)) this.nodes[event.message.to]?.sendQuorum({ type: 'raft', message: event.message });
        break;
      case 'metadataApplied':
        this.quorum.entryApplied(event.index, event.term, event.data);
        break;
      case 'metadataSnapshot':
        this.quorum.snapshotApplied(event.index, event.term, event.data);
        break;
      case 'quorumStatus':
        this.quorum.status(event);
        break;
      case 'proposeAccepted':
        this.quorum.proposalAccepted(event.operationId, event.index);
        break;
      case 'proposeRejected':
        this.quorum.proposalRejected(event.operationId);
        break;
      case 'nodeHeartbeat':
        // A node cut off from the controller's node does not reach the controller.
        if (!this.isLinkBlocked(event.nodeId, this.controllerId)) this.liveness?.heartbeat(event.nodeId, Date.now());
        break;
      case 'metadataPublished':
        this.quorum.nodePublished(event.nodeId, event.index);
        break;
      case 'quorumFailed':
        this.logger.error('a node left the metadata quorum: its metadata storage failed', { node: event.nodeId, error: event.error });
        this.quorum.forget(event.nodeId);
        break;
    }
  }

  private topicLogConfigs(): Record<string, LogConfig> {
    const topicConfigs: Record<string, LogConfig> = {};
    for (const topic of this.image.topics.values()) topicConfigs[topic.name] = logConfigFor(topic.configs, this.settings);
    return topicConfigs;
  }

  producerIdManager(nodeId: number): ProducerIdManager {
    if (this.producerIds === null) throw new Error('producer ids are not served before start');
    return this.producerIds.forNode(nodeId);
  }

  /** Fences nodes that stop heartbeating and unfences them when they return (a metadata record each). */
  private startLivenessChecks(): void {
    const nodeIds = this.nodes.map((node) => node.nodeId);
    this.liveness = new NodeLiveness(this.settings['broker.session.timeout.ms'], nodeIds, Date.now());
    const intervalMs = Math.max(10, Math.min(this.settings['broker.heartbeat.interval.ms'], this.settings['broker.session.timeout.ms'] / 4));
    this.livenessTimer = setInterval(() => void this.checkLiveness(), intervalMs);
    this.livenessTimer.unref();
    if (this.settings['auto.leader.rebalance.enable']) {
      this.rebalanceTimer = setInterval(() => void this.restorePreferredLeaders(), this.settings['leader.imbalance.check.interval.seconds'] * 1000);
      this.rebalanceTimer.unref();
    }
  }

  private async checkLiveness(): Promise<void> {
    if (this.fencing || this.liveness === null || this.stopping !== null) return;
    const changes = this.liveness.changes(Date.now(), this.image.fencedNodes);
    if (changes.length === 0) return;
    this.fencing = true;
    try {
      for (const change of changes) this.logger.warn(change.fenced ? 'node stopped heartbeating: fenced' : 'node heartbeats again: unfenced', { node: change.nodeId });
      await this.controller.setNodesFenced(changes);
    } finally {
      this.fencing = false;
    }
  }

  /** auto.leader.rebalance.enable: leadership goes back to each partition's first replica once it is in sync. */
  private async restorePreferredLeaders(): Promise<void> {
    if (this.stopping !== null || this.fencing || this.controllerId < 0) return;
    try {
      const moved = await this.controller.electPreferredLeaders();
      if (moved > 0) this.logger.info('preferred leaders restored', { partitions: moved });
    } catch (error) {
      this.logger.debug('preferred leader election failed; next check retries', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Whether node-to-node messages from `from` to `to` are dropped (fault injection). */
  isLinkBlocked(from: number, to: number): boolean {
    return this.networkPartitions.blocked(from, to);
  }

  /** Start-up waits until a controller is elected and this thread applied all it committed before. */
  private waitForMetadata(): Promise<void> {
    const caughtUp = () => {
      const leader = this.quorum.nodeView(this.quorum.leaderId);
      return leader !== undefined && this.quorum.appliedTerm === leader.term;
    };
    if (caughtUp()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`the metadata quorum elected no controller within ${Limits.metadataStartTimeoutMs} ms`));
      }, Limits.metadataStartTimeoutMs);
      const stop = this.quorum.watch(() => {
        if (!caughtUp()) return false;
        clearTimeout(timer);
        resolve();
        return true;
      });
    });
  }

  /**
   * Resolves once the node has applied and acted on (its roles, deletions) everything this
   * thread has applied; then it also deletes logs of topics that no longer exist.
   */
  private nodeCaughtUp(nodeId: number): Promise<void> {
    const target = this.quorum.appliedIndex;
    this.nodes[nodeId]!.sendQuorum({ type: 'strayCheck', index: target });
    const caughtUp = () => this.quorum.publishedIndex(nodeId) >= target;
    if (caughtUp()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`node ${nodeId} did not catch up with the metadata log (index ${target}) within ${Limits.metadataStartTimeoutMs} ms`));
      }, Limits.metadataStartTimeoutMs);
      const stop = this.quorum.watch(() => {
        if (!caughtUp()) return false;
        clearTimeout(timer);
        resolve();
        return true;
      });
    });
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
        replicationFactor: internalTopicReplicationFactor(this.settings['offsets.topic.replication.factor'], this.config.nodes),
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
    if (this.livenessTimer !== null) clearInterval(this.livenessTimer);
    if (this.rebalanceTimer !== null) clearInterval(this.rebalanceTimer);
    this.producerIds?.close();
    await this.adminServer?.close();
    const closed = Promise.all([...this.servers.values()].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const connection of this.connections) connection.shutdown();
    this.connections.clear();
    await closed;
    await Promise.all(this.nodes.map((node) => node.stop(Limits.shutdownTimeoutMs - 500)));
    this.dataDirLock?.release();
  }

  // Fault injection (see node-faults.ts and admin-server.ts).

  /**
   * The metadata quorum's view of every node. Until the Raft quorum runs: the fixed
   * controller, and no terms, roles or commit indexes.
   */
  quorumStatus(): QuorumStatus {
    const nodes = this.nodes.map((node) => {
      const view = this.offline.has(node.nodeId) ? undefined : this.quorum.nodeView(node.nodeId);
      return { nodeId: node.nodeId, term: view?.term ?? null, role: view?.role ?? null, commitIndex: view?.commitIndex ?? null, fenced: this.image.fencedNodes.has(node.nodeId) };
    });
    return { controllerId: this.controllerId, nodes };
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
    for (const socket of this.sockets.get(nodeId) ?? []) {
      // A socket already half closed (the client ended it) is just destroyed: resetting one
      // leaves a request behind in Node 20 that keeps the process from ever exiting.
      if (socket.readableEnded || socket.writableEnded) socket.destroy();
      else socket.resetAndDestroy();
    }
    await Promise.all([closed, node.kill()]);
    // The controller learns at once (as from a broken session) and fences it.
    this.quorum.forget(nodeId);
    this.liveness?.markGone(nodeId);
    void this.checkLiveness();
    this.logger.warn('fault injection: node killed', { node: nodeId });
  }

  /** Starts a fresh worker for a killed node on its data dir and reopens its listener on the same port. */
  async restartNode(nodeId: number): Promise<void> {
    this.faultTarget(nodeId);
    if (!this.offline.has(nodeId)) throw new NodeFaultError('conflict', `node ${nodeId} is running; only a killed node can be restarted`);
    if (this.restarting.has(nodeId)) throw new NodeFaultError('conflict', `node ${nodeId} is already restarting`);
    this.restarting.add(nodeId);
    const settings = { ...this.quorumSettingsByNode[nodeId]!, campaignAtStart: false, bootstrapSnapshot: null, rejoining: nodesThatLostMetadata(this.config.dataDir, this.config.nodes).includes(nodeId) };
    const worker = spawnNodeWorker(Limits.ringCapacityBytes);
    for (const { nodeId: peerId, link } of this.links!.renew(nodeId, worker.doorbell)) this.nodes[peerId]?.post({ type: 'replaceLink', link });
    const node = (this.nodes[nodeId] = this.startNode(nodeId, this.topicLogConfigs(), worker, settings));
    try {
      await node.ready();
      await this.nodeCaughtUp(nodeId);
      await this.listen(nodeId, this.listenerAddresses[nodeId]!.port);
      this.offline.delete(nodeId);
      // Back and heartbeating: unfenced before restart() returns, as a broker that registers again.
      this.liveness?.heartbeat(nodeId, Date.now());
      if (this.image.fencedNodes.has(nodeId)) await this.controller.setNodesFenced([{ nodeId, fenced: false }]);
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
    this.links?.matrix.setGroups(groups);
    this.logger.warn('fault injection: network partitioned', { groups: JSON.stringify(groups) });
  }

  healNetwork(): void {
    this.requireFaultInjection();
    this.networkPartitions.heal();
    this.links?.matrix.heal();
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
}

export { nodesThatLostMetadata } from './quorum-bootstrap.js';
