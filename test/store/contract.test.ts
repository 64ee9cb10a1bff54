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
