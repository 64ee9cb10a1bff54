// Benchmark 4: a fleet of 50 managed clusters set up by one command, over emulators that answer every
// call after 50 ms and a CS that throttles beyond R calls per second. The wall time is compared with what
// the job needs at best, measured with a plain script (bench/baseline-setup.ts) on one more cluster: the
// clusters × its CS calls at R per second, or its own wall time (the chain of dependent calls and polls),
// whichever is longer. The bot's own call count does not enter the bound.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createBot } from '../src/bot.ts';
import type { Reply } from '../src/chat/model.ts';
import { parseCommand } from '../src/chat/grammar.ts';
import { createCloudClients } from '../src/executor/clients.ts';
import { createExecutor } from '../src/executor/index.ts';
import { DEFAULT_RATE_LIMITS } from '../src/executor/rate-limit.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import type { FaultPlan } from '../src/sandbox/faults.ts';
import { startSandbox } from '../src/sandbox/index.ts';
import { openStore } from '../src/store/index.ts';
import { APPROVER, CHANNEL, REQUESTER } from '../test/support/bot-harness.ts';
import { RecordingChat } from '../test/support/recording-chat.ts';
import { cloneClusters } from '../test/support/sandbox-state.ts';
import { ratio, round, type BenchResult } from './stats.ts';
import { plainManagedSetup } from './baseline-setup.ts';
import { SEED_BUCKET } from '../src/sandbox/seed.ts';
import { createdAccessKeysIn } from '../src/store/created-access-keys.ts';

const benchEventId = () => `bench:${randomUUID()}`;

const CLUSTERS = 50;
const TEMPLATE = 'c-sandbox-managed';
const LATENCY_MS = 50;
/** The emulated CS flow control: R calls per second, as a bucket of one second's worth. */
const CS_RATE = 20;
const CS_BURST = CS_RATE;
const POLL_MS = 100;
const GOAL = 1.3;
/** The bot's own CS pace (calls/s); the product default unless BENCH_FLEET_BOT_CS_RATE says otherwise. */
const BOT_CS_RATE = Number(process.env.BENCH_FLEET_BOT_CS_RATE ?? DEFAULT_RATE_LIMITS.perSecond.cs);

type Approval = Extract<Reply, { kind: 'approval' }>;

/** Which operations the flow control refused, by name (FaultPlan counts only the total), and when the last call came. */
function watchCalls(plan: FaultPlan): { throttledBy: Map<string, number>; lastCallAt: number } {
  const watch = { throttledBy: new Map<string, number>(), lastCallAt: 0 };
  const take = plan.take.bind(plan);
  plan.take = (operation: string) => {
    const before = plan.throttled;
    const faults = take(operation);
    watch.lastCallAt = performance.now();
    if (plan.throttled > before) watch.throttledBy.set(operation, (watch.throttledBy.get(operation) ?? 0) + 1);
    return faults;
  };
  return watch;
}

