// Benchmark 3: sessions at scale, on SQLite and on PostgreSQL.
// - Retained heap per session waiting for an approval, for sessions made through the bot: rounds of
//   sessions, a forced GC before each reading, the median of the per-round differences.
// - 10,000 sessions waiting for an approval (the bot's own sessions, copied in the store), then a
//   restart: how long until the bot takes events again with every session usable, and that a click on
//   one of them works.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { createBot, type Bot } from '../src/bot.ts';
import type { ChatPort, Conversation, PostedMessage, Reply } from '../src/chat/model.ts';
import { createCloudClients } from '../src/executor/clients.ts';
import { createExecutor } from '../src/executor/index.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import type { Store } from '../src/store/contract.ts';
import { openStore } from '../src/store/index.ts';
import { openPostgres } from '../src/store/postgres.ts';
import { openSqlite } from '../src/store/sqlite.ts';
import type { Sql } from '../src/store/sql.ts';
import { postgresUrl } from '../test/support/postgres.ts';
import { startRemoteSandbox, type RemoteSandbox } from './remote-sandbox.ts';
import { cloudEndpointsOf } from '../src/sandbox/index.ts';
import { median, round, type BenchResult } from './stats.ts';
import { createdAccessKeysIn } from '../src/store/created-access-keys.ts';

const WAITING = Number(process.env.BENCH_SESSIONS ?? 10_000);
const ROUNDS = 5;
/** Rounds first made and not measured: the code paths get compiled and warm, caches fill. */
const WARMUP_ROUNDS = 2;
const PER_ROUND = Number(process.env.BENCH_SESSIONS_PER_ROUND ?? 100);
const REQUESTER = { id: 'web:requester', name: 'Requester' };
const APPROVER = { id: 'web:approver', name: 'Approver' };
const CONVERSATION: Conversation = { platform: 'web', channelId: 'scale' };
const eventId = () => `bench:${randomUUID()}`;
const gc = () => (globalThis as { gc?: () => void }).gc!();

/** A chat that keeps only what is needed to answer: the last question or approval per session. */
class CountingChat implements ChatPort {
  readonly platform = 'web' as const;
  posts = 0;
  readonly waiting = new Map<string, { reply: Reply; messageId: string }>();
  async post(conversation: Conversation, reply: Reply): Promise<PostedMessage> {
    const messageId = `m${++this.posts}`;
    if (reply.kind === 'question' || reply.kind === 'approval') this.waiting.set(reply.sessionId, { reply, messageId });
    return { conversation, messageId };
  }
  async update(): Promise<void> {}
  async tell(): Promise<void> {}
}

interface Backend {
  name: 'SQLite' | 'PostgreSQL';
  open(): Promise<Store>;
  raw(): Promise<Sql>;
  close(): Promise<void>;
}

