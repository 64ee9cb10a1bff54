// The store: what the bot remembers between messages, restarts and replicas. One interface, two
// implementations (SQLite embedded, PostgreSQL shared) held to the same contract tests.
import type { Conversation, PostedMessage } from '../conversation.ts';

export type SessionStatus = 'active' | 'complete' | 'denied' | 'cancelled' | 'unsupported' | 'failed' | 'abandoned' | 'expired';

export interface SessionRow {
  id: string;
  clusterId: string;
  /** 'preflight' until the cluster is read, then the flow's name. */
  flow: string;
  flowVersion: number;
  requester: string;
  conversation: Conversation;
  /** Message id of the thread's parent message, once posted. */
  threadId: string | null;
  /** Persisted flow snapshot (JSON), null before the flow starts. */
  snapshot: unknown;
  /** Human-readable state name of the flow, for status and metrics. */
  state: string;
  status: SessionStatus;
  /** Optimistic-concurrency counter, bumped by every saveSession. */
  revision: number;
  /** Set once by the first cancel; every replica's step runner checks it before each cloud write. */
  cancelRequested: { by: string; at: Date } | null;
  /** The session waits for people: its prompt is posted and nothing runs. */
  waiting: boolean;
  /** Which prompt it waits on ("approval:<id>" / "question:<id>"), when waiting. */
  promptKey: string | null;
  /** A session that repairs drift: what it may plan (src/watch/drift.ts, repairOf); null for a setup. */
  repair: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export interface SessionChange {
  snapshot: unknown;
  state: string;
  /** Defaults to false: a save while the flow runs. */
  waiting?: boolean;
  promptKey?: string | null;
  /** The process that drives the session: it holds it for `driverLeaseMs` after this save. */
  driver?: string;
  driverLeaseMs?: number;
}

export interface NewSession {
  id: string;
  clusterId: string;
  flow: string;
  flowVersion: number;
  requester: string;
  conversation: Conversation;
  snapshot: unknown;
  state: string;
  repair?: unknown;
}

/** `closed`: the session ended (cancelled, failed, superseded) before anybody decided. */
export type ApprovalDecision = 'approved' | 'denied' | 'expired' | 'closed';

export interface ApprovalRow {
  id: string;
  sessionId: string;
  step: string;
  paramsHash: string;
  requester: string;
  expiresAt: Date;
  decision: ApprovalDecision | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  /** Where the approval message was posted, so it can be updated after the decision. */
  messageRef: PostedMessage | null;
  /** The approval exactly as it was shown (the neutral reply), so its decided version repeats it. */
  shown: unknown;
  /** The inbox event whose click decided it, so a redelivered click is recognised. */
  decidedEvent: string | null;
  /** Why it was denied, when the approver said. */
  reason: string | null;
}

export interface NewApproval {
  id: string;
  sessionId: string;
  step: string;
  paramsHash: string;
  requester: string;
  expiresAt: Date;
  shown: unknown;
}

export interface Decision {
  by: string;
  decision: ApprovalDecision;
  at: Date;
  /** Hash of the parameters the decider saw; must equal the approval's. */
  paramsHash: string;
  eventId?: string;
  reason?: string;
}

export type DecideResult =
  | { ok: true; approval: ApprovalRow }
  | { ok: false; reason: 'unknown' | 'already-decided' | 'expired' | 'mismatch'; approval?: ApprovalRow };

export interface StepRow {
  sessionId: string;
  stepKey: string;
  /** `stopped`: a cancel stopped it before it finished; `outcome` says which writes it had made. */
  status: 'running' | 'done' | 'stopped';
  owner: string | null;
  leaseUntil: Date | null;
  outcome: unknown;
}

export interface AuditEntry {
  at: Date;
  actor: string;
  action: string;
  clusterId: string;
  sessionId?: string | undefined;
  step?: string | undefined;
  /** sha256 of the step's parameters, never the parameters themselves when they could be sensitive. */
  paramsHash?: string | undefined;
  outcome: string;
  detail?: string | undefined;
}

export interface AuditRow extends AuditEntry {
  id: number;
}

/** An AccessKey the bot created, for the cluster whose Secret it was meant for. Never its secret. */
export interface CreatedAccessKeyRow {
  userName: string;
  accessKeyId: string;
  clusterId: string;
  createdAt: Date;
}

/** A CreateAccessKey the bot started for a cluster: the keys the user had just before. */
export interface AccessKeyCreationRow {
  userName: string;
  clusterId: string;
  existingKeyIds: string[];
  startedAt: Date;
}

/** What a step runner learns right before a cloud write. */
export interface StepGuard {
  /** The claim is still this owner's (its lease was renewed). */
  held: boolean;
  /** The session was cancelled. */
  cancelled: { by: string } | null;
}

export interface InboxEvent {
  eventId: string;
  kind: string;
  /** The neutral chat event, as JSON. */
  event: unknown;
}

export interface InboxRow extends InboxEvent {
  receivedAt: Date;
  status: 'pending' | 'done';
  attempts: number;
}

/** A watched cluster (src/watch/): where its drift is reported, when it is checked next, what was seen last. */
export interface WatchRow {
  clusterId: string;
  conversation: Conversation;
  enabled: boolean;
  /** Who last turned the watch on or off (or the requester of the setup that started it). */
  changedBy: string | null;
  nextCheckAt: Date;
  lastCheckAt: Date | null;
  lastResult: WatchResult | null;
  lastDetail: string | null;
  /** The drift reported and not yet resolved (its shape is src/watch/drift.ts's), or null. */
  drift: unknown;
  /** What the cluster looked like when it last passed (src/watch/drift.ts), so a deleted vault can be made again. */
  baseline: unknown;
}

export type WatchResult = 'ok' | 'drift' | 'error';

export interface WatchCheck {
  at: Date;
  result: WatchResult;
  detail: string;
  drift: unknown;
  /** Kept as it was when undefined. */
  baseline?: unknown;
}

export interface Store {
  /** Creates the session unless the cluster already has an active one (one active setup per cluster). */
  createSession(session: NewSession): Promise<{ ok: true; row: SessionRow } | { ok: false; existing: SessionRow }>;
  getSession(id: string): Promise<SessionRow | null>;
  findActiveSession(clusterId: string): Promise<SessionRow | null>;
  findSessionByThread(platform: string, channelId: string, threadId: string): Promise<SessionRow | null>;
  setSessionThread(id: string, threadId: string): Promise<void>;
  /** The flow chosen by the preflight. */
  setSessionFlow(id: string, flow: string, flowVersion: number): Promise<void>;
  /**
   * Saves a snapshot if the row is still at `expectedRevision`; returns the new revision.
   * Throws StaleRevisionError when another writer got there first.
   */
  saveSession(id: string, change: SessionChange, expectedRevision: number): Promise<number>;
  /** Records a cancel of an active session (the first one wins); null when the session is not active. */
  requestCancel(id: string, by: string, at: Date): Promise<SessionRow | null>;
  /** Active sessions of a channel, oldest first. */
  activeSessionsIn(platform: string, channelId: string): Promise<SessionRow[]>;
  /**
   * Active sessions that do not wait for people and that nobody drives: no driver, `owner` itself (a
   * restart), or a driver whose lease ran out; and no step held by another owner's live lease.
   */
  stalledSessions(owner: string): Promise<SessionRow[]>;
  /**
   * Active sessions still waiting on an approval decided before `before` (or driven last by `owner`,
   * given at start-up): the decision never reached the flow. A fresh decision is its decider's to apply.
   */
  sessionsWithUnappliedDecisions(before: Date, owner?: string): Promise<SessionRow[]>;
  /** Marks an active session ended; returns false if it was not active. */
  endSession(id: string, status: Exclude<SessionStatus, 'active'>): Promise<boolean>;
  listActiveSessions(): Promise<SessionRow[]>;
  /** Active sessions whose updatedAt is before `before`. */
  staleSessions(before: Date): Promise<SessionRow[]>;
  countActiveSessionsByState(): Promise<Record<string, number>>;

