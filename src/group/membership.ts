/**
 * Rebalancing for the coordinator (Kafka's GroupCoordinator): preparing and completing a
 * rebalance, SyncGroup and the assignment, Heartbeat, LeaveGroup, and the timers of each group
 * (sessions, pending members, the join and sync deadlines). JoinGroup lives in join-group.ts.
 */
import { ErrorCode } from '../protocol/errors.js';
import { emptyBuffer, type CoordinatorContext } from './coordinator-context.js';
import { GroupState, type ClassicGroup, type GroupMember, type JoinTimer } from './group-metadata.js';
import { storeGroup } from './group-metadata-manager.js';
import { joinResponse, leaveResponse } from './responses.js';
import type { HeartbeatRequest, LeaveGroupRequest, LeaveGroupResponse, SyncGroupReply, SyncGroupRequest } from './types.js';

export function maybePrepareRebalance(ctx: CoordinatorContext, group: ClassicGroup, reason: string): void {
  if (group.canRebalance()) prepareRebalance(ctx, group, reason);
}

export function prepareRebalance(ctx: CoordinatorContext, group: ClassicGroup, reason: string): void {
  // Members parked in SyncGroup learn that this generation will not complete.
  if (group.is(GroupState.CompletingRebalance)) resetAndPropagateAssignmentError(ctx, group, ErrorCode.REBALANCE_IN_PROGRESS);
  group.pendingSyncMembers.clear();
  group.syncTimer = null;
  const nowMs = ctx.nowMs();
  const delayMs = ctx.config.groupInitialRebalanceDelayMs;
  const timer: JoinTimer =
    group.is(GroupState.Empty) && delayMs > 0
      ? { deadlineMs: nowMs + delayMs, initialDelay: true, remainingMs: Math.max(group.rebalanceTimeoutMs() - delayMs, 0) }
      : { deadlineMs: nowMs + group.rebalanceTimeoutMs(), initialDelay: false, remainingMs: 0 };
  group.transitionTo(GroupState.PreparingRebalance, nowMs);
  ctx.setJoinTimer(group, timer);
  ctx.logger?.info('preparing to rebalance', {
    group: group.groupId,
    generation: group.generationId,
    reason,
  });
  maybeCompleteJoin(ctx, group);
}

/** Kafka's DelayedJoin.tryComplete: done once every known member has rejoined. */
export function maybeCompleteJoin(ctx: CoordinatorContext, group: ClassicGroup): void {
  const timer = group.joinTimer;
  if (group.is(GroupState.PreparingRebalance) && timer !== null && !timer.initialDelay && group.hasAllMembersJoined()) {
    completeJoin(ctx, group);
  }
}

function onJoinTimerExpired(ctx: CoordinatorContext, group: ClassicGroup, timer: JoinTimer): void {
  if (timer.initialDelay && group.newMemberAdded && timer.remainingMs > 0) {
    // Someone joined during the delay: wait once more, within the rebalance timeout.
    group.newMemberAdded = false;
    const delayMs = Math.min(ctx.config.groupInitialRebalanceDelayMs, timer.remainingMs);
    ctx.setJoinTimer(group, {
      deadlineMs: ctx.nowMs() + delayMs,
      initialDelay: true,
      remainingMs: timer.remainingMs - delayMs,
    });
    return;
  }
  completeJoin(ctx, group);
}

