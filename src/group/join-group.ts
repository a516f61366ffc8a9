/**
 * JoinGroup for the coordinator (Kafka's GroupCoordinator.handleJoinGroup): new members, the
 * MEMBER_ID_REQUIRED round trip (KIP-394), rejoining members, and static members that restart
 * under a new member id (KIP-345). Rebalancing itself lives in membership.ts.
 */
import { ErrorCode } from '../protocol/errors.js';
import type { CoordinatorContext } from './coordinator-context.js';
import { ClassicGroup, GroupMember, GroupState, type MemberProtocol } from './group-metadata.js';
import { storeGroup } from './group-metadata-manager.js';
import { maybeCompleteJoin, maybePrepareRebalance, prepareRebalance } from './membership.js';
import { joinError, joinResponse } from './responses.js';
import type { JoinGroupReply, JoinGroupRequest } from './types.js';

interface JoinParams {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly MemberProtocol[];
  /** JoinGroup v4+: an unknown member first gets MEMBER_ID_REQUIRED (KIP-394). */
  readonly requireKnownMemberId: boolean;
  readonly reply: JoinGroupReply;
}

export function handleJoinGroup(
    ctx: CoordinatorContext,
  version: number,
  request: JoinGroupRequest,
  clientId: string,
  clientHost: string,
  reply: JoinGroupReply,
): void {
  const status = ctx.groupStatus(request.groupId, false);
  if (status !== ErrorCode.NONE) return ctx.replyJoin(reply, joinError(request.memberId, status));
  const { sessionTimeoutMs } = request;
  if (sessionTimeoutMs < ctx.config.groupMinSessionTimeoutMs || sessionTimeoutMs > ctx.config.groupMaxSessionTimeoutMs) {
    return ctx.replyJoin(reply, joinError(request.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
  }
  const join = joinParams(version, request, clientId, clientHost, reply);
  const isUnknownMember = join.memberId === '';
  let group = ctx.groups.get(join.groupId);
  if (group === undefined) {
    // Only a member without an id may create a group.
    if (!isUnknownMember) return ctx.replyJoin(reply, joinError(join.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    group = ctx.createGroup(join.groupId);
  }
  if (!acceptJoiningMember(ctx, group, join.memberId)) {
    group.remove(join.memberId);
    ctx.replyJoin(reply, joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
  } else if (isUnknownMember) {
    joinNewMember(ctx, group, join);
  } else {
    joinCurrentMember(ctx, group, join);
  }
  if (group.is(GroupState.PreparingRebalance)) maybeCompleteJoin(ctx, group);
}

/** Kafka's acceptJoiningMember: group.max.size, counted so that a shrunk limit sheds members. */
function acceptJoiningMember(ctx: CoordinatorContext, group: ClassicGroup, memberId: string): boolean {
  const maxSize = ctx.config.groupMaxSize;
  switch (group.state) {
    case GroupState.Empty:
    case GroupState.Dead:
      return true;
    case GroupState.PreparingRebalance:
      return (group.members.get(memberId)?.awaitingJoin ?? null) !== null || group.numAwaitingJoin() < maxSize;
    default:
      return group.has(memberId) || group.size < maxSize;
  }
}

function joinNewMember(ctx: CoordinatorContext, group: ClassicGroup, join: JoinParams): void {
  if (group.is(GroupState.Dead)) return ctx.replyJoin(join.reply, joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
  if (!group.supportsProtocols(join.protocolType, join.protocols.map((protocol) => protocol.name))) {
    return ctx.replyJoin(join.reply, joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
  }
  const newMemberId = generateMemberId(ctx, group, join);
  if (join.groupInstanceId !== null) {
    const oldMemberId = group.staticMemberId(join.groupInstanceId);
    if (oldMemberId !== undefined) {
      replaceStaticMember(ctx, group, join.groupInstanceId, oldMemberId, newMemberId, join);
    } else {
      addMemberAndRebalance(ctx, group, newMemberId, join);
    }
  } else if (join.requireKnownMemberId) {
    // The member must come back with this id; until then it holds up a rebalance in progress.
    const deadlineMs = ctx.nowMs() + join.sessionTimeoutMs;
    group.pendingMembers.set(newMemberId, deadlineMs);
    ctx.wakeAt(deadlineMs);
    ctx.replyJoin(join.reply, joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
  } else {
    addMemberAndRebalance(ctx, group, newMemberId, join);
  }
}

function joinCurrentMember(ctx: CoordinatorContext, group: ClassicGroup, join: JoinParams): void {
  const { memberId } = join;
  if (group.is(GroupState.Dead)) return ctx.replyJoin(join.reply, joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
  if (!group.supportsProtocols(join.protocolType, join.protocols.map((protocol) => protocol.name))) {
    return ctx.replyJoin(join.reply, joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
  }
  if (group.pendingMembers.has(memberId)) {
    // Ids from MEMBER_ID_REQUIRED are dynamic; Kafka throws on a static one, we refuse it.
    if (join.groupInstanceId !== null) return ctx.replyJoin(join.reply, joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    return addMemberAndRebalance(ctx, group, memberId, join);
  }
  const error = ctx.validateCurrentMember(group, memberId, join.groupInstanceId);
  if (error !== ErrorCode.NONE) return ctx.replyJoin(join.reply, joinError(memberId, error));
  const member = group.get(memberId);
  switch (group.state) {
    case GroupState.PreparingRebalance:
      return updateMemberAndRebalance(ctx, group, member, join);
    case GroupState.CompletingRebalance:
      // Same metadata: the member probably lost our JoinGroup response; send it again.
      if (!member.matches(join.protocols)) return updateMemberAndRebalance(ctx, group, member, join);
      return ctx.replyJoin(
        join.reply,
        joinResponse(group, memberId, group.isLeader(memberId) ? group.currentMemberMetadata() : []),
      );
    case GroupState.Stable:
      // The leader rejoining forces a rebalance (e.g. topic metadata changed); so does a
      // follower with new metadata (new subscription, or cooperative owned partitions).
      if (group.isLeader(memberId) || !member.matches(join.protocols)) {
        return updateMemberAndRebalance(ctx, group, member, join);
      }
      return ctx.replyJoin(join.reply, joinResponse(group, memberId, []));
    default:
      return ctx.replyJoin(join.reply, joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
  }
}

function generateMemberId(ctx: CoordinatorContext, group: ClassicGroup, join: JoinParams): string {
  const memberId = ctx.options.newMemberId(join.clientId, join.groupInstanceId);
  if (typeof memberId !== 'string' || memberId === '' || group.has(memberId) || group.pendingMembers.has(memberId)) {
    throw new Error(`newMemberId returned an empty or duplicate member id: ${String(memberId)}`);
  }
  return memberId;
}

function addMemberAndRebalance(ctx: CoordinatorContext, group: ClassicGroup, memberId: string, join: JoinParams): void {
  const member = new GroupMember({
    memberId,
    groupInstanceId: join.groupInstanceId,
    clientId: join.clientId,
    clientHost: join.clientHost,
    protocolType: join.protocolType,
    rebalanceTimeoutMs: join.rebalanceTimeoutMs,
    sessionTimeoutMs: join.sessionTimeoutMs,
    protocols: join.protocols,
  });
  member.isNew = true;
  // Lets the initial delay of a brand-new group stretch while members keep arriving.
  if (group.is(GroupState.PreparingRebalance) && group.generationId === 0) group.newMemberAdded = true;
  group.add(member, join.reply);
  // A new member cannot heartbeat until it has an id; its parked JoinGroup has its own limit.
  ctx.setHeartbeatDeadline(member, ctx.config.newMemberJoinTimeoutMs);
  maybePrepareRebalance(ctx, group, `member ${memberId} joined`);
}

function updateMemberAndRebalance(ctx: CoordinatorContext, group: ClassicGroup, member: GroupMember, join: JoinParams): void {
  ctx.supersedeParkedJoin(member);
  group.updateMember(member, join.protocols, join.rebalanceTimeoutMs, join.sessionTimeoutMs, join.reply);
  maybePrepareRebalance(ctx, group, `member ${member.memberId} rejoined`);
}

/**
 * A static member (known group.instance.id) restarted and joined without a member id: it takes
 * over the old member's place under a new id, and the old id is fenced. While Stable this
 * needs no rebalance (KIP-345): the member gets the current generation and, through SyncGroup,
 * its current assignment.
 */
function replaceStaticMember(
    ctx: CoordinatorContext,
  group: ClassicGroup,
  groupInstanceId: string,
  oldMemberId: string,
  newMemberId: string,
  join: JoinParams,
): void {
  const currentLeader = group.leaderId;
  const member = group.get(oldMemberId);
  ctx.answerParked(member, ErrorCode.FENCED_INSTANCE_ID);
  group.replaceStaticMember(groupInstanceId, oldMemberId, newMemberId);
  ctx.resetHeartbeat(member);
  const previous = {
    protocols: member.protocols,
    rebalanceTimeoutMs: member.rebalanceTimeoutMs,
    sessionTimeoutMs: member.sessionTimeoutMs,
  };
  group.updateMember(member, join.protocols, join.rebalanceTimeoutMs, join.sessionTimeoutMs, join.reply);
  switch (group.state) {
    case GroupState.Stable:
      if (group.selectProtocol() === group.protocolName) {
        persistReplacedStaticMember(ctx, group, member, oldMemberId, currentLeader, previous, join);
      } else {
        maybePrepareRebalance(ctx, group, `static member ${groupInstanceId} rejoined with other protocols`);
      }
      return;
    case GroupState.CompletingRebalance:
      // The leader may be assigning to the old id; start over so the new id gets an assignment.
      return prepareRebalance(ctx, group, `static member ${groupInstanceId} rejoined during CompletingRebalance`);
    case GroupState.PreparingRebalance:
      return; // counted as joined; the rebalance completes as usual
    default:
      throw new Error(`group ${group.groupId} has static members in state ${group.state}`);
  }
}

function persistReplacedStaticMember(
    ctx: CoordinatorContext,
  group: ClassicGroup,
  member: GroupMember,
  oldMemberId: string,
  currentLeader: string | null,
  previous: { protocols: readonly MemberProtocol[]; rebalanceTimeoutMs: number; sessionTimeoutMs: number },
  join: JoinParams,
): void {
  const newMemberId = member.memberId;
  const assignments = new Map<string, Buffer>();
  for (const [memberId, each] of group.members) assignments.set(memberId, each.assignment);
  storeGroup(ctx, group, assignments, (errorCode) => {
    if (member.awaitingJoin !== join.reply) return; // already answered (unload, fencing)
    member.awaitingJoin = null;
    ctx.wakeAt(member.heartbeatDeadlineMs);
    if (errorCode !== ErrorCode.NONE) {
      if (!group.is(GroupState.Dead) && group.members.get(newMemberId) === member && join.groupInstanceId !== null) {
        group.updateMember(member, previous.protocols, previous.rebalanceTimeoutMs, previous.sessionTimeoutMs, null);
        group.replaceStaticMember(join.groupInstanceId, newMemberId, oldMemberId);
        ctx.resetHeartbeat(member);
      }
      return ctx.replyJoin(join.reply, { ...joinResponse(group, '', [], currentLeader ?? ''), errorCode });
    }
    // The previous leader id, so that a restarted leader does not compute an assignment that
    // a Stable group would never hand out; it simply syncs like a follower.
    ctx.replyJoin(join.reply, joinResponse(group, newMemberId, [], currentLeader ?? ''));
  });
}
function joinParams(
  version: number,
  request: JoinGroupRequest,
  clientId: string,
  clientHost: string,
  reply: JoinGroupReply,
): JoinParams {
  return {
    groupId: request.groupId,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
    clientId,
    clientHost,
    // v0 has no rebalance timeout: the session timeout bounds the rebalance too.
    rebalanceTimeoutMs: version === 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
    sessionTimeoutMs: request.sessionTimeoutMs,
    protocolType: request.protocolType,
    // Copies: the decoded buffers may point into a reused frame buffer.
    protocols: request.protocols.map((protocol) => ({ name: protocol.name, metadata: Buffer.from(protocol.metadata) })),
    requireKnownMemberId: version >= 4,
    reply,
  };
}
