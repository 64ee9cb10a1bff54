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
  createdAt: Date;
  updatedAt: Date;
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
}

export type ApprovalDecision = 'approved' | 'denied' | 'expired';

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
}

export interface NewApproval {
  id: string;
  sessionId: string;
  step: string;
  paramsHash: string;
  requester: string;
  expiresAt: Date;
}

export interface Decision {
  by: string;
  decision: ApprovalDecision;
  at: Date;
  /** Hash of the parameters the decider saw; must equal the approval's. */
  paramsHash: string;
}

export type DecideResult =
  | { ok: true; approval: ApprovalRow }
  | { ok: false; reason: 'unknown' | 'already-decided' | 'expired' | 'mismatch'; approval?: ApprovalRow };

export interface StepRow {
  sessionId: string;
  stepKey: string;
  status: 'running' | 'done';
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

export interface Store {
  /** Creates the session unless the cluster already has an active one (one active setup per cluster). */
  createSession(session: NewSession): Promise<{ ok: true; row: SessionRow } | { ok: false; existing: SessionRow }>;
  getSession(id: string): Promise<SessionRow | null>;
  findActiveSession(clusterId: string): Promise<SessionRow | null>;
  findSessionByThread(platform: string, channelId: string, threadId: string): Promise<SessionRow | null>;
  setSessionThread(id: string, threadId: string): Promise<void>;
  /**
   * Saves a snapshot if the row is still at `expectedRevision`; returns the new revision.
   * Throws StaleRevisionError when another writer got there first.
   */
  saveSession(id: string, change: { snapshot: unknown; state: string }, expectedRevision: number): Promise<number>;
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
  /** Undecided approvals with expiresAt <= at. */
  listExpiredApprovals(at: Date): Promise<ApprovalRow[]>;

  getStep(sessionId: string, stepKey: string): Promise<StepRow | null>;
  /** Claims a step for `owner`: true if unclaimed, or its lease has run out, or already owned by `owner`; false if done or held. */
  claimStep(sessionId: string, stepKey: string, owner: string, leaseMs: number): Promise<boolean>;
  finishStep(sessionId: string, stepKey: string, outcome: unknown): Promise<void>;
  releaseStep(sessionId: string, stepKey: string, owner: string): Promise<void>;

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

  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export class StaleRevisionError extends Error {
  constructor(sessionId: string) {
    super(`session ${sessionId} was changed by another writer`);
    this.name = 'StaleRevisionError';
  }
}