  createApproval(approval: NewApproval): Promise<void>;
  getApproval(id: string): Promise<ApprovalRow | null>;
  setApprovalMessage(id: string, message: PostedMessage): Promise<void>;
  /**
   * Consumes an approval atomically: exactly one decision ever succeeds. Refused when already decided,
   * expired (decision other than 'expired' at or after expiresAt), or the params hash differs.
   */
  decideApproval(id: string, decision: Decision): Promise<DecideResult>;
  /**
   * A reason given after the denial (DingTalk cards take no text): set on `by`'s latest denial decided at
   * or after `since` that has none yet; returns it, or null when there is none.
   */
  addDenialReason(by: string, since: Date, reason: string): Promise<ApprovalRow | null>;
  /** Undecided approvals with expiresAt <= at. */
  listExpiredApprovals(at: Date): Promise<ApprovalRow[]>;
  /**
   * Claims the reminders due: undecided approvals of active sessions that expire after `at` and at or
   * before `before`, not reminded yet. Each approval is returned once, to one caller, ever.
   */
  claimReminders(before: Date, at: Date): Promise<ApprovalRow[]>;
  /** Closes the session's undecided approvals (its end); returns those it closed. */
  closeOpenApprovals(sessionId: string, at: Date): Promise<ApprovalRow[]>;

