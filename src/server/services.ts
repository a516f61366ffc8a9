/**
 * What request handlers may use: the metadata image, the controller, the node workers, the
 * broker settings and the listener addresses. Handlers stay free of sockets and startup.
 */
import type { BrokerSettings } from '../config/broker-config.js';
import type { Controller } from '../controller/controller.js';
import type { MetadataImage } from '../metadata/image.js';
import type { ApiVersionRange, RequestHeader } from '../protocol/codec/index.js';
import type { Logger } from '../runtime/logger.js';
import type { ProducerIdManager } from '../txn/producer-id-manager.js';
import type { NodeHandle } from '../workers/node-handle.js';

export interface ListenerAddress {
  nodeId: number;
  host: string;
  port: number;
}

export interface BrokerServices {
  readonly image: MetadataImage;
  readonly controller: Controller;
  readonly nodes: readonly NodeHandle[];
  readonly settings: BrokerSettings;
  readonly listeners: readonly ListenerAddress[];
  readonly controllerId: number;
  /** The metadata quorum's voters (controller.quorum.voters), ascending: the only controllers. */
  readonly quorumVoters: readonly number[];
  /** The API version ranges we advertise: only APIs with a handler. */
  readonly apiVersions: readonly ApiVersionRange[];
  readonly logger: Logger;
  /** Creates topics with the broker defaults (auto.create.topics.enable). */
  autoCreateTopics(names: readonly string[]): Promise<void>;
  /** Creates `__consumer_offsets` if it does not exist yet. */
  ensureOffsetsTopic(): Promise<void>;
  /** The producer ids a node's listener hands out (InitProducerId). */
  producerIdManager(nodeId: number): ProducerIdManager;
}

export interface RequestContext {
  readonly services: BrokerServices;
  /** The node whose listener received the request. */
  readonly nodeId: number;
  readonly header: RequestHeader;
  /** The client's address, as group members report it. */
  readonly clientHost: string;
}

/** A handler returns the response body, or null when the request gets no response (acks=0). */
export type RequestHandler = (context: RequestContext, body: never) => Promise<unknown> | unknown;
