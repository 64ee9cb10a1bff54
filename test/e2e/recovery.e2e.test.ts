// Issue 13: what goes wrong around the store and the chat, and how the bot recovers and tells the truth.
// - A store that fails around a step: the thread says what really changed; the setup goes on by
//   itself once the store is back, without a restart.
// - Decisions bound to what was shown: the session, the message, the platform.
// - Messages rendered from the store: decided approvals keep what was approved after a restart;
//   prompts nobody will answer lose their buttons and say why.
// - Operations: readiness writes, metrics answer without the store, the flow is named, every ending counted.
import { setupState } from '../support/sandbox-state.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { ChatEvent } from '../../src/chat/model.ts';
import { postgresUrl } from '../support/postgres.ts';
import { createPgSchema, type PgSchema } from '../support/pg-schema.ts';
import { APPROVER, firstApproval, REQUESTER, startTestBot, testEventId, type TestBot } from '../support/bot-harness.ts';
import type { Recorded } from '../support/recording-chat.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

let t: TestBot | undefined;
let schema: PgSchema | undefined;
let proxy: TcpProxy | undefined;

afterEach(async () => {
  proxy?.restore();
  await t?.stop();
  await proxy?.close();
  await schema?.drop();
  t = schema = proxy = undefined;
});

/** A bot on PostgreSQL reached through a proxy the test can cut. */
async function botBehindProxy() {
  schema = await createPgSchema('bot_recovery');
  const pg = new URL(postgresUrl());
  proxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
  const url = new URL(schema.url);
  url.port = String(proxy.port);
  t = await startTestBot({ databaseUrl: url.toString(), resumeEveryMs: 200 });
  return t;
}

const texts = (bot: TestBot) => bot.chat.messages.map((m) => m.reply).flatMap((r) => ('text' in r ? [r.text] : []));

