/**
 * Request and response bodies the group coordinator consumes and produces: the decoded objects
 * of our codec (`src/protocol/schema/`), so the front end decodes, calls, and encodes with no
 * translation. A response carries every field of the schema; the encoder drops the ones the
 * version lacks.
 */
import type { RequestBody, ResponseBody } from '../protocol/codec/index.js';
import type { ApiKey } from '../protocol/schema/index.js';

export type JoinGroupRequest = RequestBody<typeof ApiKey.JoinGroup>;
export type JoinGroupResponse = ResponseBody<typeof ApiKey.JoinGroup>;
export type JoinGroupResponseMember = JoinGroupResponse['members'][number];
export type SyncGroupRequest = RequestBody<typeof ApiKey.SyncGroup>;
export type SyncGroupResponse = ResponseBody<typeof ApiKey.SyncGroup>;
export type HeartbeatRequest = RequestBody<typeof ApiKey.Heartbeat>;
export type HeartbeatResponse = ResponseBody<typeof ApiKey.Heartbeat>;
export type LeaveGroupRequest = RequestBody<typeof ApiKey.LeaveGroup>;
export type LeaveGroupResponse = ResponseBody<typeof ApiKey.LeaveGroup>;
export type OffsetCommitRequest = RequestBody<typeof ApiKey.OffsetCommit>;
export type OffsetCommitResponse = ResponseBody<typeof ApiKey.OffsetCommit>;
export type OffsetFetchRequest = RequestBody<typeof ApiKey.OffsetFetch>;
export type OffsetFetchResponse = ResponseBody<typeof ApiKey.OffsetFetch>;
export type DescribeGroupsResponse = ResponseBody<typeof ApiKey.DescribeGroups>;
/** One entry of DescribeGroupsResponse.groups. */
export type DescribedGroup = DescribeGroupsResponse['groups'][number];
export type ListGroupsResponse = ResponseBody<typeof ApiKey.ListGroups>;
/** One entry of ListGroupsResponse.groups. */
export type ListedGroup = ListGroupsResponse['groups'][number];
export type DeleteGroupsResponse = ResponseBody<typeof ApiKey.DeleteGroups>;
/** One entry of DeleteGroupsResponse.results. */
export type DeletedGroupResult = DeleteGroupsResponse['results'][number];
export type OffsetDeleteRequest = RequestBody<typeof ApiKey.OffsetDelete>;
export type OffsetDeleteResponse = ResponseBody<typeof ApiKey.OffsetDelete>;

export type JoinGroupReply = (response: JoinGroupResponse) => void;
export type SyncGroupReply = (response: SyncGroupResponse) => void;
