// Benchmark 3: sessions at scale. Memory per in-flight session with 1,000 sessions waiting for an
// approval, and the time to restore them all after a restart.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createBot, type Bot } from '../src/bot.ts';
import type { ChatPort, Conversation, PostedMessage, Reply } from '../src/chat/model.ts';
import { createCloudClients } from '../src/executor/clients.ts';
import { createExecutor } from '../src/executor/index.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { startSandbox } from '../src/sandbox/index.ts';
import type { Store } from '../src/store/contract.ts';
import { openStore } from '../src/store/index.ts';
import { cloneClusters } from '../test/support/sandbox-state.ts';
import { round, type BenchResult } from './stats.ts';
import { createdAccessKeysIn } from '../src/store/created-access-keys.ts';

const benchEventId = () => `bench:${randomUUID()}`;

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const REQUESTER = { id: 'web:requester', name: 'Requester' };

/** A chat that keeps only what is needed to answer: the last question or approval per session. */
class CountingChat implements ChatPort {
  readonly platform = 'web' as const;
  posts = 0;
  readonly waiting = new Map<string, Reply>();
  async post(conversation: Conversation, reply: Reply): Promise<PostedMessage> {
    this.posts++;
    if (reply.kind === 'question' || reply.kind === 'approval') this.waiting.set(reply.sessionId, reply);
    return { conversation, messageId: `m${this.posts}` };
  }
  async update(): Promise<void> {}
  async tell(): Promise<void> {}
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();

export async function scale(): Promise<BenchResult> {
  if (!(globalThis as { gc?: unknown }).gc) throw new Error('run with node --expose-gc (npm run bench does)');
  const sandbox = await startSandbox();
  const ids = Array.from({ length: SESSIONS }, (_, i) => `c-scale-${String(i).padStart(4, '0')}`);
  cloneClusters(sandbox, 'c-sandbox-dedicated', ids);
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  const logger = pino({ level: 'silent' });
  const clients = createCloudClients({
    credentials: sandbox.credentials,
    endpoints: { ram: sandbox.endpoints.ram, cs: sandbox.endpoints.cs, oss: sandbox.endpoints.oss },
    protocol: 'http',
  });
  const build = async (): Promise<{ store: Store; bot: Bot; chat: CountingChat }> => {
    const store = await openStore({ databaseUrl: null, stateDir });
    const metrics = createMetrics(() => store.countActiveSessionsByState());
    const executor = createExecutor({ clients, createdAccessKeys: createdAccessKeysIn(store), logger, metrics });
    const bot = createBot({
      store, executor, logger, metrics, approvers: ['web:approver'], allowSelfApproval: false, approvalTtlMs: 3_600_000,
      channelClusters: null, now: () => new Date(), owner: 'bench',
    });
    const chat = new CountingChat();
    bot.attach(chat);
    return { store, bot, chat };
  };

  let { store, bot, chat } = await build();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;

  // Each setup is answered with its suggestions until it waits on its first approval.
  const conversation: Conversation = { platform: 'web', channelId: 'scale' };
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id; id = queue.shift()) {
      await bot.handler({ kind: 'command', eventId: benchEventId(), command: { verb: 'setup', clusterIds: [id] }, text: id, actor: REQUESTER, conversation }, async () => {});
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  await bot.idle();
  for (;;) {
    const questions = [...chat.waiting.values()].filter((r): r is Extract<Reply, { kind: 'question' }> => r.kind === 'question');
    if (questions.length === 0) break;
    await Promise.all(
      questions.map((q) => {
        chat.waiting.delete(q.sessionId);
        return bot.handler(
          { kind: 'answer', eventId: benchEventId(), sessionId: q.sessionId, questionId: q.prompt.questionId, value: q.prompt.choices[0]!.value, actor: REQUESTER, conversation },
          async () => {},
        );
      }),
    );
    await bot.idle();
  }
  const approvals = [...chat.waiting.values()].filter((r) => r.kind === 'approval').length;
  if (approvals !== SESSIONS) throw new Error(`expected ${SESSIONS} sessions waiting for approval, got ${approvals}`);
  chat.waiting.clear();
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  const perSession = (heapAfter - heapBefore) / SESSIONS;

  // Restart: a new store connection and bot on the same file, as a new process would start.
  await bot.sessions.drain();
  await store.close();
  ({ store, bot, chat } = await build());
  const started = performance.now();
  await bot.resume();
  const restoreMs = performance.now() - started;
  const active = Object.values(await store.countActiveSessionsByState()).reduce((a, b) => a + b, 0);
  if (active !== SESSIONS) throw new Error(`after restart ${active} sessions are active, expected ${SESSIONS}`);

  await store.close();
  await sandbox.close();
  rmSync(stateDir, { recursive: true, force: true });
  return {
    name: `Scale (${SESSIONS} sessions waiting for approval, SQLite)`,
    figures: [
      { metric: 'heap per waiting session', value: round(perSession / 1024), unit: 'KB', goal: '≤ 20 KB', met: perSession <= 20 * 1024 },
      { metric: 'restore all after restart', value: round(restoreMs), unit: 'ms', goal: '< 1000 ms', met: restoreMs < 1000 },
    ],
    notes: ['Between events a session lives in the store, not in memory: the heap figure is what stays in the process per waiting session.'],
  };
}