describe('a store that fails around a step', () => {
  it('says the RAM user was created, then goes on by itself when the database is back', async () => {
    const bot = await botBehindProxy();
    await bot.command('/backup-setup c-sandbox-dedicated');
    const approval = await firstApproval(bot);
    expect(approval.reply.kind === 'approval' && approval.reply.prompt.request.step).toBe('createRamUser');
    // The database goes away while RAM is creating the user.
    bot.sandbox.faults.ram.add({ operation: 'CreateUser', fault: { kind: 'latency', ms: 600 }, times: 1 });
    const decided = bot.decide(approval, 'approve');
    await bot.chat.until(() => bot.sandbox.faults.ram.calls.includes('CreateUser'));
    proxy!.cut();
    await decided;

    const paused = await bot.chat.until(() => texts(bot).find((text) => text.includes("database is unavailable")));
    expect(paused).toMatch(/^⚠️ Created RAM user `ack-backup-c-sandbox-dedicated`\. The bot's database is unavailable \(.+\), so the setup pauses here\. It goes on by itself when the database is back; nothing is done twice\.$/);
    expect(texts(bot).join('\n')).not.toMatch(/Nothing else was changed|❌ Stopped/);

    proxy!.restore();
    const next = await bot.chat.until(() => bot.chat.messages.find((m) => m.reply.kind === 'approval' && m.messageId !== approval.messageId), 30_000);
    expect(next.reply.kind === 'approval' && next.reply.prompt.request.step).toBe('ensurePolicy');
    expect(setupState(bot.sandbox).ram.users).toEqual(['ack-backup-c-sandbox-dedicated']);
  }, 60_000);

  it('answers /readyz (a real write) and /metrics truthfully while the database is down', async () => {
    schema = await createPgSchema('bot_recovery');
    const pgUrl = new URL(postgresUrl());
    proxy = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    const url = new URL(schema.url);
    url.port = String(proxy.port);
    const stateDir = mkdtempSync(join(tmpdir(), 'bot-readyz-'));
    const app = await startApp(loadConfig({ DATABASE_URL: url.toString(), PORT: '0', STATE_DIR: stateDir }), { logger: pino({ level: 'silent' }), host: '127.0.0.1' });
    try {
      const ready = await fetch(`${app.url}/readyz`);
      expect(ready.status).toBe(200);
      proxy.cut();
      const down = await fetch(`${app.url}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ ready: false, checks: { store: false } });
      const metrics = await fetch(`${app.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('backup_setup_sessions_started_total');
      proxy.restore();
      expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    } finally {
      await app.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('readiness proves the store can write', () => {
  it('is not ready on a database that answers SELECT 1 but refuses writes (a read-only replica after a failover)', async () => {
    const name = `bot_ro_${Math.random().toString(36).slice(2, 10)}`;
    const admin = async (sql: string) => {
      const client = new pg.Client({ connectionString: postgresUrl() });
      await client.connect();
      await client.query(sql).finally(() => client.end());
    };
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(postgresUrl());
    url.pathname = `/${name}`;
    const stateDir = mkdtempSync(join(tmpdir(), 'bot-readyz-'));
    const app = await startApp(loadConfig({ DATABASE_URL: url.toString(), PORT: '0', STATE_DIR: stateDir }), { logger: pino({ level: 'silent' }), host: '127.0.0.1' });
    try {
      expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
      await admin(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
      await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
      const probe = new pg.Client({ connectionString: url.toString() });
      await probe.connect();
      expect((await probe.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
      await probe.end();
      const down = await fetch(`${app.url}/readyz`);
      expect(await down.json()).toMatchObject({ ready: false, checks: { store: false } });
      expect(down.status).toBe(503);
    } finally {
      await app.stop();
      rmSync(stateDir, { recursive: true, force: true });
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  }, 60_000);
});

describe('a decision is bound to what was shown', () => {
  /** Answers a cluster's questions with their suggestion until its first approval. */
  async function approvalIn(bot: TestBot, clusterId: string): Promise<Recorded> {
    const parent = await bot.chat.until(() =>
      bot.chat.messages.findLast((m) => !m.conversation.threadId && (m.reply.kind === 'text' || m.reply.kind === 'status') && m.reply.text.startsWith(`Backup center setup for \`${clusterId}\``)),
    );
    const handled = new Set<string>();
    for (;;) {
      const next = await bot.chat.until(() =>
        bot.chat.messages.find((m) => m.conversation.threadId === parent.messageId && !handled.has(m.messageId) && ['question', 'approval'].includes(m.reply.kind)),
      );
      handled.add(next.messageId);
      if (next.reply.kind === 'approval') return next;
      if (next.reply.kind === 'question') await bot.answer(next, next.reply.prompt.choices[0]!.value);
    }
  }

  async function twoSessions() {
    t = await startTestBot();
    await t.command('/backup-setup c-sandbox-dedicated');
    const first = await approvalIn(t, 'c-sandbox-dedicated');
    await t.command('/backup-setup c-sandbox-registered');
    const second = await approvalIn(t, 'c-sandbox-registered');
    return { first, second };
  }

  const click = (message: Recorded, approvalId: string, sessionId: string, platform: 'web' | 'dingtalk' = 'web'): ChatEvent => ({
    kind: 'decision',
    eventId: testEventId(),
    sessionId,
    approvalId,
    decision: 'approve',
    actor: platform === 'web' ? APPROVER : { id: 'dingtalk:boss', name: 'Boss' },
    conversation: { ...message.conversation, platform },
    messageId: message.messageId,
  });

  it("refuses a click on one session's message that carries another session's approval", async () => {
    const { first, second } = await twoSessions();
    if (first.reply.kind !== 'approval' || second.reply.kind !== 'approval') throw new Error('not approvals');
    await t!.bot.handler(click(first, second.reply.prompt.approvalId, first.reply.sessionId), t!.chat.tellerFor(APPROVER.id));
    await t!.bot.idle();
    expect(t!.chat.told.at(-1)).toEqual({ userId: APPROVER.id, text: 'This button belongs to another setup than its approval; your click changed nothing.' });
    await t!.bot.handler(click(first, second.reply.prompt.approvalId, second.reply.sessionId), t!.chat.tellerFor(APPROVER.id));
    await t!.bot.idle();
    expect(t!.chat.told.at(-1)!.text).toBe('This click did not come from the message that shows this approval; it changed nothing.');
    expect(first.updates).toEqual([]);
    expect(second.updates).toEqual([]);
    expect(t!.sandbox.faults.ram.calls.filter((c) => c === 'CreateUser')).toEqual([]);
  }, 60_000);

  it('refuses a decision from another platform than the session lives on', async () => {
    t = await startTestBot({ approvers: [APPROVER.id, 'dingtalk:boss'] });
    await t.command('/backup-setup c-sandbox-dedicated');
    const approval = await firstApproval(t);
    if (approval.reply.kind !== 'approval') throw new Error('not an approval');
    await t.bot.handler(click(approval, approval.reply.prompt.approvalId, approval.reply.sessionId, 'dingtalk'), t.chat.tellerFor('dingtalk:boss'));
    await t.bot.idle();
    expect(t.chat.told.at(-1)!.text).toBe('This setup runs in web; a click from dingtalk changes nothing.');
    expect(approval.updates).toEqual([]);
  }, 60_000);
});

describe('messages rendered from the store', () => {
  it('a decided approval keeps what was approved after a restart, and says who decided', async () => {
    t = await startTestBot();
    await t.command('/backup-setup c-sandbox-dedicated');
    const approval = await firstApproval(t);
    await t.restart();
    await t.decide(approval, 'approve');
    const decided = await t.chat.until(() => approval.updates.find((u) => u.kind === 'decided'));
    expect(decided).toMatchObject({ decision: 'approved', by: APPROVER.id, shown: { kind: 'approval', prompt: approval.reply.kind === 'approval' ? approval.reply.prompt : null } });
  }, 60_000);

  it('a cancel closes the open approval: no buttons, and why', async () => {
    t = await startTestBot();
    await t.command('/backup-setup c-sandbox-dedicated');
    const approval = await firstApproval(t);
    await t.command('/backup-setup cancel c-sandbox-dedicated');
    const closed = await t.chat.until(() => approval.updates.find((u) => u.kind === 'decided'));
    expect(closed).toMatchObject({ decision: 'closed', reason: 'the setup was cancelled' });
    const region = t.chat.messages.find((m) => m.reply.kind === 'question' && m.reply.prompt.questionId === 'region')!;
    expect(region.updates).toEqual([expect.objectContaining({ kind: 'answered', answer: expect.objectContaining({ by: REQUESTER.id }) })]);
  }, 60_000);
});

describe('operations truth', () => {
  it('names the flow after the preflight and counts every ending', async () => {
    t = await startTestBot();
    await t.command('/backup-setup c-sandbox-dedicated');
    await firstApproval(t);
    const row = (await t.store.findActiveSession('c-sandbox-dedicated'))!;
    expect(row.flow).toBe('dedicated');
    await t.command('/backup-setup status c-sandbox-dedicated');
    expect(t.chat.replies('text').at(-1)!.text).toContain('(dedicated flow)');
    // An unsupported cluster is an ending too.
    await t.command('/backup-setup c-sandbox-serverless-basic');
    await t.chat.until(() => t!.chat.replies('done').length === 1);
    const metrics = await t.metrics.registry.getSingleMetricAsString('backup_setup_sessions_ended_total');
    expect(metrics).toContain('backup_setup_sessions_ended_total{status="unsupported"} 1');
    expect(await t.metrics.registry.getSingleMetricAsString('backup_setup_sessions_started_total')).toContain('backup_setup_sessions_started_total 2');
  }, 60_000);
});