function sqlite(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  return {
    name: 'SQLite',
    open: () => openStore({ databaseUrl: null, stateDir: dir }),
    raw: async () => openSqlite(join(dir, 'bot.sqlite')),
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgres(): Promise<Backend> {
  const schema = `bench_scale_${Math.random().toString(36).slice(2, 10)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await admin(`CREATE SCHEMA ${schema}`);
  const url = `${postgresUrl()}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    name: 'PostgreSQL',
    open: () => openStore({ databaseUrl: url, stateDir: '/nonexistent' }),
    raw: () => openPostgres(url),
    close: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`),
  };
}

function botOn(store: Store, sandbox: RemoteSandbox): { bot: Bot; chat: CountingChat } {
  const logger = pino({ level: 'silent' });
  const clients = createCloudClients({
    credentials: sandbox.botCredentials,
    endpoints: cloudEndpointsOf(sandbox),
    protocol: 'http',
  });
  const metrics = createMetrics(() => store.countActiveSessionsByState());
  const bot = createBot({
    store,
    executor: createExecutor({ clients, createdAccessKeys: createdAccessKeysIn(store), logger, metrics }),
    logger,
    metrics,
    approvers: [APPROVER.id],
    allowSelfApproval: false,
    approvalTtlMs: 24 * 3_600_000,
    channelClusters: null,
    now: () => new Date(),
    owner: 'bench-scale',
  });
  const chat = new CountingChat();
  bot.attach(chat);
  return { bot, chat };
}

/** Sets up each cluster, answering with the suggestions, until every one waits on its first approval. */
async function untilApprovals(bot: Bot, chat: CountingChat, ids: string[]): Promise<void> {
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id; id = queue.shift()) {
      await bot.handler({ kind: 'command', eventId: eventId(), command: { verb: 'setup', clusterIds: [id] }, text: id, actor: REQUESTER, conversation: CONVERSATION }, async () => {});
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  await bot.idle();
  for (;;) {
    const questions = [...chat.waiting.values()].filter((w) => w.reply.kind === 'question');
    if (questions.length === 0) return;
    for (const { reply, messageId } of questions) {
      if (reply.kind !== 'question') continue;
      chat.waiting.delete(reply.sessionId);
      await bot.handler(
        { kind: 'answer', eventId: eventId(), sessionId: reply.sessionId, questionId: reply.prompt.questionId, value: reply.prompt.choices[0]!.value, messageId, actor: REQUESTER, conversation: CONVERSATION },
        async () => {},
      );
    }
    await bot.idle();
  }
}

/** Copies the session (and its approval) `count` times under new session and cluster ids, in the store itself. */
async function copySessions(sql: Sql, template: string, count: number): Promise<string[]> {
  const [session] = await sql.query('SELECT * FROM sessions WHERE id = $1', [template]);
  const approvals = await sql.query('SELECT * FROM approvals WHERE session_id = $1', [template]);
  if (!session) throw new Error('no template session');
  const ids: string[] = [];
  const text = (value: unknown, id: string) => (typeof value === 'string' ? value.replaceAll(template, id) : (value as null));
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    ids.push(id);
    const cluster = `${String(session.cluster_id)}-copy-${i}`;
    await sql.query(
      `INSERT INTO sessions (id, cluster_id, flow, flow_version, requester, platform, channel_id, conversation, thread_id, snapshot, state, status,
         revision, created_at, updated_at, waiting, prompt_key, driver, driver_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12, $13, $14, $15, $16, $17, $18)`,
      [id, cluster, session.flow as string, Number(session.flow_version), session.requester as string, session.platform as string, session.channel_id as string,
        session.conversation as string, `t-${i}`, text(session.snapshot, id), session.state as string, Number(session.revision), Number(session.created_at),
        Number(session.updated_at), Number(session.waiting), text(session.prompt_key, id), session.driver as string, Number(session.driver_until)],
    );
    for (const a of approvals) {
      await sql.query(
        `INSERT INTO approvals (id, session_id, step, params_hash, requester, expires_at, shown, message_ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [text(a.id, id), id, a.step as string, a.params_hash as string, a.requester as string, Number(a.expires_at), text(a.shown, id), a.message_ref as string],
      );
    }
  }
  return ids;
}