/** Kafka's onCompleteJoin: drop who did not rejoin, start the next generation, answer joins. */
function completeJoin(ctx: CoordinatorContext, group: ClassicGroup): void {
  group.joinTimer = null;
  for (const member of [...group.members.values()]) {
    // Static members keep their place: they may be restarting (KIP-345).
    if (member.awaitingJoin === null && !member.isStatic) {
      group.remove(member.memberId);
      ctx.logger?.info('removed member that did not rejoin in time', { group: group.groupId, member: member.memberId });
    }
  }
  if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
    // Only non-rejoined static members are left: wait another rebalance timeout.
    ctx.setJoinTimer(group, { deadlineMs: ctx.nowMs() + group.rebalanceTimeoutMs(), initialDelay: false, remainingMs: 0 });
    return;
  }
  group.initNextGeneration(ctx.nowMs());
  if (group.is(GroupState.Empty)) {
    ctx.logger?.info('group is empty', { group: group.groupId, generation: group.generationId });
    storeGroup(ctx, group, new Map(), (errorCode) => {
      // Harmless: the previous generation in the log has no live members either.
      if (errorCode !== ErrorCode.NONE) ctx.logger?.warn('failed to write empty group metadata', { group: group.groupId, errorCode });
    });
    return;
  }
  startGeneration(ctx, group);
}

function startGeneration(ctx: CoordinatorContext, group: ClassicGroup): void {
  ctx.logger?.info('stabilized group', { group: group.groupId, generation: group.generationId, members: group.size });
  const leaderView = group.currentMemberMetadata();
  for (const member of group.members.values()) {
    const reply = member.awaitingJoin;
    if (reply !== null) {
      member.awaitingJoin = null;
      ctx.replyJoin(reply, joinResponse(group, member.memberId, group.isLeader(member.memberId) ? leaderView : []));
    }
    ctx.resetHeartbeat(member);
    member.isNew = false;
    group.pendingSyncMembers.add(member.memberId);
  }
  const deadlineMs = ctx.nowMs() + group.rebalanceTimeoutMs();
  group.syncTimer = { deadlineMs, generationId: group.generationId };
  ctx.wakeAt(deadlineMs);
}

