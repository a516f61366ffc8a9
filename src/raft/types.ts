/**
 * The data of the Raft core: log entries, the state that must survive a crash, snapshots, the
 * messages voters exchange, and the Ready that hands a step's effects to the caller.
 *
 * Indexes start at 1; index 0 with term 0 is the empty log's sentinel. Node ids are Kafka node
 * ids (non-negative integers); NO_NODE means "none".
 */

export const NO_NODE = -1;

export interface RaftEntry {
  readonly term: number;
  readonly index: number;
  /** The state machine's payload; empty for the no-op a new leader appends. */
  readonly data: Uint8Array;
}

/** What must be durable before a vote is answered or an append acknowledged. */
export interface HardState {
  readonly term: number;
  /** The candidate voted for in `term`, or NO_NODE. */
  readonly votedFor: number;
  /** Persisted so a restarted voter applies what it knew was committed without waiting. */
  readonly commitIndex: number;
}

/** The state machine as of `index` (inclusive); the log before it is gone. */
export interface RaftSnapshot {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

export const MessageType = {
  preVote: 'preVote',
  preVoteResponse: 'preVoteResponse',
  vote: 'vote',
  voteResponse: 'voteResponse',
  append: 'append',
  appendResponse: 'appendResponse',
  installSnapshot: 'installSnapshot',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

interface MessageBase {
  readonly from: number;
  readonly to: number;
  /** The sender's term; for a pre-vote request, the term it would campaign in. */
  readonly term: number;
}

/** A pre-vote (Raft thesis 9.6) or a real vote request. */
export interface VoteRequest extends MessageBase {
  readonly type: typeof MessageType.preVote | typeof MessageType.vote;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}

export interface VoteResponse extends MessageBase {
  readonly type: typeof MessageType.preVoteResponse | typeof MessageType.voteResponse;
  readonly granted: boolean;
}

/** Entries after (prevLogIndex, prevLogTerm); with no entries it is the leader's heartbeat. */
export interface AppendRequest extends MessageBase {
  readonly type: typeof MessageType.append;
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly RaftEntry[];
  readonly leaderCommit: number;
  /** The follower, rejoining after losing its log, now holds what it must to vote again. */
  readonly rejoinComplete: boolean;
}

export interface AppendResponse extends MessageBase {
  readonly type: typeof MessageType.appendResponse;
  readonly success: boolean;
  /** The prevLogIndex of the request answered (lets the leader drop stale rejections). */
  readonly requestPrevLogIndex: number;
  /** On success: the last index now known to match the leader's log. */
  readonly matchIndex: number;
  /**
   * On rejection, where the leader should look next (fast backtracking): the follower's first
   * index of `conflictTerm`, or its log end + 1 when its log is too short (conflictTerm 0).
   */
  readonly conflictIndex: number;
  readonly conflictTerm: number;
  /** The follower lost its log and does not vote yet (RaftConfig.rejoining). */
  readonly rejoining: boolean;
  /** The follower's storage identity (RaftConfig.storageId). */
  readonly storageId: number;
}

export interface InstallSnapshotRequest extends MessageBase {
  readonly type: typeof MessageType.installSnapshot;
  readonly snapshot: RaftSnapshot;
}

export type RaftMessage = VoteRequest | VoteResponse | AppendRequest | AppendResponse | InstallSnapshotRequest;

export const RaftRole = {
  follower: 'follower',
  /**
   * A member outside `voters` (etcd raft's learner, KRaft's observer): it follows the leader's
   * log and applies it but never votes, campaigns or counts toward a majority. Its role never
   * changes.
   */
  observer: 'observer',
  preCandidate: 'preCandidate',
  candidate: 'candidate',
  leader: 'leader',
} as const;
export type RaftRole = (typeof RaftRole)[keyof typeof RaftRole];

/**
 * The effects of everything stepped since the last Ready, in the order the caller must run them:
 * 1. persist `snapshot` (if any), then `entries` (which replace any stored entries from
 *    `entries[0].index` on), then `hardState` (if any), all covered by one fsync;
 * 2. send `messages` (votes and acknowledgements in them rely on step 1 being durable);
 * 3. restore the state machine from `snapshot` (if any) and apply `committedEntries` in order;
 * 4. call `advance(ready)`.
 */
export interface Ready {
  readonly hardState: HardState | null;
  readonly snapshot: RaftSnapshot | null;
  readonly entries: readonly RaftEntry[];
  /**
   * Whether the writes need an fsync before the messages go: false when only the commit index
   * changed (a lost commit index is learned again from the leader).
   */
  readonly mustSync: boolean;
  readonly messages: readonly RaftMessage[];
  readonly committedEntries: readonly RaftEntry[];
}

/** What a voter finds in its storage at start. */
export interface RaftInitialState {
  readonly hardState: HardState;
  readonly snapshot: RaftSnapshot | null;
  /** The stored entries after the snapshot, in index order. */
  readonly entries: readonly RaftEntry[];
}

export const emptyRaftState: RaftInitialState = {
  hardState: { term: 0, votedFor: NO_NODE, commitIndex: 0 },
  snapshot: null,
  entries: [],
};