  getStep(sessionId: string, stepKey: string): Promise<StepRow | null>;
  /** Claims a step for `owner`: true if unclaimed, or its lease has run out, or already owned by `owner`; false if done or held. */
  claimStep(sessionId: string, stepKey: string, owner: string, leaseMs: number): Promise<boolean>;
  finishStep(sessionId: string, stepKey: string, outcome: unknown): Promise<void>;
  releaseStep(sessionId: string, stepKey: string, owner: string): Promise<void>;
  /** Right before a cloud write: renews `owner`'s lease and reports whether it still holds the claim and whether the session was cancelled. */
  guardStep(sessionId: string, stepKey: string, owner: string, leaseMs: number): Promise<StepGuard>;
  /** A cancel stopped the step; `outcome` records what it had done. */
  stopStep(sessionId: string, stepKey: string, outcome: unknown): Promise<void>;
  listSteps(sessionId: string): Promise<StepRow[]>;

  /**
   * Stores an inbound event once, held by `owner` for `leaseMs` (it handles it next): false when its
   * id was already stored (a redelivery).
   */
  acceptEvent(event: InboxEvent, at: Date, owner: string, leaseMs: number): Promise<boolean>;
  /** Claims an unfinished event for `owner` (unclaimed, its lease run out, or already `owner`'s); null otherwise. */
  claimEvent(eventId: string, owner: string, leaseMs: number): Promise<InboxRow | null>;
  finishEvent(eventId: string, at: Date): Promise<void>;
  /**
   * Unfinished events that nobody else holds, oldest first: held by `owner` (this instance, maybe
   * before a restart), unclaimed since before `before`, or their lease ran out.
   */
  unfinishedEvents(before: Date, limit: number, owner: string): Promise<InboxRow[]>;
  /** Forgets finished events received before `before`; redeliveries come within minutes. */
  pruneEvents(before: Date): Promise<number>;

  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  listAudit(clusterId: string, limit: number): Promise<AuditRow[]>;
  /** Every audit row, oldest first, for export as JSON lines. */
  exportAudit(): AsyncIterable<AuditRow>;

  /** Records an AccessKey the bot created (idempotent), before its secret is written anywhere. */
  recordCreatedAccessKey(key: Omit<CreatedAccessKeyRow, 'createdAt'>): Promise<void>;
  /** The AccessKeys the bot created for `userName`, oldest first. */
  listCreatedAccessKeys(userName: string): Promise<CreatedAccessKeyRow[]>;
  /** After the key was deleted from RAM. */
  forgetCreatedAccessKey(userName: string, accessKeyId: string): Promise<void>;
  /** Before CreateAccessKey: the user's keys now (replaces an earlier unfinished one for the same user and cluster). */
  beginAccessKeyCreation(userName: string, clusterId: string, existingKeyIds: string[]): Promise<void>;
  listAccessKeyCreations(userName: string): Promise<AccessKeyCreationRow[]>;
  endAccessKeyCreation(userName: string, clusterId: string): Promise<void>;

  /** Watches a cluster from `conversation` (a new row, or one turned on again there); keeps its drift and baseline. */
  watchCluster(watch: { clusterId: string; conversation: Conversation; nextCheckAt: Date; by: string }): Promise<WatchRow>;
  /** Watches a cluster that has no watch row yet (a CHANNEL_CLUSTERS binding); false when it has one, on or off. */
  addWatch(watch: { clusterId: string; conversation: Conversation; nextCheckAt: Date; by: string }): Promise<boolean>;
  /** Turns an existing watch on or off; null when the cluster is not watched. */
  setWatchEnabled(clusterId: string, enabled: boolean, by: string, nextCheckAt: Date): Promise<WatchRow | null>;
  getWatch(clusterId: string): Promise<WatchRow | null>;
  /** The watches of a channel, or all, by cluster id. */
  listWatches(channel?: { platform: string; channelId: string }): Promise<WatchRow[]>;
  /** Turned-on watches whose check is due at `at` and that no live lease holds, earliest first. */
  dueWatches(at: Date, limit: number): Promise<WatchRow[]>;
  /**
   * Claims the check due at `seen` for `owner` and moves the next one to `nextCheckAt`, in one statement: of
   * several replicas that read the same due row, one wins. Null when another got there first.
   */
  claimWatchCheck(clusterId: string, seen: Date, nextCheckAt: Date, owner: string, leaseUntil: Date): Promise<WatchRow | null>;
  /** Records a check's result and ends `owner`'s lease; false when the lease was not `owner`'s. */
  finishWatchCheck(clusterId: string, owner: string, check: WatchCheck): Promise<boolean>;

  ping(): Promise<boolean>;
  /** A real write (readiness proves the store can write, not only answer). */
  probeWrite(at: Date): Promise<void>;
  close(): Promise<void>;
}

export class StaleRevisionError extends Error {
  constructor(sessionId: string) {
    super(`session ${sessionId} was changed by another writer`);
    this.name = 'StaleRevisionError';
  }
}

/**
 * The database could not be reached or written (connection cut, server restarting, disk full). What
 * was being done is not lost: it is retried when the database is back.
 */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the bot's database is unavailable (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.name = 'StoreUnavailableError';
  }
}
