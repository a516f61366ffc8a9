/** The request handlers by API key. */
import { supportedVersionRanges, type ApiVersionRange } from '../../protocol/codec/index.js';
import { ApiKey } from '../../protocol/schema/index.js';
import type { RequestHandler } from '../services.js';
import { handleApiVersions } from './api-versions.js';
import { handleAlterConfigs, handleDescribeConfigs } from './configs.js';
import { handleDeleteRecords } from './delete-records.js';
import { handleFetch } from './fetch.js';
import { handleInitProducerId } from './init-producer-id.js';
import { handleListOffsets } from './list-offsets.js';
import {
  handleDeleteGroups,
  handleDescribeGroups,
  handleFindCoordinator,
  handleHeartbeat,
  handleJoinGroup,
  handleLeaveGroup,
  handleListGroups,
  handleOffsetCommit,
  handleOffsetDelete,
  handleOffsetFetch,
  handleSyncGroup,
} from './groups.js';
import { handleMetadata } from './metadata.js';
import { handleOffsetForLeaderEpoch } from './offset-for-leader-epoch.js';
import { handleProduce } from './produce.js';
import { handleCreatePartitions, handleCreateTopics, handleDeleteTopics } from './topics.js';

export function requestHandlers(): Map<number, RequestHandler> {
  return new Map<number, RequestHandler>([
    [ApiKey.ApiVersions, handleApiVersions as RequestHandler],
    [ApiKey.Metadata, handleMetadata as RequestHandler],
    [ApiKey.Produce, handleProduce as RequestHandler],
    [ApiKey.Fetch, handleFetch as RequestHandler],
    [ApiKey.ListOffsets, handleListOffsets as RequestHandler],
    [ApiKey.CreateTopics, handleCreateTopics as RequestHandler],
    [ApiKey.DeleteTopics, handleDeleteTopics as RequestHandler],
    [ApiKey.CreatePartitions, handleCreatePartitions as RequestHandler],
    [ApiKey.DeleteRecords, handleDeleteRecords as RequestHandler],
    [ApiKey.OffsetForLeaderEpoch, handleOffsetForLeaderEpoch as RequestHandler],
    [ApiKey.DescribeConfigs, handleDescribeConfigs as RequestHandler],
    [ApiKey.AlterConfigs, handleAlterConfigs as RequestHandler],
    [ApiKey.FindCoordinator, handleFindCoordinator as RequestHandler],
    [ApiKey.JoinGroup, handleJoinGroup as RequestHandler],
    [ApiKey.SyncGroup, handleSyncGroup as RequestHandler],
    [ApiKey.Heartbeat, handleHeartbeat as RequestHandler],
    [ApiKey.LeaveGroup, handleLeaveGroup as RequestHandler],
    [ApiKey.OffsetCommit, handleOffsetCommit as RequestHandler],
    [ApiKey.OffsetFetch, handleOffsetFetch as RequestHandler],
    [ApiKey.DescribeGroups, handleDescribeGroups as RequestHandler],
    [ApiKey.ListGroups, handleListGroups as RequestHandler],
    [ApiKey.DeleteGroups, handleDeleteGroups as RequestHandler],
    [ApiKey.OffsetDelete, handleOffsetDelete as RequestHandler],
    [ApiKey.InitProducerId, handleInitProducerId as RequestHandler],
  ]);
}

/**
 * The ranges to advertise: APIs the codec serves and a handler implements.
 *
 * Produce is advertised from v0 although we serve 3+: librdkafka enables gzip, snappy and lz4
 * only when the broker lists Produce v0 (librdkafka#4956, KAFKA-18659), so against "3-7" kcat
 * and confluent-kafka silently send uncompressed batches. Kafka 4.0 does the same; a v0-2
 * Produce request is still refused (the connection closes, see Connection).
 */
export function advertisedApiVersions(handlers: ReadonlyMap<number, RequestHandler>): ApiVersionRange[] {
  return supportedVersionRanges()
    .filter((range) => handlers.has(range.apiKey))
    .map((range) => (range.apiKey === ApiKey.Produce ? { ...range, minVersion: 0 } : range));
}
