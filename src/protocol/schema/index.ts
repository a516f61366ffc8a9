/**
 * The registry of every API we serve: one schema per API, keyed by Kafka api key.
 * `validVersions` of each schema is exactly the range we advertise in ApiVersions.
 */
import type { ApiSchema } from './types.js';
import { produceSchema } from './produce.js';
import { fetchSchema } from './fetch.js';
import { listOffsetsSchema } from './list-offsets.js';
import { metadataSchema } from './metadata.js';
import { offsetCommitSchema } from './offset-commit.js';
import { offsetFetchSchema } from './offset-fetch.js';
import { findCoordinatorSchema } from './find-coordinator.js';
import { joinGroupSchema } from './join-group.js';
import { heartbeatSchema } from './heartbeat.js';
import { leaveGroupSchema } from './leave-group.js';
import { syncGroupSchema } from './sync-group.js';
import { describeGroupsSchema } from './describe-groups.js';
import { listGroupsSchema } from './list-groups.js';
import { saslHandshakeSchema } from './sasl-handshake.js';
import { apiVersionsSchema } from './api-versions.js';
import { createTopicsSchema } from './create-topics.js';
import { deleteTopicsSchema } from './delete-topics.js';
import { deleteRecordsSchema } from './delete-records.js';
import { initProducerIdSchema } from './init-producer-id.js';
import { offsetForLeaderEpochSchema } from './offset-for-leader-epoch.js';
import { addPartitionsToTxnSchema } from './add-partitions-to-txn.js';
import { addOffsetsToTxnSchema } from './add-offsets-to-txn.js';
import { endTxnSchema } from './end-txn.js';
import { txnOffsetCommitSchema } from './txn-offset-commit.js';
import { describeConfigsSchema } from './describe-configs.js';
import { alterConfigsSchema } from './alter-configs.js';
import { saslAuthenticateSchema } from './sasl-authenticate.js';
import { createPartitionsSchema } from './create-partitions.js';
import { deleteGroupsSchema } from './delete-groups.js';
import { offsetDeleteSchema } from './offset-delete.js';

export type * from './types.js';
export {
  produceSchema,
  fetchSchema,
  listOffsetsSchema,
  metadataSchema,
  offsetCommitSchema,
  offsetFetchSchema,
  findCoordinatorSchema,
  joinGroupSchema,
  heartbeatSchema,
  leaveGroupSchema,
  syncGroupSchema,
  describeGroupsSchema,
  listGroupsSchema,
  saslHandshakeSchema,
  apiVersionsSchema,
  createTopicsSchema,
  deleteTopicsSchema,
  deleteRecordsSchema,
  initProducerIdSchema,
  offsetForLeaderEpochSchema,
  addPartitionsToTxnSchema,
  addOffsetsToTxnSchema,
  endTxnSchema,
  txnOffsetCommitSchema,
  describeConfigsSchema,
  alterConfigsSchema,
  saslAuthenticateSchema,
  createPartitionsSchema,
  deleteGroupsSchema,
  offsetDeleteSchema,
};

export { ApiKey, type ApiKeyName, type ApiKeyValue } from '../api-keys.js';

/** Every served API, in api-key order, with its literal schema type kept. */
export const allApiSchemas = [
  produceSchema,
  fetchSchema,
  listOffsetsSchema,
  metadataSchema,
  offsetCommitSchema,
  offsetFetchSchema,
  findCoordinatorSchema,
  joinGroupSchema,
  heartbeatSchema,
  leaveGroupSchema,
  syncGroupSchema,
  describeGroupsSchema,
  listGroupsSchema,
  saslHandshakeSchema,
  apiVersionsSchema,
  createTopicsSchema,
  deleteTopicsSchema,
  deleteRecordsSchema,
  initProducerIdSchema,
  offsetForLeaderEpochSchema,
  addPartitionsToTxnSchema,
  addOffsetsToTxnSchema,
  endTxnSchema,
  txnOffsetCommitSchema,
  describeConfigsSchema,
  alterConfigsSchema,
  saslAuthenticateSchema,
  createPartitionsSchema,
  deleteGroupsSchema,
  offsetDeleteSchema,
] as const;

/** The literal schema type of one api key, e.g. `ApiSchemaFor<0>` is `typeof produceSchema`. */
export type ApiSchemaFor<K extends number> = Extract<(typeof allApiSchemas)[number], { apiKey: K }>;

export const apiSchemas: ReadonlyMap<number, ApiSchema> = new Map<number, ApiSchema>(
  allApiSchemas.map((schema): [number, ApiSchema] => [schema.apiKey, schema]),
);
