/**
 * minikafka's public API: start a broker inside your process (for test suites and tools).
 *
 *   import { startBroker } from 'minikafka';
 *   const broker = await startBroker({ nodes: 1 });
 *   // ... point any Kafka client at broker.bootstrapServers ...
 *   await broker.stop();
 */
export { startBroker, type BrokerHandle, type NodeAddress, type NodeControls, type StartBrokerOptions } from './embedded.js';
export { NodeFaultError, type NodeState, type NodeStatus } from './server/node-faults.js';
export { ConfigError, type BrokerConfig } from './config/broker-config.js';