async function scaleOn(backend: Backend): Promise<BenchResult['figures']> {
  // The emulators run in a process of their own: the heap measured here is the bot's.
  const made = Array.from({ length: (WARMUP_ROUNDS + ROUNDS) * PER_ROUND + 1 }, (_, i) => `c-scale-${String(i).padStart(5, '0')}`);
  const sandbox = await startRemoteSandbox({ copies: made.length });
  let store = await backend.open();
  let { bot, chat } = botOn(store, sandbox);

  // Retained heap: rounds of sessions made through the bot, each until it waits for its first approval.
  const differences: number[] = [];
  await untilApprovals(bot, chat, made.slice(0, 1));
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    chat.waiting.clear();
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    await untilApprovals(bot, chat, made.slice(1 + round * PER_ROUND, 1 + (round + 1) * PER_ROUND));
    chat.waiting.clear();
    gc();
    gc();
    if (round >= WARMUP_ROUNDS) differences.push((process.memoryUsage().heapUsed - before) / PER_ROUND);
  }
  const perSession = median(differences);

  // 10,000 waiting sessions: copies of one the bot made, in the store.
  const template = (await store.findActiveSession(made[0]!))!;
  const raw = await backend.raw();
  const copies = await copySessions(raw, template.id, WAITING - (made.length - 1));
  await raw.close();
  await bot.idle();
  await bot.sessions.drain();
  await store.close();

  // Restart: a new store and bot, as a new process starts; usable again once its start-up pass is done.
  const started = performance.now();
  store = await backend.open();
  ({ bot, chat } = botOn(store, sandbox));
  await bot.resume({ startUp: true });
  const restoreMs = performance.now() - started;
  const active = Object.values(await store.countActiveSessionsByState()).reduce((a, b) => a + b, 0);
  if (active < WAITING) throw new Error(`after the restart ${active} sessions are active, expected ${WAITING}`);

  // A click on one of the copies after the restart is taken: its step runs and it asks for the next one.
  const probe = (await store.getSession(copies.at(-1)!))!;
  const prompt = (probe.snapshot as { xstate: { context: { prompt: { approvalId: string } } } }).xstate.context.prompt;
  const approval = (await store.getApproval(prompt.approvalId))!;
  await bot.handler(
    { kind: 'decision', eventId: eventId(), sessionId: probe.id, approvalId: approval.id, decision: 'approve', actor: APPROVER, conversation: approval.messageRef!.conversation, messageId: approval.messageRef!.messageId },
    async () => {},
  );
  await bot.idle();
  const after = (await store.getSession(probe.id))!;
  if (after.revision === probe.revision) throw new Error('a click on a session copied before the restart changed nothing');

  // Retained heap at 10,000: the restarted bot holding every waiting session, against the same restart once the copies
  // are gone from the store; the difference over the copies is what each waiting session keeps in memory.
  let held: Awaited<ReturnType<typeof restartedHeap>> | null = await restartedHeap(backend, sandbox, () => bot.sessions.drain().then(() => store.close()));
  const heapWith = held.heap;
  await held.stop();
  held = null;
  const cleanup = await backend.raw();
  for (let i = 0; i < copies.length; i += 500) {
    const batch = copies.slice(i, i + 500);
    const marks = batch.map((_, k) => `$${k + 1}`).join(', ');
    await cleanup.query(`DELETE FROM approvals WHERE session_id IN (${marks})`, batch);
    await cleanup.query(`DELETE FROM steps WHERE session_id IN (${marks})`, batch);
    await cleanup.query(`DELETE FROM sessions WHERE id IN (${marks})`, batch);
  }
  await cleanup.close();
  const without = await restartedHeap(backend, sandbox, async () => {});
  const perRestored = (heapWith - without.heap) / copies.length;
  await without.stop();

  await sandbox.stop();
  await backend.close();
  return [
    { metric: `${backend.name}: retained heap per waiting session (rounds of ${PER_ROUND} made through the bot)`, value: round(perSession / 1024, 3), unit: 'KB', goal: '≤ 2 KB', met: perSession <= 2 * 1024 },
    {
      metric: `${backend.name}: retained heap per waiting session (${copies.length} restored by a restart)`, value: round(perRestored / 1024, 3), unit: 'KB', goal: '≤ 2 KB',
      met: perRestored <= 2 * 1024,
    },
    { metric: `${backend.name}: restart with ${WAITING} waiting sessions`, value: round(restoreMs), unit: 'ms', goal: '< 1000 ms', met: restoreMs < 1000 },
  ];
}

/** Stops what runs (`before`), starts a bot on the store as a restart does, and reads its heap after two forced GCs. */
async function restartedHeap(backend: Backend, sandbox: RemoteSandbox, before: () => Promise<void>): Promise<{ heap: number; stop(): Promise<void> }> {
  await before();
  const store = await backend.open();
  const { bot } = botOn(store, sandbox);
  await bot.resume({ startUp: true });
  await bot.idle();
  gc();
  gc();
  const heap = process.memoryUsage().heapUsed;
  return {
    heap,
    stop: async () => {
      await bot.sessions.drain();
      await store.close();
    },
  };
}

export async function scale(): Promise<BenchResult> {
  if (!(globalThis as { gc?: unknown }).gc) throw new Error('run with node --expose-gc (npm run bench does)');
  const figures = [...(await scaleOn(sqlite())), ...(await scaleOn(await postgres()))];
  return {
    name: `Scale (${WAITING} sessions waiting for approval)`,
    figures,
    notes: [
      `Heap: after ${WARMUP_ROUNDS} warm-up rounds, ${ROUNDS} rounds of ${PER_ROUND} sessions made through the bot up to their first approval ` +
        '(emulators in a process of their own), two forced GCs before each reading, the median of the per-round differences.',
      `Restored: the heap of a bot restarted on the ${WAITING} waiting sessions, minus that of the same restart once the copies are deleted, over the copies; ` +
        'the rounds made through the bot measure about 100 × the per-session cost against heap noise of ±100 KB, so they can read below zero. ' +
        'Restart: a new store connection and bot on the same database, then the start-up resume pass; between events a session lives only in the store, ' +
        'so a waiting session costs the restart nothing, and a click on one of the copied sessions is then taken (checked).',
    ],
  };
}