export function handleSyncGroup(ctx: CoordinatorContext, request: SyncGroupRequest, reply: SyncGroupReply): void {
  const status = ctx.groupStatus(request.groupId, false);
  // While loading, the rebalance state is lost: send the member back to JoinGroup.
  if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return ctx.replySync(reply, ErrorCode.REBALANCE_IN_PROGRESS);
  if (status !== ErrorCode.NONE) return ctx.replySync(reply, status);
  const group = ctx.groups.get(request.groupId);
  if (group === undefined) return ctx.replySync(reply, ErrorCode.UNKNOWN_MEMBER_ID);
  if (group.is(GroupState.Dead)) return ctx.replySync(reply, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  const error = ctx.validateCurrentMember(group, request.memberId, request.groupInstanceId);
  if (error !== ErrorCode.NONE) return ctx.replySync(reply, error);
  if (request.generationId !== group.generationId) return ctx.replySync(reply, ErrorCode.ILLEGAL_GENERATION);
  const member = group.get(request.memberId);
  switch (group.state) {
    case GroupState.Empty:
      return ctx.replySync(reply, ErrorCode.UNKNOWN_MEMBER_ID);
    case GroupState.PreparingRebalance:
      return ctx.replySync(reply, ErrorCode.REBALANCE_IN_PROGRESS);
    case GroupState.CompletingRebalance:
      return parkSync(ctx, group, member, request, reply);
    default:
      // Stable: hand out the current assignment (also to a restarted static member).
      removePendingSync(group, member.memberId);
      ctx.replySync(reply, ErrorCode.NONE, member.assignment);
      ctx.resetHeartbeat(member);
  }
}

function parkSync(ctx: CoordinatorContext, group: ClassicGroup, member: GroupMember, request: SyncGroupRequest, reply: SyncGroupReply): void {
  ctx.supersedeParkedSync(member);
  member.awaitingSync = reply;
  removePendingSync(group, member.memberId);
  if (!group.isLeader(member.memberId)) return;
  const assignment = new Map<string, Buffer>();
  for (const entry of request.assignments) {
    if (group.has(entry.memberId)) assignment.set(entry.memberId, Buffer.from(entry.assignment));
  }
  for (const memberId of group.members.keys()) {
    if (!assignment.has(memberId)) {
      assignment.set(memberId, emptyBuffer);
      ctx.logger?.warn('leader sent no assignment for a member', { group: group.groupId, member: memberId });
    }
  }
  const generationId = group.generationId;
  storeGroup(ctx, group, assignment, (errorCode) => {
    // A join or leave may have restarted the rebalance while the append was in flight.
    if (!group.is(GroupState.CompletingRebalance) || group.generationId !== generationId) return;
    if (errorCode !== ErrorCode.NONE) {
      resetAndPropagateAssignmentError(ctx, group, errorCode);
      maybePrepareRebalance(ctx, group, `failed to store the assignment (error ${errorCode})`);
      return;
    }
    for (const each of group.members.values()) each.assignment = assignment.get(each.memberId) ?? emptyBuffer;
    propagateAssignment(ctx, group, ErrorCode.NONE);
    group.transitionTo(GroupState.Stable, ctx.nowMs());
  });
}

function removePendingSync(group: ClassicGroup, memberId: string): void {
  group.pendingSyncMembers.delete(memberId);
  if (group.pendingSyncMembers.size === 0) group.syncTimer = null;
}

/** Kafka's DelayedSync expiry: members that never sent SyncGroup are removed. */
function onSyncTimerExpired(ctx: CoordinatorContext, group: ClassicGroup, generationId: number): void {
  group.syncTimer = null;
  if (generationId !== group.generationId || group.pendingSyncMembers.size === 0) return;
  if (!group.is(GroupState.CompletingRebalance) && !group.is(GroupState.Stable)) return;
  const missing = [...group.pendingSyncMembers];
  for (const memberId of missing) {
    const member = group.remove(memberId);
    if (member !== undefined) ctx.answerParked(member, ErrorCode.UNKNOWN_MEMBER_ID);
  }
  prepareRebalance(ctx, group, `members ${missing.join(',')} sent no SyncGroup in time`);
}

function resetAndPropagateAssignmentError(ctx: CoordinatorContext, group: ClassicGroup, errorCode: number): void {
  for (const member of group.members.values()) member.assignment = emptyBuffer;
  propagateAssignment(ctx, group, errorCode);
}

function propagateAssignment(ctx: CoordinatorContext, group: ClassicGroup, errorCode: number): void {
  for (const member of group.members.values()) {
    const reply = member.awaitingSync;
    if (reply === null) continue;
    member.awaitingSync = null;
    ctx.replySync(reply, errorCode, errorCode === ErrorCode.NONE ? member.assignment : emptyBuffer);
    // Its session did not run while it was parked; start it now.
    ctx.resetHeartbeat(member);
  }
}

export function handleHeartbeat(ctx: CoordinatorContext, request: HeartbeatRequest): number {
  const status = ctx.groupStatus(request.groupId, false);
  // Kafka answers blindly while loading: the member keeps its session.
  if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return ErrorCode.NONE;
  if (status !== ErrorCode.NONE) return status;
  const group = ctx.groups.get(request.groupId);
  if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  const error = ctx.validateCurrentMember(group, request.memberId, request.groupInstanceId);
  if (error !== ErrorCode.NONE) return error;
  if (request.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
  switch (group.state) {
    case GroupState.Empty:
      return ErrorCode.UNKNOWN_MEMBER_ID;
    case GroupState.PreparingRebalance:
      ctx.resetHeartbeat(group.get(request.memberId));
      return ErrorCode.REBALANCE_IN_PROGRESS;
    default:
      // Stable, and CompletingRebalance: clients may heartbeat between JoinGroup and SyncGroup.
      ctx.resetHeartbeat(group.get(request.memberId));
      return ErrorCode.NONE;
  }
}

export function handleLeaveGroup(ctx: CoordinatorContext, version: number, request: LeaveGroupRequest): LeaveGroupResponse {
  const leaving =
    version >= 3
      ? request.members.map((member) => ({ memberId: member.memberId, groupInstanceId: member.groupInstanceId }))
      : [{ memberId: request.memberId, groupInstanceId: null }];
  const status = ctx.groupStatus(request.groupId, false);
  if (status !== ErrorCode.NONE) return leaveResponse(version, status, []);
  const group = ctx.groups.get(request.groupId);
  if (group === undefined) {
    return leaveResponse(version, ErrorCode.NONE, leaving.map((each) => ({ ...each, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })));
  }
  if (group.is(GroupState.Dead)) return leaveResponse(version, ErrorCode.COORDINATOR_NOT_AVAILABLE, []);
  const results = leaving.map((each) => ({ ...each, errorCode: leaveOne(ctx, group, each.memberId, each.groupInstanceId) }));
  return leaveResponse(version, ErrorCode.NONE, results);
}

function leaveOne(ctx: CoordinatorContext, group: ClassicGroup, memberId: string, groupInstanceId: string | null): number {
  if (memberId === '') {
    // Administrative removal by group.instance.id alone.
    const currentMemberId = groupInstanceId === null ? undefined : group.staticMemberId(groupInstanceId);
    if (currentMemberId === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    removeMemberAndUpdateGroup(ctx, group, group.get(currentMemberId), 'removed by group.instance.id');
    return ErrorCode.NONE;
  }
  if (group.pendingMembers.has(memberId)) {
    removePendingMemberAndUpdateGroup(ctx, group, memberId);
    return ErrorCode.NONE;
  }
  const error = ctx.validateCurrentMember(group, memberId, groupInstanceId);
  if (error !== ErrorCode.NONE) return error;
  removeMemberAndUpdateGroup(ctx, group, group.get(memberId), 'left the group');
  return ErrorCode.NONE;
}

export function removeMemberAndUpdateGroup(ctx: CoordinatorContext, group: ClassicGroup, member: GroupMember, reason: string): void {
  // A parked JoinGroup of a member that is going away must still be answered.
  ctx.answerParked(member, ErrorCode.UNKNOWN_MEMBER_ID);
  group.remove(member.memberId);
  ctx.logger?.info('removed member', { group: group.groupId, member: member.memberId, reason });
  switch (group.state) {
    case GroupState.Stable:
    case GroupState.CompletingRebalance:
      return maybePrepareRebalance(ctx, group, `member ${member.memberId} ${reason}`);
    case GroupState.PreparingRebalance:
      return maybeCompleteJoin(ctx, group);
    default:
      return;
  }
}

function removePendingMemberAndUpdateGroup(ctx: CoordinatorContext, group: ClassicGroup, memberId: string): void {
  group.remove(memberId);
  if (group.is(GroupState.PreparingRebalance)) maybeCompleteJoin(ctx, group);
}

export function tickGroup(ctx: CoordinatorContext, group: ClassicGroup, nowMs: number): void {
  if (group.is(GroupState.Dead)) return;
  for (const [memberId, deadlineMs] of [...group.pendingMembers]) {
    if (nowMs < deadlineMs) {
      ctx.wakeAt(deadlineMs);
      continue;
    }
    ctx.logger?.info('pending member did not rejoin', { group: group.groupId, member: memberId });
    removePendingMemberAndUpdateGroup(ctx, group, memberId);
  }
  for (const member of [...group.members.values()]) {
    if (group.members.get(member.memberId) !== member || !member.canExpire()) continue;
    if (nowMs < member.heartbeatDeadlineMs) {
      ctx.wakeAt(member.heartbeatDeadlineMs);
      continue;
    }
    removeMemberAndUpdateGroup(ctx, group, member, 'session timed out');
  }
  const joinTimer = group.joinTimer;
  if (joinTimer !== null && group.is(GroupState.PreparingRebalance)) {
    if (nowMs >= joinTimer.deadlineMs) onJoinTimerExpired(ctx, group, joinTimer);
    else ctx.wakeAt(joinTimer.deadlineMs);
  }
  const syncTimer = group.syncTimer;
  if (syncTimer !== null) {
    if (nowMs >= syncTimer.deadlineMs) onSyncTimerExpired(ctx, group, syncTimer.generationId);
    else ctx.wakeAt(syncTimer.deadlineMs);
  }
}