export async function fleet(): Promise<BenchResult> {
  const sandbox = await startSandbox();
  const ids = Array.from({ length: CLUSTERS }, (_, i) => `c-fleet-${String(i).padStart(2, '0')}`);
  const plainId = 'c-fleet-plain';
  cloneClusters(sandbox, TEMPLATE, [...ids, plainId]);
  for (const plan of Object.values(sandbox.faults)) plan.add({ operation: '*', fault: { kind: 'latency', ms: LATENCY_MS } });
  sandbox.faults.cs.add({ operation: '*', fault: { kind: 'rateLimit', perSecond: CS_RATE, burst: CS_BURST } });
  const csWatch = watchCalls(sandbox.faults.cs);
  const throttledBy = csWatch.throttledBy;

  // The product's executor (default retry and client-side rate limits), polls shortened to POLL_MS.
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-fleet-'));
  const logger = pino({ level: 'silent' });
  const store = await openStore({ databaseUrl: null, stateDir });
  const metrics = createMetrics(() => store.countActiveSessionsByState());
  const clients = createCloudClients({
    credentials: sandbox.botCredentials,
    endpoints: { ram: sandbox.endpoints.ram, cs: sandbox.endpoints.cs, oss: sandbox.endpoints.oss },
    protocol: 'http',
  });
  // The job one cluster needs, done by a plain script before the fleet starts: its CS calls and its wall time.
  const plainStarted = performance.now();
  await plainManagedSetup(clients, { clusterId: plainId, bucket: SEED_BUCKET, pollMs: POLL_MS });
  const chainMs = performance.now() - plainStarted;
  const plainCsCalls = sandbox.faults.cs.calls.length - sandbox.faults.cs.throttled;
  const csBefore = { calls: sandbox.faults.cs.calls.length, throttled: sandbox.faults.cs.throttled };

  const rateLimits = { ...DEFAULT_RATE_LIMITS, perSecond: { ...DEFAULT_RATE_LIMITS.perSecond, cs: BOT_CS_RATE } };
  const executor = createExecutor({ clients, createdAccessKeys: createdAccessKeysIn(store), logger, metrics, rateLimits, pollIntervalMs: POLL_MS });
  const bot = createBot({
    store, executor, logger, metrics, approvers: [APPROVER.id], allowSelfApproval: false, approvalTtlMs: 3_600_000,
    channelClusters: null, now: () => new Date(), owner: 'bench',
  });
  const chat = new RecordingChat();
  bot.attach(chat);

  const text = `/backup-setup ${ids.join(' ')}`;
  const parsed = parseCommand(text);
  if (!parsed.ok) throw new Error(`the fleet command does not parse: ${parsed.error}`);

  const started = performance.now();
  await bot.handler({ kind: 'command', eventId: benchEventId(), command: parsed.command, text, actor: REQUESTER, conversation: CHANNEL }, chat.tellerFor(REQUESTER.id));
  const handled = new Set<string>();
  const approvals: Approval[] = [];
  let summary: Extract<Reply, { kind: 'done' }>;
  for (;;) {
    const next = await chat.until(
      () => chat.messages.find((m) => !handled.has(m.messageId) && ['approval', 'done', 'question'].includes(m.reply.kind)),
      120_000,
    );
    handled.add(next.messageId);
    const reply = next.reply;
    if (reply.kind === 'question') throw new Error(`the fleet asked a question: ${reply.prompt.text}`);
    if (reply.kind === 'done') {
      summary = reply;
      break;
    }
    if (reply.kind !== 'approval') continue;
    approvals.push(reply);
    await bot.handler(
      { kind: 'decision', eventId: benchEventId(), sessionId: reply.sessionId, approvalId: reply.prompt.approvalId, decision: 'approve', actor: APPROVER, conversation: next.conversation, messageId: next.messageId },
      chat.tellerFor(APPROVER.id),
    );
    await bot.idle();
  }
  const finished = performance.now();
  const wallMs = finished - started;
  const afterCsMs = finished - csWatch.lastCallAt;

  const rows = summary.text.split('\n').filter((line) => ids.some((id) => line.startsWith(`${id} `)));
  const done = rows.filter((line) => /\bdone\b/.test(line)).length;
  const cs = { calls: sandbox.faults.cs.calls.length - csBefore.calls, throttled: sandbox.faults.cs.throttled - csBefore.throttled };
  const csAdmitted = cs.calls - cs.throttled;
  const neededCs = CLUSTERS * plainCsCalls;
  const rateBoundMs = (Math.max(0, neededCs - CS_BURST) / CS_RATE) * 1000;
  const boundMs = Math.max(rateBoundMs, chainMs);
  const overall = ratio(wallMs, boundMs);
  const calls = (['ram', 'cs', 'oss', 'kube'] as const).map((s) => `${s} ${sandbox.faults[s].calls.length}`).join(', ');
  const failures = rows.filter((line) => !/\bdone\b/.test(line));

  await bot.sessions.drain();
  await store.close();
  await sandbox.close();
  rmSync(stateDir, { recursive: true, force: true });

  return {
    name: `Fleet (${CLUSTERS} managed clusters, ${LATENCY_MS} ms per call, CS limited to ${CS_RATE}/s burst ${CS_BURST})`,
    figures: [
      { metric: 'command to summary', value: round(wallMs / 1000), unit: 's', baseline: round(boundMs / 1000), ratio: overall, goal: `≤ ${GOAL}× the bound`, met: overall <= GOAL },
      { metric: 'clusters done', value: done, unit: `of ${CLUSTERS}`, goal: `${CLUSTERS}, no error surfaced`, met: done === CLUSTERS && summary.ok },
      { metric: 'CS requests', value: cs.calls, unit: 'calls', baseline: neededCs, ratio: ratio(cs.calls, neededCs), goal: '≤ 1.3× the needed', met: cs.calls <= 1.3 * neededCs },
      { metric: 'CS requests throttled (retried by the bot)', value: cs.throttled, unit: 'calls' },
      { metric: 'fleet approvals', value: approvals.length, unit: 'messages' },
    ],
    notes: [
      `bound = max(rate bound, latency bound), from what the job needs: a plain script set up one more cluster (${plainId}) first, ` +
        `with ${plainCsCalls} CS requests in ${round(chainMs / 1000)} s (its chain of dependent calls and polls: the latency bound). ` +
        `Rate bound: ${CLUSTERS} clusters × ${plainCsCalls} CS requests = ${neededCs}, minus the burst of ${CS_BURST}, at ${CS_RATE}/s = ${round(rateBoundMs / 1000)} s. ` +
        `The bot sent ${cs.calls} CS requests (${round(cs.calls / neededCs)}× the needed ${neededCs}; ${csAdmitted} admitted, ${cs.throttled} throttled).`,
      `throttled by operation: ${[...throttledBy].map(([op, n]) => `${op} ${n}`).join(', ') || 'none'}.`,
      `calls by service: ${calls}. The bot's limiter paces CS at ${BOT_CS_RATE}/s with ${DEFAULT_RATE_LIMITS.concurrency} calls in flight ` +
        '(other limits as DEFAULT_RATE_LIMITS). Each step waits for every cluster before its one approval, so phases do not overlap: ' +
        `the last CS request came ${round(afterCsMs / 1000)} s before the summary (the backup-vault phase, which sends no CS request), time the CS bound does not cover.`,
      `approvals: ${approvals.map((a) => `${a.prompt.request.step} (${a.covers?.length ?? 1} clusters)`).join(', ')}.`,
      ...(failures.length ? [`not done: ${failures.slice(0, 5).join(' | ')}`] : []),
    ],
  };
}
