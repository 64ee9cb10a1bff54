// A whole bot for end-to-end tests: the emulated account, the real SDK clients and executor, a real
// SQLite store, and a recording chat. Logs are captured raw (before the secret scrubber) so a leak is
// caught where it starts.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { QuestionId } from '../../flows/contract.ts';
import { createBot, type Bot } from '../../src/bot.ts';
import type { Actor, Conversation, Reply } from '../../src/chat/model.ts';
import { parseCommand } from '../../src/chat/grammar.ts';
import { createCloudClients } from '../../src/executor/clients.ts';
import { createExecutor } from '../../src/executor/index.ts';
import { createMetrics, type Metrics } from '../../src/observability/metrics.ts';
import { cloudEndpointsOf, startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import type { Store } from '../../src/store/contract.ts';
import { openStore } from '../../src/store/index.ts';
import { RecordingChat, type Recorded } from './recording-chat.ts';
import { createdAccessKeysIn } from '../../src/store/created-access-keys.ts';
import type { ChannelBinding } from '../../src/config/channel-clusters.ts';

export const REQUESTER: Actor = { id: 'web:requester', name: 'Requester' };
export const APPROVER: Actor = { id: 'web:approver', name: 'Approver' };
export const BYSTANDER: Actor = { id: 'web:bystander', name: 'Bystander' };
/** DESIGN.md's completion message: a successful setup's closing message begins with this. */
export const COMPLETE = /^✅ Backup center setup complete/;
export const CHANNEL: Conversation = { platform: 'web', channelId: 'ops' };

/** Each test event is a new delivery. */
export const testEventId = () => `test:${randomUUID()}`;

export interface TestBot {
  sandbox: Sandbox;
  store: Store;
  bot: Bot;
  metrics: Metrics;
  chat: RecordingChat;
  /** Every log line, raw. */
  logs: string[];
  command(text: string, actor?: Actor, conversation?: Conversation): Promise<void>;
  /** Answers the question (or decides the approval) posted in `message`. */
  answer(message: Recorded, value: string, actor?: Actor): Promise<void>;
  decide(message: Recorded, decision: 'approve' | 'deny', actor?: Actor, reason?: string): Promise<void>;
  /** Restarts the bot (not the emulators) on the same store file, as a new process would. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestBotOptions {
  sandbox?: Sandbox;
  approvers?: string[];
  allowSelfApproval?: boolean;
  approvalTtlMs?: number;
  now?: () => Date;
  retry?: { attempts: number; baseMs: number; capMs: number };
  /** How often add-on tasks and rollouts are polled (the product polls every 3 s). */
  pollIntervalMs?: number;
  /** PostgreSQL instead of the SQLite file. */
  databaseUrl?: string;
  /** Runs the resumer this often, as the product does every 5 s (off unless set). */
  resumeEveryMs?: number;
  /** WATCH_INTERVAL: the watch's checks run on their timer when set (off unless set). */
  watchIntervalMs?: number;
  /** This process's instance id (replica tests give each its own). */
  owner?: string;
  /** CHANNEL_CLUSTERS (default: unset, any channel may set up any cluster). */
  channelClusters?: ChannelBinding[] | null;
}

export async function startTestBot(options: TestBotOptions = {}): Promise<TestBot> {
  const stateDir = mkdtempSync(join(tmpdir(), 'bot-e2e-'));
  const ownSandbox = !options.sandbox;
  const sandbox = options.sandbox ?? (await startSandbox());
  const logs: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  const chat = new RecordingChat();
  const clients = createCloudClients({
    credentials: sandbox.botCredentials,
    endpoints: cloudEndpointsOf(sandbox),
    protocol: 'http',
  });
  const retry = options.retry ?? { attempts: 5, baseMs: 5, capMs: 50 };

  let store: Store;
  let bot: Bot;
  let metrics: Metrics;
  let stopHousekeeping = () => {};
  // One instance, as a process keeps its id under STATE_DIR across restarts.
  const owner = options.owner ?? `test:${Math.random().toString(36).slice(2)}`;
  const build = async () => {
    store = await openStore({ databaseUrl: options.databaseUrl ?? null, stateDir });
    metrics = createMetrics(
      () => store.countActiveSessionsByState(),
      async () => (await store.listWatches()).map((w) => ({ clusterId: w.clusterId, enabled: w.enabled, drifted: w.drift !== null })),
    );
    const executor = createExecutor({
      clients, createdAccessKeys: createdAccessKeysIn(store), logger, metrics, retry, pollIntervalMs: options.pollIntervalMs ?? 20, emulatedConsole: sandbox.console,
    });
    bot = createBot({
      store,
      executor,
      logger,
      metrics,
      approvers: options.approvers ?? [APPROVER.id],
      allowSelfApproval: options.allowSelfApproval ?? false,
      approvalTtlMs: options.approvalTtlMs ?? 15 * 60_000,
      channelClusters: options.channelClusters ?? null,
      now: options.now ?? (() => new Date()),
      owner,
      watchIntervalMs: options.watchIntervalMs ?? null,
    });
    bot.attach(chat);
    if (options.resumeEveryMs) stopHousekeeping = bot.startHousekeeping({ resumeEveryMs: options.resumeEveryMs, sweepEveryMs: 3_600_000 });
    else if (options.watchIntervalMs) stopHousekeeping = bot.watcher.start();
  };
  await build();

  const threadOf = (message: Recorded): Conversation => message.conversation;
  const harness: TestBot = {
    sandbox,
    get store() {
      return store;
    },
    get bot() {
      return bot;
    },
    get metrics() {
      return metrics;
    },
    chat,
    logs,
    async command(text, actor = REQUESTER, conversation = CHANNEL) {
      const parsed = parseCommand(text);
      if (!parsed.ok) throw new Error(`test sent an unparsable command: ${parsed.error}`);
      await bot.handler({ kind: 'command', eventId: testEventId(), command: parsed.command, text, actor, conversation }, chat.tellerFor(actor.id));
      await bot.idle();
    },
    async answer(message, value, actor = REQUESTER) {
      const reply = message.reply;
      if (reply.kind !== 'question') throw new Error(`message ${message.messageId} is a ${reply.kind}, not a question`);
      await bot.handler(
        { kind: 'answer', eventId: testEventId(), sessionId: reply.sessionId, questionId: reply.prompt.questionId, value, actor, conversation: threadOf(message) },
        chat.tellerFor(actor.id),
      );
      await bot.idle();
    },
    async decide(message, decision, actor = APPROVER, reason) {
      const reply = message.reply;
      if (reply.kind !== 'approval') throw new Error(`message ${message.messageId} is a ${reply.kind}, not an approval`);
      await bot.handler(
        {
          kind: 'decision',
          eventId: testEventId(),
          sessionId: reply.sessionId,
          approvalId: reply.prompt.approvalId,
          decision,
          actor,
          conversation: threadOf(message),
          messageId: message.messageId,
          ...(reason === undefined ? {} : { reason }),
        },
        chat.tellerFor(actor.id),
      );
      await bot.idle();
    },
    async restart() {
      stopHousekeeping();
      await bot.sessions.drain();
      await store.close();
      await build();
      await bot.resume({ startUp: true });
      await bot.idle();
    },
    async stop() {
      stopHousekeeping();
      await bot.idle();
      await bot.sessions.drain();
      await store.close();
      if (ownSandbox) await sandbox.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return harness;
}

export interface DriveOptions {
  /**
   * Answer per question, or a function that plays that moment (it may answer itself first) and
   * returns the answer to give; a question without one gets its suggested default (first choice).
   */
  answers?: Partial<Record<QuestionId, string | ((question: Recorded) => Promise<string>)>>;
  /** Decision per approval, by step name; default approve. */
  decisions?: Partial<Record<string, 'approve' | 'deny'>>;
  approver?: Actor;
  /** How the session's first message begins (a test-backup session's is "Test backup"). */
  parent?: string;
  /** The session lives in this thread (a Fix, under its drift message) instead of under its own first message. */
  threadId?: string;
}

/**
 * Plays the people of a setup: answers each question and decides each approval as it appears in the
 * thread of the session on `clusterId`, until the closing message. Returns the closing reply.
 */
export async function driveToEnd(t: TestBot, clusterId: string, options: DriveOptions = {}): Promise<Extract<Reply, { kind: 'done' }>> {
  // In a thread given, what an earlier session there left (closed, decided, answered) is not played again.
  const settled = (m: Recorded) => m.conversation.threadId === options.threadId && (m.reply.kind === 'done' || m.updates.length > 0);
  const handled = new Set<string>(options.threadId ? t.chat.messages.filter(settled).map((m) => m.messageId) : []);
  const parent = `${options.parent ?? 'Backup center setup'} for \`${clusterId}\``;
  const threadId = options.threadId ?? await t.chat.until(() => t.chat.messages.findLast((m) => !m.conversation.threadId && (m.reply.kind === 'text' || m.reply.kind === 'status') && m.reply.text.startsWith(parent))?.messageId);
  const inThread = () => t.chat.messages.filter((m) => m.conversation.threadId === threadId);
  for (;;) {
    const next = await t.chat.until(() =>
      inThread().find((m) => !handled.has(m.messageId) && (m.reply.kind === 'question' || m.reply.kind === 'approval' || m.reply.kind === 'done')),
    );
    handled.add(next.messageId);
    const reply = next.reply;
    if (reply.kind === 'done') return reply;
    if (reply.kind === 'question') {
      const given = options.answers?.[reply.prompt.questionId];
      const value = typeof given === 'function' ? await given(next) : (given ?? reply.prompt.choices[0]?.value);
      if (value === undefined) throw new Error(`question ${reply.prompt.questionId} has no default and no answer was given`);
      await t.answer(next, value);
    } else if (reply.kind === 'approval') {
      await t.decide(next, options.decisions?.[reply.prompt.request.step] ?? 'approve', options.approver ?? APPROVER);
    }
  }
}

/** The privileged steps approved in a thread, in order. */
export function approvedSteps(chat: RecordingChat): string[] {
  return chat.messages
    .filter((m) => m.reply.kind === 'approval' && m.updates.some((u) => u.kind === 'decided' && u.decision === 'approved'))
    .map((m) => (m.reply as Extract<Reply, { kind: 'approval' }>).prompt.request.step);
}

/** The outcome reported for each step, in order ("created", "already present", …). */
export function stepResults(chat: RecordingChat): { step: string; outcome: string }[] {
  return chat.replies('result').map((r) => ({ step: r.outcome.step, outcome: r.outcome.outcome }));
}

/** Answers every question with its suggestion until the first approval, and returns that approval. */
export async function firstApproval(t: TestBot): Promise<Recorded> {
  const handled = new Set<string>();
  for (;;) {
    const next = await t.chat.until(() =>
      t.chat.messages.find((m) => !handled.has(m.messageId) && (m.reply.kind === 'question' || m.reply.kind === 'approval' || m.reply.kind === 'done')),
    );
    handled.add(next.messageId);
    if (next.reply.kind === 'approval') return next;
    if (next.reply.kind === 'done') throw new Error(`closed before any approval: ${next.reply.text}`);
    if (next.reply.kind === 'question') await t.answer(next, next.reply.prompt.choices[0]!.value);
  }
}
