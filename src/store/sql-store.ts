// The Store over either database. Every operation that must be atomic across replicas is a single
// statement whose WHERE clause states the rule (one active session per cluster, one decision per
// approval, one owner per step), so the database, not the process, decides who wins.
import type { PostedMessage } from '../conversation.ts';
import { scrub } from '../observability/secrets.ts';
import {
  StaleRevisionError,
  type ApprovalRow,
  type AuditEntry,
  type AccessKeyCreationRow,
  type AuditRow,
  type CreatedAccessKeyRow,
  type DecideResult,
  type Decision,
  type InboxEvent,
  type InboxRow,
  type SessionChange,
  type StepGuard,
  type NewApproval,
  type NewSession,
  type SessionRow,
  type SessionStatus,
  type StepRow,
  type Store,
  type WatchCheck,
  type WatchRow,
} from './contract.ts';
import type { Conversation } from '../conversation.ts';
import type { Sql, SqlRow } from './sql.ts';

const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));
const parse = (text: unknown): unknown => (typeof text === 'string' ? JSON.parse(text) : null);
const ms = (value: unknown): number => Number(value);
const date = (value: unknown): Date => new Date(ms(value));
const optionalDate = (value: unknown): Date | null => (value === null || value === undefined ? null : date(value));
const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

function sessionOf(row: SqlRow): SessionRow {
  return {
    id: String(row.id),
    clusterId: String(row.cluster_id),
    flow: String(row.flow),
    flowVersion: Number(row.flow_version),
    requester: String(row.requester),
    conversation: parse(row.conversation) as SessionRow['conversation'],
    threadId: text(row.thread_id),
    snapshot: parse(row.snapshot),
    state: String(row.state),
    status: String(row.status) as SessionStatus,
    revision: Number(row.revision),
    cancelRequested:
      row.cancel_requested_by === null || row.cancel_requested_by === undefined
        ? null
        : { by: String(row.cancel_requested_by), at: date(row.cancel_requested_at) },
    waiting: Number(row.waiting) === 1,
    promptKey: text(row.prompt_key),
    repair: parse(row.repair),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

function watchOf(row: SqlRow): WatchRow {
  return {
    clusterId: String(row.cluster_id),
    conversation: parse(row.conversation) as WatchRow['conversation'],
    enabled: Number(row.enabled) === 1,
    changedBy: text(row.changed_by),
    nextCheckAt: date(row.next_check_at),
    lastCheckAt: optionalDate(row.last_check_at),
    lastResult: text(row.last_result) as WatchRow['lastResult'],
    lastDetail: text(row.last_detail),
    drift: parse(row.drift),
    baseline: parse(row.baseline),
  };
}

function approvalOf(row: SqlRow): ApprovalRow {
  return {
    id: String(row.id),
    sessionId: String(row.session_id),
    step: String(row.step),
    paramsHash: String(row.params_hash),
    requester: String(row.requester),
    expiresAt: date(row.expires_at),
    decision: text(row.decision) as ApprovalRow['decision'],
    decidedBy: text(row.decided_by),
    decidedAt: optionalDate(row.decided_at),
    messageRef: parse(row.message_ref) as PostedMessage | null,
    shown: parse(row.shown),
    decidedEvent: text(row.decided_event),
    reason: text(row.reason),
  };
}

function inboxOf(row: SqlRow): InboxRow {
  return {
    eventId: String(row.event_id),
    kind: String(row.kind),
    event: parse(row.event),
    receivedAt: date(row.received_at),
    status: String(row.status) as InboxRow['status'],
    attempts: Number(row.attempts),
  };
}

function stepOf(row: SqlRow): StepRow {
  return {
    sessionId: String(row.session_id),
    stepKey: String(row.step_key),
    status: String(row.status) as StepRow['status'],
    owner: text(row.owner),
    leaseUntil: optionalDate(row.lease_until),
    outcome: parse(row.outcome),
  };
}

function auditOf(row: SqlRow): AuditRow {
  const optional = (value: unknown) => text(value) ?? undefined;
  return {
    id: Number(row.id),
    at: date(row.at),
    actor: String(row.actor),
    action: String(row.action),
    clusterId: String(row.cluster_id),
    sessionId: optional(row.session_id),
    step: optional(row.step),
    paramsHash: optional(row.params_hash),
    outcome: String(row.outcome),
    detail: optional(row.detail),
  };
}

const EXPORT_PAGE = 500;

export class SqlStore implements Store {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  private async one(query: string, params: (string | number | null)[]): Promise<SqlRow | null> {
    return (await this.sql.query(query, params))[0] ?? null;
  }

  async createSession(session: NewSession) {
    const now = Date.now();
    // Two tries: the active session that blocked the insert may end before we read it.
    for (let attempt = 0; attempt < 2; attempt++) {
      const inserted = await this.one(
        `INSERT INTO sessions (id, cluster_id, flow, flow_version, requester, platform, channel_id, conversation, thread_id,
           snapshot, state, status, revision, created_at, updated_at, repair)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', 0, $12, $12, $13)
         ON CONFLICT DO NOTHING RETURNING *`,
        [
          session.id, session.clusterId, session.flow, session.flowVersion, session.requester,
          session.conversation.platform, session.conversation.channelId, JSON.stringify(session.conversation),
          session.conversation.threadId ?? null, json(session.snapshot), session.state, now, json(session.repair),
        ],
      );
      if (inserted) return { ok: true as const, row: sessionOf(inserted) };
      // The id is taken by this very session (an event handled again after a crash): report it.
      const own = await this.getSession(session.id);
      if (own) return { ok: false as const, existing: own };
      const existing = await this.findActiveSession(session.clusterId);
      if (existing) return { ok: false as const, existing };
    }
    throw new Error(`could not create a session for cluster ${session.clusterId}: id ${session.id} is already taken`);
  }

  async getSession(id: string) {
    const row = await this.one('SELECT * FROM sessions WHERE id = $1', [id]);
    return row ? sessionOf(row) : null;
  }

  async findActiveSession(clusterId: string) {
    const row = await this.one(`SELECT * FROM sessions WHERE cluster_id = $1 AND status = 'active'`, [clusterId]);
    return row ? sessionOf(row) : null;
  }

  async findSessionByThread(platform: string, channelId: string, threadId: string) {
    const row = await this.one(
      'SELECT * FROM sessions WHERE platform = $1 AND channel_id = $2 AND thread_id = $3 ORDER BY created_at DESC LIMIT 1',
      [platform, channelId, threadId],
    );
    return row ? sessionOf(row) : null;
  }

  async setSessionThread(id: string, threadId: string) {
    await this.sql.query('UPDATE sessions SET thread_id = $2 WHERE id = $1', [id, threadId]);
  }

  async setSessionFlow(id: string, flow: string, flowVersion: number) {
    await this.sql.query('UPDATE sessions SET flow = $2, flow_version = $3 WHERE id = $1', [id, flow, flowVersion]);
  }

  async saveSession(id: string, change: SessionChange, expectedRevision: number) {
    const row = await this.one(
      `UPDATE sessions SET snapshot = $2, state = $3, waiting = $4, prompt_key = $5, driver = $8, driver_until = $9,
         revision = revision + 1, updated_at = $6
       WHERE id = $1 AND revision = $7 RETURNING revision`,
      [
        id, json(change.snapshot), change.state, change.waiting ? 1 : 0, change.promptKey ?? null, Date.now(), expectedRevision,
        change.driver ?? null, change.driver ? Date.now() + (change.driverLeaseMs ?? 0) : null,
      ],
    );
    if (!row) throw new StaleRevisionError(id);
    return Number(row.revision);
  }

  async requestCancel(id: string, by: string, at: Date) {
    // COALESCE keeps the first cancel: a second one changes nothing.
    const row = await this.one(
      `UPDATE sessions SET cancel_requested_by = COALESCE(cancel_requested_by, $2), cancel_requested_at = COALESCE(cancel_requested_at, $3)
       WHERE id = $1 AND status = 'active' RETURNING *`,
      [id, by, at.getTime()],
    );
    return row ? sessionOf(row) : null;
  }

  async activeSessionsIn(platform: string, channelId: string) {
    const rows = await this.sql.query(
      `SELECT * FROM sessions WHERE status = 'active' AND platform = $1 AND channel_id = $2 ORDER BY created_at`,
      [platform, channelId],
    );
    return rows.map(sessionOf);
  }

  async stalledSessions(owner: string) {
    const now = Date.now();
    const rows = await this.sql.query(
      `SELECT * FROM sessions s WHERE s.status = 'active' AND s.waiting = 0
         AND (s.driver IS NULL OR s.driver = $1 OR s.driver_until <= $2)
         AND NOT EXISTS (SELECT 1 FROM steps WHERE steps.session_id = s.id AND steps.status = 'running'
                         AND steps.owner IS NOT NULL AND steps.owner <> $1 AND steps.lease_until > $2)
       ORDER BY s.updated_at`,
      [owner, now],
    );
    return rows.map(sessionOf);
  }

  async sessionsWithUnappliedDecisions(before: Date, owner?: string) {
    const rows = await this.sql.query(
      `SELECT sessions.* FROM sessions JOIN approvals ON approvals.id = substr(sessions.prompt_key, 10)
       WHERE sessions.waiting = 1 AND sessions.status = 'active' AND sessions.prompt_key LIKE 'approval:%'
         AND approvals.decision IS NOT NULL AND (approvals.decided_at < $1 OR sessions.driver = $2)
       ORDER BY sessions.updated_at`,
      [before.getTime(), owner ?? null],
    );
    return rows.map(sessionOf);
  }

  async endSession(id: string, status: Exclude<SessionStatus, 'active'>) {
    const row = await this.one(
      `UPDATE sessions SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'active' RETURNING id`,
      [id, status, Date.now()],
    );
    return row !== null;
  }

  async listActiveSessions() {
    return (await this.sql.query(`SELECT * FROM sessions WHERE status = 'active' ORDER BY created_at`)).map(sessionOf);
  }

  async staleSessions(before: Date) {
    return (
      await this.sql.query(`SELECT * FROM sessions WHERE status = 'active' AND updated_at < $1 ORDER BY updated_at`, [before.getTime()])
    ).map(sessionOf);
  }

  async countActiveSessionsByState() {
    const rows = await this.sql.query(`SELECT state, COUNT(*) AS n FROM sessions WHERE status = 'active' GROUP BY state`);
    return Object.fromEntries(rows.map((row) => [String(row.state), Number(row.n)]));
  }

  async createApproval(approval: NewApproval) {
    await this.sql.query(
      // A second process showing the same prompt keeps the first row (what was shown first).
      `INSERT INTO approvals (id, session_id, step, params_hash, requester, expires_at, shown) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO NOTHING`,
      [approval.id, approval.sessionId, approval.step, approval.paramsHash, approval.requester, approval.expiresAt.getTime(), json(approval.shown)],
    );
  }

  async getApproval(id: string) {
    const row = await this.one('SELECT * FROM approvals WHERE id = $1', [id]);
    return row ? approvalOf(row) : null;
  }

  async setApprovalMessage(id: string, message: PostedMessage) {
    await this.sql.query('UPDATE approvals SET message_ref = $2 WHERE id = $1', [id, JSON.stringify(message)]);
  }

  async decideApproval(id: string, decision: Decision): Promise<DecideResult> {
    const at = decision.at.getTime();
    const row = await this.one(
      `UPDATE approvals SET decision = $2, decided_by = $3, decided_at = $4, decided_event = $6, reason = $7
       WHERE id = $1 AND decision IS NULL AND params_hash = $5 AND ($2 IN ('expired', 'closed') OR expires_at > $4)
       RETURNING *`,
      [id, decision.decision, decision.by, at, decision.paramsHash, decision.eventId ?? null, decision.reason === undefined ? null : scrub(decision.reason)],
    );
    if (row) return { ok: true, approval: approvalOf(row) };
    const approval = await this.getApproval(id);
    if (!approval) return { ok: false, reason: 'unknown' };
    if (approval.decision !== null) return { ok: false, reason: 'already-decided', approval };
    if (approval.paramsHash !== decision.paramsHash) return { ok: false, reason: 'mismatch', approval };
    return { ok: false, reason: 'expired', approval };
  }

  async addDenialReason(by: string, since: Date, reason: string) {
    const row = await this.one(
      `UPDATE approvals SET reason = $3
       WHERE reason IS NULL AND id = (
         SELECT id FROM approvals WHERE decided_by = $1 AND decision = 'denied' AND reason IS NULL AND decided_at >= $2
         ORDER BY decided_at DESC LIMIT 1)
       RETURNING *`,
      [by, since.getTime(), scrub(reason)],
    );
    return row ? approvalOf(row) : null;
  }

  async listExpiredApprovals(at: Date) {
    const rows = await this.sql.query(
      `SELECT approvals.* FROM approvals JOIN sessions ON sessions.id = approvals.session_id
       WHERE approvals.decision IS NULL AND approvals.expires_at <= $1 AND sessions.status = 'active'
       ORDER BY approvals.expires_at`,
      [at.getTime()],
    );
    return rows.map(approvalOf);
  }

  async claimReminders(before: Date, at: Date) {
    const rows = await this.sql.query(
      `UPDATE approvals SET reminded_at = $2
       WHERE decision IS NULL AND reminded_at IS NULL AND expires_at > $2 AND expires_at <= $1
         AND session_id IN (SELECT id FROM sessions WHERE status = 'active')
       RETURNING *`,
      [before.getTime(), at.getTime()],
    );
    return rows.map(approvalOf);
  }

  async closeOpenApprovals(sessionId: string, at: Date) {
    const rows = await this.sql.query(
      `UPDATE approvals SET decision = 'closed', decided_by = 'the end of the setup', decided_at = $2
       WHERE session_id = $1 AND decision IS NULL RETURNING *`,
      [sessionId, at.getTime()],
    );
    return rows.map(approvalOf);
  }

  async getStep(sessionId: string, stepKey: string) {
    const row = await this.one('SELECT * FROM steps WHERE session_id = $1 AND step_key = $2', [sessionId, stepKey]);
    return row ? stepOf(row) : null;
  }

  async claimStep(sessionId: string, stepKey: string, owner: string, leaseMs: number) {
    const now = Date.now();
    const row = await this.one(
      `INSERT INTO steps (session_id, step_key, status, owner, lease_until) VALUES ($1, $2, 'running', $3, $4)
       ON CONFLICT (session_id, step_key) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
       WHERE steps.status = 'running' AND (steps.owner IS NULL OR steps.owner = excluded.owner OR steps.lease_until <= $5)
       RETURNING step_key`,
      [sessionId, stepKey, owner, now + leaseMs, now],
    );
    return row !== null;
  }

  async finishStep(sessionId: string, stepKey: string, outcome: unknown) {
    await this.sql.query(
      `INSERT INTO steps (session_id, step_key, status, outcome) VALUES ($1, $2, 'done', $3)
       ON CONFLICT (session_id, step_key) DO UPDATE SET status = 'done', owner = NULL, lease_until = NULL, outcome = excluded.outcome`,
      [sessionId, stepKey, json(outcome)],
    );
  }

  async releaseStep(sessionId: string, stepKey: string, owner: string) {
    await this.sql.query(
      `UPDATE steps SET owner = NULL, lease_until = NULL WHERE session_id = $1 AND step_key = $2 AND owner = $3 AND status = 'running'`,
      [sessionId, stepKey, owner],
    );
  }

  async guardStep(sessionId: string, stepKey: string, owner: string, leaseMs: number): Promise<StepGuard> {
    const now = Date.now();
    const renewed = await this.one(
      `UPDATE steps SET lease_until = $4 WHERE session_id = $1 AND step_key = $2 AND owner = $3 AND status = 'running' RETURNING step_key`,
      [sessionId, stepKey, owner, now + leaseMs],
    );
    const session = await this.one('SELECT cancel_requested_by FROM sessions WHERE id = $1', [sessionId]);
    const by = text(session?.cancel_requested_by);
    return { held: renewed !== null, cancelled: by === null ? null : { by } };
  }

  async stopStep(sessionId: string, stepKey: string, outcome: unknown) {
    await this.sql.query(
      `UPDATE steps SET status = 'stopped', owner = NULL, lease_until = NULL, outcome = $3 WHERE session_id = $1 AND step_key = $2`,
      [sessionId, stepKey, json(outcome)],
    );
  }

  async listSteps(sessionId: string) {
    return (await this.sql.query('SELECT * FROM steps WHERE session_id = $1', [sessionId])).map(stepOf);
  }

  async acceptEvent(event: InboxEvent, at: Date, owner: string, leaseMs: number) {
    const row = await this.one(
      `INSERT INTO inbox (event_id, kind, event, received_at, status, owner, lease_until, attempts) VALUES ($1, $2, $3, $4, 'pending', $5, $6, 1)
       ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
      [event.eventId, event.kind, JSON.stringify(event.event), at.getTime(), owner, at.getTime() + leaseMs],
    );
    return row !== null;
  }

  async claimEvent(eventId: string, owner: string, leaseMs: number) {
    const now = Date.now();
    const row = await this.one(
      `UPDATE inbox SET owner = $2, lease_until = $3, attempts = attempts + 1
       WHERE event_id = $1 AND status = 'pending' AND (owner IS NULL OR owner = $2 OR lease_until <= $4) RETURNING *`,
      [eventId, owner, now + leaseMs, now],
    );
    return row ? inboxOf(row) : null;
  }

  async finishEvent(eventId: string, at: Date) {
    await this.sql.query(`UPDATE inbox SET status = 'done', owner = NULL, lease_until = NULL, finished_at = $2 WHERE event_id = $1`, [
      eventId,
      at.getTime(),
    ]);
  }

  async unfinishedEvents(before: Date, limit: number, owner: string) {
    const rows = await this.sql.query(
      `SELECT * FROM inbox WHERE status = 'pending' AND (owner = $4 OR (owner IS NULL AND received_at < $1) OR lease_until <= $2)
       ORDER BY received_at LIMIT $3`,
      [before.getTime(), Date.now(), limit, owner],
    );
    return rows.map(inboxOf);
  }

  async pruneEvents(before: Date) {
    const rows = await this.sql.query(`DELETE FROM inbox WHERE status = 'done' AND received_at < $1 RETURNING event_id`, [before.getTime()]);
    return rows.length;
  }

  async appendAudit(entry: AuditEntry) {
    await this.sql.query(
      `INSERT INTO audit (at, actor, action, cluster_id, session_id, step, params_hash, outcome, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        entry.at.getTime(), entry.actor, entry.action, entry.clusterId, entry.sessionId ?? null, entry.step ?? null,
        entry.paramsHash ?? null, scrub(entry.outcome), entry.detail === undefined ? null : scrub(entry.detail),
      ],
    );
  }

  async listAudit(clusterId: string, limit: number) {
    const rows = await this.sql.query('SELECT * FROM audit WHERE cluster_id = $1 ORDER BY id DESC LIMIT $2', [clusterId, limit]);
    return rows.map(auditOf);
  }

  async *exportAudit(): AsyncIterable<AuditRow> {
    let after = 0;
    for (;;) {
      const rows = await this.sql.query('SELECT * FROM audit WHERE id > $1 ORDER BY id LIMIT $2', [after, EXPORT_PAGE]);
      for (const row of rows) yield auditOf(row);
      if (rows.length < EXPORT_PAGE) return;
      after = Number(rows[rows.length - 1]!.id);
    }
  }

  async recordCreatedAccessKey(key: Omit<CreatedAccessKeyRow, 'createdAt'>) {
    await this.sql.query(
      `INSERT INTO created_access_keys (access_key_id, user_name, cluster_id, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (access_key_id) DO NOTHING`,
      [key.accessKeyId, key.userName, key.clusterId, Date.now()],
    );
  }

  async listCreatedAccessKeys(userName: string) {
    const rows = await this.sql.query('SELECT * FROM created_access_keys WHERE user_name = $1 ORDER BY created_at, access_key_id', [userName]);
    return rows.map((row): CreatedAccessKeyRow => ({
      userName: String(row.user_name),
      accessKeyId: String(row.access_key_id),
      clusterId: String(row.cluster_id),
      createdAt: date(row.created_at),
    }));
  }

  async forgetCreatedAccessKey(userName: string, accessKeyId: string) {
    await this.sql.query('DELETE FROM created_access_keys WHERE user_name = $1 AND access_key_id = $2', [userName, accessKeyId]);
  }

  async beginAccessKeyCreation(userName: string, clusterId: string, existingKeyIds: string[]) {
    await this.sql.query(
      `INSERT INTO access_key_creations (user_name, cluster_id, existing_keys, started_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_name, cluster_id) DO UPDATE SET existing_keys = excluded.existing_keys, started_at = excluded.started_at`,
      [userName, clusterId, JSON.stringify(existingKeyIds), Date.now()],
    );
  }

  async listAccessKeyCreations(userName: string) {
    const rows = await this.sql.query('SELECT * FROM access_key_creations WHERE user_name = $1 ORDER BY started_at, cluster_id', [userName]);
    return rows.map((row): AccessKeyCreationRow => ({
      userName: String(row.user_name),
      clusterId: String(row.cluster_id),
      existingKeyIds: parse(row.existing_keys) as string[],
      startedAt: date(row.started_at),
    }));
  }

  async endAccessKeyCreation(userName: string, clusterId: string) {
    await this.sql.query('DELETE FROM access_key_creations WHERE user_name = $1 AND cluster_id = $2', [userName, clusterId]);
  }

  async watchCluster(watch: { clusterId: string; conversation: Conversation; nextCheckAt: Date; by: string }) {
    const now = Date.now();
    const row = await this.one(
      `INSERT INTO watches (cluster_id, platform, channel_id, conversation, enabled, changed_by, next_check_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $7)
       ON CONFLICT (cluster_id) DO UPDATE SET platform = excluded.platform, channel_id = excluded.channel_id,
         conversation = excluded.conversation, enabled = 1, changed_by = excluded.changed_by,
         next_check_at = excluded.next_check_at, updated_at = excluded.updated_at
       RETURNING *`,
      [watch.clusterId, watch.conversation.platform, watch.conversation.channelId, JSON.stringify(watch.conversation), watch.by, watch.nextCheckAt.getTime(), now],
    );
    return watchOf(row!);
  }

  async addWatch(watch: { clusterId: string; conversation: Conversation; nextCheckAt: Date; by: string }) {
    const now = Date.now();
    const rows = await this.sql.query(
      `INSERT INTO watches (cluster_id, platform, channel_id, conversation, enabled, changed_by, next_check_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $7) ON CONFLICT (cluster_id) DO NOTHING RETURNING cluster_id`,
      [watch.clusterId, watch.conversation.platform, watch.conversation.channelId, JSON.stringify(watch.conversation), watch.by, watch.nextCheckAt.getTime(), now],
    );
    return rows.length > 0;
  }

  async setWatchEnabled(clusterId: string, enabled: boolean, by: string, nextCheckAt: Date) {
    const row = await this.one(
      `UPDATE watches SET enabled = $2, changed_by = $3, next_check_at = $4, updated_at = $5 WHERE cluster_id = $1 RETURNING *`,
      [clusterId, enabled ? 1 : 0, by, nextCheckAt.getTime(), Date.now()],
    );
    return row ? watchOf(row) : null;
  }

  async getWatch(clusterId: string) {
    const row = await this.one('SELECT * FROM watches WHERE cluster_id = $1', [clusterId]);
    return row ? watchOf(row) : null;
  }

  async listWatches(channel?: { platform: string; channelId: string }) {
    const rows = channel
      ? await this.sql.query('SELECT * FROM watches WHERE platform = $1 AND channel_id = $2 ORDER BY cluster_id', [channel.platform, channel.channelId])
      : await this.sql.query('SELECT * FROM watches ORDER BY cluster_id');
    return rows.map(watchOf);
  }

  async dueWatches(at: Date, limit: number) {
    const rows = await this.sql.query(
      `SELECT * FROM watches WHERE enabled = 1 AND next_check_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
       ORDER BY next_check_at LIMIT $2`,
      [at.getTime(), limit],
    );
    return rows.map(watchOf);
  }

  async claimWatchCheck(clusterId: string, seen: Date, nextCheckAt: Date, owner: string, leaseUntil: Date) {
    const row = await this.one(
      `UPDATE watches SET next_check_at = $3, lease_owner = $4, lease_until = $5
       WHERE cluster_id = $1 AND enabled = 1 AND next_check_at = $2 AND (lease_until IS NULL OR lease_until < $6)
       RETURNING *`,
      [clusterId, seen.getTime(), nextCheckAt.getTime(), owner, leaseUntil.getTime(), Date.now()],
    );
    return row ? watchOf(row) : null;
  }

  async finishWatchCheck(clusterId: string, owner: string, check: WatchCheck) {
    const keepBaseline = check.baseline === undefined;
    const rows = await this.sql.query(
      `UPDATE watches SET last_check_at = $3, last_result = $4, last_detail = $5, drift = $6,
         baseline = ${keepBaseline ? 'baseline' : '$7'}, lease_owner = NULL, lease_until = NULL, updated_at = $3
       WHERE cluster_id = $1 AND lease_owner = $2 RETURNING cluster_id`,
      [clusterId, owner, check.at.getTime(), check.result, scrub(check.detail), json(check.drift), ...(keepBaseline ? [] : [json(check.baseline)])],
    );
    return rows.length > 0;
  }

  async ping() {
    try {
      await this.sql.query('SELECT 1 AS ok');
      return true;
    } catch {
      return false;
    }
  }

  async probeWrite(at: Date) {
    await this.sql.query(
      `INSERT INTO probes (name, at) VALUES ('readiness', $1) ON CONFLICT (name) DO UPDATE SET at = excluded.at`,
      [at.getTime()],
    );
  }

  async close() {
    await this.sql.close();
  }
}
