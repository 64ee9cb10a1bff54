// The store contract, held against both implementations: SQLite (embedded) and the machine's PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaleRevisionError, type NewSession, type Store } from '../../src/store/contract.ts';
import { writeAuditLines } from '../../src/store/audit-export.ts';
import { openStore, SQLITE_FILE } from '../../src/store/index.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Sql } from '../../src/store/sql.ts';
import { openSqlite } from '../../src/store/sqlite.ts';
import { postgresUrl, requirePostgres } from '../support/postgres.ts';

interface Backend {
  name: string;
  open(): Promise<Store>;
  /** The database underneath, to prove rules the database itself enforces. */
  raw(): Promise<Sql>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'store-contract-'));
  return {
    name: 'sqlite',
    open: () => openStore({ databaseUrl: null, stateDir: dir }),
    raw: async () => openSqlite(join(dir, SQLITE_FILE)),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresBackend(): Backend {
  const schema = `store_contract_${Math.random().toString(36).slice(2, 10)}`;
  const admin = () => new pg.Client({ connectionString: postgresUrl() });
  let created = false;
  const url = () => `${postgresUrl()}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    name: 'postgres',
    async open() {
      if (!created) {
        await requirePostgres();
        const client = admin();
        await client.connect();
        await client.query(`CREATE SCHEMA ${schema}`);
        await client.end();
        created = true;
      }
      return openStore({ databaseUrl: url(), stateDir: '/nonexistent' });
    },
    raw: () => openPostgres(url()),
    async cleanup() {
      if (!created) return;
      const client = admin();
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

let counter = 0;
const newSession = (clusterId: string, overrides: Partial<NewSession> = {}): NewSession => ({
  id: `s-${++counter}-${Math.random().toString(36).slice(2, 8)}`,
  clusterId,
  flow: 'dedicated',
  flowVersion: 1,
  requester: 'slack:U1',
  conversation: { platform: 'slack', channelId: 'C1' },
  snapshot: { value: 'askRegion', context: { n: 1 } },
  state: 'askRegion',
  ...overrides,
});

for (const makeBackend of [sqliteBackend, postgresBackend]) {
  const backend = makeBackend();
  describe(`store contract: ${backend.name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await backend.open();
    });
    afterAll(async () => {
      await store?.close();
      await backend.cleanup();
    });

    it('allows one active session per cluster and names the running one', async () => {
      const first = await store.createSession(newSession('c-one'));
      expect(first.ok).toBe(true);
      const second = await store.createSession(newSession('c-one', { requester: 'slack:U2' }));
      expect(second).toMatchObject({ ok: false, existing: { clusterId: 'c-one', requester: 'slack:U1', status: 'active' } });
      if (!first.ok) throw new Error('unreachable');
      expect(await store.endSession(first.row.id, 'complete')).toBe(true);
      expect(await store.endSession(first.row.id, 'failed')).toBe(false);
      expect((await store.createSession(newSession('c-one'))).ok).toBe(true);
    });

    it('lets exactly one of many concurrent starts for a cluster win', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => store.createSession(newSession('c-race'))));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
    });

    it('round-trips snapshots and refuses a stale revision', async () => {
      const created = await store.createSession(newSession('c-snap', { conversation: { platform: 'web', channelId: 'sandbox', threadId: 't-1' } }));
      if (!created.ok) throw new Error('not created');
      const { row } = created;
      expect(row.revision).toBe(0);
      const revision = await store.saveSession(row.id, { snapshot: { value: 'approveCreateBucket', big: 'x'.repeat(10_000) }, state: 'approveCreateBucket' }, 0);
      expect(revision).toBe(1);
      await expect(store.saveSession(row.id, { snapshot: {}, state: 'other' }, 0)).rejects.toBeInstanceOf(StaleRevisionError);
      const read = await store.getSession(row.id);
      expect(read).toMatchObject({ state: 'approveCreateBucket', revision: 1, conversation: { platform: 'web', threadId: 't-1' } });
      expect((read!.snapshot as { big: string }).big).toHaveLength(10_000);
      expect(await store.countActiveSessionsByState()).toMatchObject({ approveCreateBucket: 1 });
    });

    it('finds a session by its thread', async () => {
      const created = await store.createSession(newSession('c-thread'));
      if (!created.ok) throw new Error('not created');
      expect(await store.findSessionByThread('slack', 'C1', '1700000000.000100')).toBeNull();
      await store.setSessionThread(created.row.id, '1700000000.000100');
      expect((await store.findSessionByThread('slack', 'C1', '1700000000.000100'))?.id).toBe(created.row.id);
      expect(await store.findSessionByThread('slack', 'C2', '1700000000.000100')).toBeNull();
    });

    it('lists stale sessions by last update', async () => {
      const created = await store.createSession(newSession('c-stale'));
      if (!created.ok) throw new Error('not created');
      const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
      expect(ids(await store.staleSessions(new Date(Date.now() - 60_000)))).not.toContain(created.row.id);
      expect(ids(await store.staleSessions(new Date(Date.now() + 60_000)))).toContain(created.row.id);
    });

    describe('approvals', () => {
      let sessionId: string;
      beforeAll(async () => {
        const created = await store.createSession(newSession('c-approvals'));
        if (!created.ok) throw new Error('not created');
        sessionId = created.row.id;
      });
      const approval = (id: string, expiresInMs = 60_000) => ({
        id, sessionId, step: 'createRamUser', paramsHash: 'hash-a', requester: 'slack:U1', expiresAt: new Date(Date.now() + expiresInMs),
        shown: { kind: 'approval', title: 'Create RAM user' },
      });

      it('is consumed exactly once, even by concurrent clicks', async () => {
        await store.createApproval(approval('a-once'));
        const at = new Date();
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.decideApproval('a-once', { by: `slack:A${i}`, decision: 'approved', at, paramsHash: 'hash-a' })),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(Array(7).fill('already-decided'));
        const row = await store.getApproval('a-once');
        expect(row).toMatchObject({ decision: 'approved' });
        expect(row!.decidedBy).toMatch(/^slack:A\d$/);
      });

      it('refuses unknown, mismatched and expired approvals, and the sweeper may expire them', async () => {
        expect(await store.decideApproval('a-none', { by: 'x', decision: 'approved', at: new Date(), paramsHash: 'hash-a' })).toEqual({ ok: false, reason: 'unknown' });
        await store.createApproval(approval('a-mismatch'));
        expect(await store.decideApproval('a-mismatch', { by: 'x', decision: 'approved', at: new Date(), paramsHash: 'hash-b' })).toMatchObject({ ok: false, reason: 'mismatch' });
        await store.createApproval(approval('a-expired', -1_000));
        expect(await store.decideApproval('a-expired', { by: 'x', decision: 'approved', at: new Date(), paramsHash: 'hash-a' })).toMatchObject({ ok: false, reason: 'expired' });
        expect((await store.listExpiredApprovals(new Date())).map((a) => a.id)).toContain('a-expired');
        expect(await store.decideApproval('a-expired', { by: 'sweeper', decision: 'expired', at: new Date(), paramsHash: 'hash-a' })).toMatchObject({ ok: true });
        expect((await store.listExpiredApprovals(new Date())).map((a) => a.id)).not.toContain('a-expired');
      });

      it('claims each due reminder once, among concurrent sweepers, and none for decided or far-off approvals', async () => {
        await store.createApproval(approval('a-remind', 5 * 60_000));
        await store.createApproval(approval('a-far', 60 * 60_000));
        await store.createApproval(approval('a-remind-decided', 5 * 60_000));
        await store.decideApproval('a-remind-decided', { by: 'x', decision: 'approved', at: new Date(), paramsHash: 'hash-a' });
        const before = new Date(Date.now() + 10 * 60_000);
        const claims = await Promise.all(Array.from({ length: 4 }, () => store.claimReminders(before, new Date())));
        expect(claims.flat().map((a) => a.id).filter((id) => id.startsWith('a-remind') || id === 'a-far')).toEqual(['a-remind']);
        expect(await store.claimReminders(before, new Date())).toEqual([]);
      });

      it('adds a late reason to the latest recent denial of that person only, once', async () => {
        const at = new Date();
        await store.createApproval(approval('a-deny-old'));
        await store.createApproval(approval('a-deny-new'));
        await store.decideApproval('a-deny-old', { by: 'dingtalk:m1', decision: 'denied', at: new Date(at.getTime() - 20 * 60_000 + 120_000), paramsHash: 'hash-a' });
        await store.decideApproval('a-deny-new', { by: 'dingtalk:m1', decision: 'denied', at, paramsHash: 'hash-a' });
        const since = new Date(at.getTime() - 10 * 60_000);
        expect(await store.addDenialReason('dingtalk:other', since, 'not theirs')).toBeNull();
        expect(await store.addDenialReason('dingtalk:m1', since, 'pasted xoxb-12345678901-abcdefgh by mistake')).toMatchObject({ id: 'a-deny-new', reason: 'pasted [REDACTED] by mistake' });
        expect(await store.addDenialReason('dingtalk:m1', since, 'again')).toBeNull();
        expect((await store.getApproval('a-deny-old'))!.reason).toBeNull();
      });

      it('remembers where the approval message was posted', async () => {
        await store.createApproval(approval('a-message'));
        const ref = { conversation: { platform: 'slack' as const, channelId: 'C1', threadId: '1.2' }, messageId: '1.3' };
        await store.setApprovalMessage('a-message', ref);
        expect((await store.getApproval('a-message'))?.messageRef).toEqual(ref);
      });
    });

    describe('steps', () => {
      let sessionId: string;
      beforeAll(async () => {
        const created = await store.createSession(newSession('c-steps'));
        if (!created.ok) throw new Error('not created');
        sessionId = created.row.id;
      });

      it('is claimed by one owner at a time until done', async () => {
        const claims = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((owner) => store.claimStep(sessionId, 'createRamUser', owner, 60_000)));
        expect(claims.filter(Boolean)).toHaveLength(1);
        const owner = (await store.getStep(sessionId, 'createRamUser'))!.owner!;
        expect(await store.claimStep(sessionId, 'createRamUser', owner, 60_000)).toBe(true);
        await store.finishStep(sessionId, 'createRamUser', { outcome: 'created' });
        expect(await store.claimStep(sessionId, 'createRamUser', owner, 60_000)).toBe(false);
        expect(await store.getStep(sessionId, 'createRamUser')).toMatchObject({ status: 'done', outcome: { outcome: 'created' } });
      });

      it('can be taken over after the lease runs out or the owner releases it', async () => {
        expect(await store.claimStep(sessionId, 'createPolicy', 'dead', -1)).toBe(true);
        expect(await store.claimStep(sessionId, 'createPolicy', 'alive', 60_000)).toBe(true);
        expect(await store.claimStep(sessionId, 'createPolicy', 'dead', 60_000)).toBe(false);
        await store.releaseStep(sessionId, 'createPolicy', 'alive');
        expect(await store.claimStep(sessionId, 'createPolicy', 'other', 60_000)).toBe(true);
      });
    });

    describe('created AccessKeys', () => {
      it('records the keys the bot created once each, per user, and forgets a deleted one', async () => {
        await store.recordCreatedAccessKey({ userName: 'ack-one-user-c1', accessKeyId: 'LTAI-created-1', clusterId: 'c-1' });
        await store.recordCreatedAccessKey({ userName: 'ack-one-user-c1', accessKeyId: 'LTAI-created-2', clusterId: 'c-2' });
        await store.recordCreatedAccessKey({ userName: 'ack-one-user-c1', accessKeyId: 'LTAI-created-1', clusterId: 'c-1' });
        await store.recordCreatedAccessKey({ userName: 'ack-backup-c3', accessKeyId: 'LTAI-created-3', clusterId: 'c-3' });
        const listed = await store.listCreatedAccessKeys('ack-one-user-c1');
        expect(listed.map((k) => [k.accessKeyId, k.clusterId])).toEqual([['LTAI-created-1', 'c-1'], ['LTAI-created-2', 'c-2']]);
        expect(listed[0]!.createdAt).toBeInstanceOf(Date);
        await store.forgetCreatedAccessKey('ack-one-user-c1', 'LTAI-created-1');
        expect((await store.listCreatedAccessKeys('ack-one-user-c1')).map((k) => k.accessKeyId)).toEqual(['LTAI-created-2']);
        expect((await store.listCreatedAccessKeys('ack-backup-c3')).map((k) => k.accessKeyId)).toEqual(['LTAI-created-3']);
        expect(await store.listCreatedAccessKeys('nobody')).toEqual([]);
      });

      it('remembers a CreateAccessKey under way with the keys the user had before, per cluster, until it ends', async () => {
        await store.beginAccessKeyCreation('ack-one-user-c9', 'c-9', ['LTAI-before']);
        await store.beginAccessKeyCreation('ack-one-user-c9', 'c-9', ['LTAI-before', 'LTAI-also']);
        await store.beginAccessKeyCreation('ack-one-user-c9', 'c-10', []);
        const pending = await store.listAccessKeyCreations('ack-one-user-c9');
        expect(pending.map((p) => [p.clusterId, p.existingKeyIds]).sort()).toEqual([['c-10', []], ['c-9', ['LTAI-before', 'LTAI-also']]]);
        await store.endAccessKeyCreation('ack-one-user-c9', 'c-9');
        expect((await store.listAccessKeyCreations('ack-one-user-c9')).map((p) => p.clusterId)).toEqual(['c-10']);
      });
    });

    describe('inbox', () => {
      const event = (id: string) => ({ eventId: id, kind: 'command', event: { kind: 'command', eventId: id, text: 'c-1' } });

      it('stores an event once, held by the process that took it, and gives it to another only when nobody finished it', async () => {
        const at = new Date();
        expect(await store.acceptEvent(event('e-1'), at, 'replica-a', 60_000)).toBe(true);
        expect(await store.acceptEvent(event('e-1'), at, 'replica-b', 60_000)).toBe(false); // a redelivery
        // Held by A: B can neither claim it nor find it unfinished.
        expect(await store.claimEvent('e-1', 'replica-b', 60_000)).toBeNull();
        expect((await store.unfinishedEvents(new Date(Date.now() + 10_000), 10, 'replica-b')).map((r) => r.eventId)).not.toContain('e-1');
        // A's own events are A's to take up again (a restart of A).
        expect((await store.unfinishedEvents(new Date(0), 10, 'replica-a')).map((r) => r.eventId)).toContain('e-1');
        expect(await store.claimEvent('e-1', 'replica-a', 60_000)).toMatchObject({ eventId: 'e-1', attempts: 2, event: { text: 'c-1' } });
        await store.finishEvent('e-1', new Date());
        expect(await store.claimEvent('e-1', 'replica-a', 60_000)).toBeNull();
      });

      it("lists an event whose holder's lease ran out, and lets another take it", async () => {
        expect(await store.acceptEvent(event('e-2'), new Date(), 'replica-a', 1)).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 5));
        expect((await store.unfinishedEvents(new Date(0), 10, 'replica-b')).map((r) => r.eventId)).toContain('e-2');
        expect(await store.claimEvent('e-2', 'replica-b', 60_000)).toMatchObject({ eventId: 'e-2' });
        expect(await store.claimEvent('e-2', 'replica-a', 60_000)).toBeNull();
      });

      it('forgets finished events received before a time, never an unfinished one', async () => {
        const old = new Date(Date.now() - 3_600_000);
        await store.acceptEvent(event('e-old-done'), old, 'a', 60_000);
        await store.finishEvent('e-old-done', new Date());
        await store.acceptEvent(event('e-old-open'), old, 'a', 1);
        expect(await store.pruneEvents(new Date(Date.now() - 60_000))).toBe(1);
        expect(await store.acceptEvent(event('e-old-done'), new Date(), 'a', 60_000)).toBe(true); // forgotten
        expect(await store.acceptEvent(event('e-old-open'), new Date(), 'a', 60_000)).toBe(false); // kept
      });
    });

    describe('cancel, leases and the resumer', () => {
      it('records the first cancel only, and only of an active session', async () => {
        const created = await store.createSession(newSession('c-cancel'));
        if (!created.ok) throw new Error('not created');
        const first = await store.requestCancel(created.row.id, 'slack:UA', new Date(1_000));
        expect(first?.cancelRequested).toEqual({ by: 'slack:UA', at: new Date(1_000) });
        expect((await store.requestCancel(created.row.id, 'slack:UB', new Date(2_000)))?.cancelRequested).toEqual({ by: 'slack:UA', at: new Date(1_000) });
        await store.endSession(created.row.id, 'cancelled');
        expect(await store.requestCancel(created.row.id, 'slack:UB', new Date())).toBeNull();
      });

      it('tells a step runner before each write whether its claim holds and whether the session was cancelled', async () => {
        const created = await store.createSession(newSession('c-guard'));
        if (!created.ok) throw new Error('not created');
        const id = created.row.id;
        expect(await store.claimStep(id, 'k', 'runner-a', 60_000)).toBe(true);
        expect(await store.guardStep(id, 'k', 'runner-a', 60_000)).toEqual({ held: true, cancelled: null });
        expect(await store.guardStep(id, 'k', 'runner-b', 60_000)).toEqual({ held: false, cancelled: null });
        await store.requestCancel(id, 'slack:UA', new Date());
        expect(await store.guardStep(id, 'k', 'runner-a', 60_000)).toEqual({ held: true, cancelled: { by: 'slack:UA' } });
        await store.stopStep(id, 'k', { before: 'ram:CreatePolicy on policy p', writes: [], reason: 'cancelled' });
        expect(await store.getStep(id, 'k')).toMatchObject({ status: 'stopped', owner: null, outcome: { before: 'ram:CreatePolicy on policy p' } });
        expect(await store.claimStep(id, 'k', 'runner-a', 60_000)).toBe(false);
        expect((await store.listSteps(id)).map((s) => s.stepKey)).toEqual(['k']);
      });

      it('finds the sessions nobody drives, and not those a live driver or a live step lease holds', async () => {
        const make = async (clusterId: string) => {
          const created = await store.createSession(newSession(clusterId));
          if (!created.ok) throw new Error('not created');
          return created.row;
        };
        const orphan = await make('c-orphan');
        await store.saveSession(orphan.id, { snapshot: {}, state: 'x', driver: 'gone', driverLeaseMs: 1 }, 0);
        const driven = await make('c-driven');
        await store.saveSession(driven.id, { snapshot: {}, state: 'x', driver: 'replica-b', driverLeaseMs: 60_000 }, 0);
        const mine = await make('c-mine');
        await store.saveSession(mine.id, { snapshot: {}, state: 'x', driver: 'replica-a', driverLeaseMs: 60_000 }, 0);
        const waiting = await make('c-waiting');
        await store.saveSession(waiting.id, { snapshot: {}, state: 'x', waiting: true, promptKey: 'question:region', driver: 'gone', driverLeaseMs: 1 }, 0);
        const stepping = await make('c-stepping');
        await store.saveSession(stepping.id, { snapshot: {}, state: 'x', driver: 'gone', driverLeaseMs: 1 }, 0);
        await store.claimStep(stepping.id, 'k', 'replica-b', 60_000);
        await new Promise((resolve) => setTimeout(resolve, 5));
        const stalled = (await store.stalledSessions('replica-a')).map((r) => r.clusterId);
        expect(stalled).toEqual(expect.arrayContaining(['c-orphan', 'c-mine']));
        expect(stalled).not.toContain('c-driven');
        expect(stalled).not.toContain('c-waiting');
        expect(stalled).not.toContain('c-stepping');
      });

      it('finds the sessions whose decided approval never reached their flow, once the decider had its time', async () => {
        const created = await store.createSession(newSession('c-decided'));
        if (!created.ok) throw new Error('not created');
        const id = created.row.id;
        await store.saveSession(id, { snapshot: {}, state: 'x', waiting: true, promptKey: `approval:${id}/createRamUser/1`, driver: 'replica-a', driverLeaseMs: 60_000 }, 0);
        await store.createApproval({ id: `${id}/createRamUser/1`, sessionId: id, step: 'createRamUser', paramsHash: 'h', requester: 'slack:U1', expiresAt: new Date(Date.now() + 60_000), shown: null });
        expect(await store.sessionsWithUnappliedDecisions(new Date(Date.now() + 60_000))).toEqual([]);
        const decidedAt = new Date();
        await store.decideApproval(`${id}/createRamUser/1`, { by: 'slack:U2', decision: 'approved', at: decidedAt, paramsHash: 'h', eventId: 'e-9' });
        expect(await store.sessionsWithUnappliedDecisions(decidedAt)).toEqual([]); // the decider's to apply
        expect((await store.sessionsWithUnappliedDecisions(new Date(decidedAt.getTime() + 1))).map((r) => r.id)).toEqual([id]);
        expect((await store.sessionsWithUnappliedDecisions(decidedAt, 'replica-a')).map((r) => r.id)).toEqual([id]); // its driver at start-up
        expect(await store.getApproval(`${id}/createRamUser/1`)).toMatchObject({ decidedEvent: 'e-9' });
      });

      it('closes the open approvals of an ended session and lists the active sessions of a channel', async () => {
        const created = await store.createSession(newSession('c-close', { conversation: { platform: 'slack', channelId: 'C-close' } }));
        if (!created.ok) throw new Error('not created');
        const id = created.row.id;
        expect((await store.activeSessionsIn('slack', 'C-close')).map((r) => r.id)).toEqual([id]);
        await store.createApproval({ id: `${id}/a`, sessionId: id, step: 's', paramsHash: 'h', requester: 'slack:U1', expiresAt: new Date(Date.now() + 60_000), shown: { title: 'T' } });
        const closed = await store.closeOpenApprovals(id, new Date());
        expect(closed.map((a) => [a.id, a.decision, a.shown])).toEqual([[`${id}/a`, 'closed', { title: 'T' }]]);
        expect(await store.closeOpenApprovals(id, new Date())).toEqual([]);
        await store.setSessionFlow(id, 'dedicated', 2);
        expect(await store.getSession(id)).toMatchObject({ flow: 'dedicated', flowVersion: 2 });
        await store.probeWrite(new Date());
      });
    });

    describe('audit', () => {
      it('is append-only, newest first, scrubbed of secrets, and exports every row', async () => {
        for (let i = 0; i < 3; i++) {
          await store.appendAudit({ at: new Date(), actor: 'slack:U1', action: 'step', clusterId: 'c-audit', step: `s${i}`, paramsHash: 'h', outcome: 'created' });
        }
        await store.appendAudit({ at: new Date(), actor: 'slack:U1', action: 'step', clusterId: 'c-audit-other', outcome: 'failed', detail: 'AccessKeySecret=abcdEFGHijklMNOPqrstUVWXyz0123' });
        const rows = await store.listAudit('c-audit', 2);
        expect(rows.map((r) => r.step)).toEqual(['s2', 's1']);
        const other = await store.listAudit('c-audit-other', 10);
        expect(other[0]!.detail).not.toContain('abcdEFGHijklMNOPqrstUVWXyz0123');
        const exported = [];
        for await (const row of store.exportAudit()) exported.push(row);
        expect(exported.map((r) => r.clusterId)).toEqual(['c-audit', 'c-audit', 'c-audit', 'c-audit-other']);
        expect(exported.map((r) => r.id)).toEqual([...exported.map((r) => r.id)].sort((a, b) => a - b));

        // `npm run audit-export`: the same rows as JSON lines.
        const lines: string[] = [];
        expect(await writeAuditLines(store, (line) => void lines.push(line))).toBe(4);
        const parsed = lines.map((line) => JSON.parse(line) as { clusterId: string; at: string });
        expect(parsed.map((r) => r.clusterId)).toEqual(exported.map((r) => r.clusterId));
        expect(parsed[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT/);
        expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
      });
    });

    it('refuses to change or delete audit rows, in the database itself', async () => {
      const sql = await backend.raw();
      try {
        await expect(sql.query(`UPDATE audit SET outcome = 'tampered'`)).rejects.toThrow(/append-only/);
        await expect(sql.query('DELETE FROM audit')).rejects.toThrow(/append-only/);
      } finally {
        await sql.close();
      }
    });

    describe('watches', () => {
      const ops = { platform: 'slack', channelId: 'C-watch' } as const;
      const at = (s: number) => new Date(1_800_000_000_000 + s * 1000);

      it('watches a cluster from a channel, turns it off and on, and lists the channel\'s watches', async () => {
        const row = await store.watchCluster({ clusterId: 'c-w1', conversation: ops, nextCheckAt: at(10), by: 'slack:U1' });
        expect(row).toMatchObject({ clusterId: 'c-w1', enabled: true, changedBy: 'slack:U1', lastCheckAt: null, drift: null, baseline: null });
        await store.watchCluster({ clusterId: 'c-w2', conversation: { platform: 'slack', channelId: 'C-other' }, nextCheckAt: at(10), by: 'slack:U1' });
        expect((await store.listWatches(ops)).map((w) => w.clusterId)).toEqual(['c-w1']);
        expect(await store.setWatchEnabled('c-w1', false, 'slack:U2', at(10))).toMatchObject({ enabled: false, changedBy: 'slack:U2' });
        expect(await store.dueWatches(at(20), 10)).toEqual(expect.not.arrayContaining([expect.objectContaining({ clusterId: 'c-w1' })]));
        expect(await store.setWatchEnabled('c-unknown', true, 'slack:U2', at(10))).toBeNull();
        expect((await store.setWatchEnabled('c-w1', true, 'slack:U2', at(10)))?.enabled).toBe(true);
      });

      it('lets one of many claims of a due check win, moves the next check on, and keeps drift and baseline across a new watch', async () => {
        await store.watchCluster({ clusterId: 'c-w3', conversation: ops, nextCheckAt: at(100), by: 'slack:U1' });
        expect((await store.dueWatches(at(99), 10)).map((w) => w.clusterId)).not.toContain('c-w3');
        const [due] = (await store.dueWatches(at(100), 100)).filter((w) => w.clusterId === 'c-w3');
        const claims = await Promise.all(
          ['a', 'b', 'c', 'd'].map((owner) => store.claimWatchCheck('c-w3', due!.nextCheckAt, at(200), owner, new Date(Date.now() + 60_000))),
        );
        const won = claims.filter((c) => c !== null);
        expect(won).toHaveLength(1);
        expect(won[0]!.nextCheckAt).toEqual(at(200));
        // A claim of the check already taken (the next one is not due yet) finds nothing.
        expect(await store.claimWatchCheck('c-w3', at(100), at(300), 'e', new Date(Date.now() + 60_000))).toBeNull();
        const owner = ['a', 'b', 'c', 'd'][claims.findIndex((c) => c !== null)]!;
        expect(await store.finishWatchCheck('c-w3', 'someone-else', { at: at(101), result: 'ok', detail: 'x', drift: null })).toBe(false);
        const drift = { keys: ['vault'], since: at(101).toISOString() };
        expect(await store.finishWatchCheck('c-w3', owner, { at: at(101), result: 'drift', detail: '1 requirement drifted', drift, baseline: { bucket: 'b1' } })).toBe(true);
        expect(await store.getWatch('c-w3')).toMatchObject({ lastResult: 'drift', lastCheckAt: at(101), drift, baseline: { bucket: 'b1' } });
        // Set up again from another channel: reported there from now on, what it remembers is kept.
        const again = await store.watchCluster({ clusterId: 'c-w3', conversation: { platform: 'slack', channelId: 'C-new' }, nextCheckAt: at(150), by: 'slack:U3' });
        expect(again).toMatchObject({ conversation: { channelId: 'C-new' }, drift, baseline: { bucket: 'b1' }, nextCheckAt: at(150) });
      });

      it('adds a watch only for a cluster that has none, on or off', async () => {
        expect(await store.addWatch({ clusterId: 'c-w5', conversation: ops, nextCheckAt: at(10), by: 'CHANNEL_CLUSTERS' })).toBe(true);
        await store.setWatchEnabled('c-w5', false, 'slack:U2', at(10));
        expect(await store.addWatch({ clusterId: 'c-w5', conversation: { platform: 'slack', channelId: 'C-other' }, nextCheckAt: at(10), by: 'CHANNEL_CLUSTERS' })).toBe(false);
        expect(await store.getWatch('c-w5')).toMatchObject({ enabled: false, changedBy: 'slack:U2', conversation: ops });
      });

      it('lets a lease that ran out be claimed again, and keeps the baseline when a check does not give one', async () => {
        await store.watchCluster({ clusterId: 'c-w4', conversation: ops, nextCheckAt: at(100), by: 'slack:U1' });
        expect(await store.claimWatchCheck('c-w4', at(100), at(100), 'dead', new Date(Date.now() - 1))).not.toBeNull();
        expect(await store.claimWatchCheck('c-w4', at(100), at(200), 'alive', new Date(Date.now() + 60_000))).not.toBeNull();
        expect(await store.finishWatchCheck('c-w4', 'alive', { at: at(101), result: 'ok', detail: 'ok', drift: null, baseline: { bucket: 'b' } })).toBe(true);
        await store.claimWatchCheck('c-w4', at(200), at(300), 'alive', new Date(Date.now() + 60_000));
        await store.finishWatchCheck('c-w4', 'alive', { at: at(201), result: 'error', detail: 'unreadable', drift: null });
        expect(await store.getWatch('c-w4')).toMatchObject({ lastResult: 'error', baseline: { bucket: 'b' } });
      });
    });

    it('keeps what a repair session may plan', async () => {
      const created = await store.createSession(newSession('c-repair', { repair: { steps: ['createBackupVault'] } }));
      if (!created.ok) throw new Error('not created');
      expect((await store.getSession(created.row.id))?.repair).toEqual({ steps: ['createBackupVault'] });
      expect((await store.createSession(newSession('c-no-repair'))).ok && (await store.findActiveSession('c-no-repair'))?.repair).toBeNull();
    });

    it('applies migrations once when opened again and keeps the data', async () => {
      const again = await backend.open();
      try {
        expect(await again.ping()).toBe(true);
        expect((await again.listAudit('c-audit', 10)).length).toBe(3);
        expect((await again.listCreatedAccessKeys('ack-one-user-c1')).map((k) => k.accessKeyId)).toEqual(['LTAI-created-2']);
      } finally {
        await again.close();
      }
    });
  });
}
