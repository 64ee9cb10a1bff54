// Benchmark 4: a fleet of 500 managed clusters over 5 regions, set up with one `--region <r> --all` command per region,
// over emulators that answer every call after 50 ms, each region's CS endpoint throttling beyond R calls per second
// (CS endpoints are regional). The wall time is compared with what the job needs at best, measured with a plain script
// (bench/baseline-setup.ts) on one more cluster: per endpoint, the clusters × the script's CS calls there at R per second,
// or the script's own wall time (its chain of dependent calls and polls), whichever is longer. The bot's own call count
// does not enter the bound.
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
import { cloudEndpointsOf, startSandbox, type Sandbox } from '../src/sandbox/index.ts';
import { openStore } from '../src/store/index.ts';
import { createdAccessKeysIn } from '../src/store/created-access-keys.ts';
import { APPROVER, CHANNEL, REQUESTER } from '../test/support/bot-harness.ts';
import { RecordingChat } from '../test/support/recording-chat.ts';
import { cloneClusters } from '../test/support/sandbox-state.ts';
import { plainManagedSetup } from './baseline-setup.ts';
import { ratio, round, type BenchResult } from './stats.ts';

const benchEventId = () => `bench:${randomUUID()}`;

/** Regions without seeded clusters, so each `--all` command finds only the fleet's. */
const REGIONS = ['cn-shanghai', 'cn-beijing', 'cn-shenzhen', 'cn-zhangjiakou', 'cn-chengdu'];
/** The bot's default region: DescribeClusterDetail of every cluster goes to its endpoint (src/executor/clients.ts). */
const DEFAULT_REGION = 'cn-hangzhou';
/** Every CS endpoint the fleet uses: the default region's and the fleet's regions'. */
const ENDPOINTS = [DEFAULT_REGION, ...REGIONS];
const PER_REGION = Number(process.env.BENCH_FLEET_PER_REGION ?? 100);
const TEMPLATE = 'c-sandbox-managed';
const LATENCY_MS = 50;
/** Each regional CS endpoint's flow control: R calls per second, as a bucket of one second's worth. */
const CS_RATE = 20;
const CS_BURST = CS_RATE;
const POLL_MS = 100;
const GOAL = 1.3;

type Approval = Extract<Reply, { kind: 'approval' }>;

/** The bucket the managed clusters of a region back up to: cnfs-oss-, so their managed role reaches it. */
const bucketOf = (region: string) => `cnfs-oss-fleet-${region}`;

/** Which operations the flow control refused, by name (FaultPlan counts only the total). */
function watchThrottling(plan: FaultPlan, throttledBy: Map<string, number>): void {
  const take = plan.take.bind(plan);
  plan.take = (operation: string) => {
    const before = plan.throttled;
    const faults = take(operation);
    if (plan.throttled > before) throttledBy.set(operation, (throttledBy.get(operation) ?? 0) + 1);
    return faults;
  };
}

const csCounts = (sandbox: Sandbox) =>
  Object.fromEntries(ENDPOINTS.map((r) => [r, { calls: sandbox.regionalCs[r]!.faults.calls.length, throttled: sandbox.regionalCs[r]!.faults.throttled }]));

function seedFleet(sandbox: Sandbox): { ids: Record<string, string[]>; plainId: string } {
  const ids = Object.fromEntries(REGIONS.map((region) => [region, Array.from({ length: PER_REGION }, (_, i) => `c-fleet-${region.slice(3)}-${String(i).padStart(3, '0')}`)]));
  const plainId = 'c-fleet-plain';
  cloneClusters(sandbox, TEMPLATE, [...Object.values(ids).flat(), plainId]);
  sandbox.account.change((state) => {
    for (const [region, members] of Object.entries(ids)) for (const id of members) state.clusters[id]!.region = region;
    state.clusters[plainId]!.region = REGIONS[0]!;
    for (const region of REGIONS) {
      state.oss.buckets.push({ name: bucketOf(region), region, createdAt: new Date().toISOString(), storageClass: 'Standard', acl: 'private' });
    }
  });
  return { ids, plainId };
}

export async function fleet(): Promise<BenchResult> {
  const sandbox = await startSandbox({ csRegions: ENDPOINTS });
  const { ids, plainId } = seedFleet(sandbox);
  const allIds = Object.values(ids).flat();
  const regionalPlans = ENDPOINTS.map((r) => sandbox.regionalCs[r]!.faults);
  for (const plan of [...Object.values(sandbox.faults), ...regionalPlans]) plan.add({ operation: '*', fault: { kind: 'latency', ms: LATENCY_MS } });
  const throttledBy = new Map<string, number>();
  for (const plan of regionalPlans) {
    plan.add({ operation: '*', fault: { kind: 'rateLimit', perSecond: CS_RATE, burst: CS_BURST } });
    watchThrottling(plan, throttledBy);
  }

  // The product's executor (default retry and client-side rate limits), polls shortened to POLL_MS.
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-fleet-'));
  const logger = pino({ level: 'silent' });
  const store = await openStore({ databaseUrl: null, stateDir });
  const metrics = createMetrics(() => store.countActiveSessionsByState());
  const clients = createCloudClients({
    credentials: sandbox.botCredentials,
    endpoints: { ...cloudEndpointsOf(sandbox), cs: sandbox.regionalCs[DEFAULT_REGION]!.endpoint },
    csEndpoints: Object.fromEntries(ENDPOINTS.map((r) => [r, sandbox.regionalCs[r]!.endpoint])),
    protocol: 'http',
    defaultRegion: DEFAULT_REGION,
  });

  // The job one cluster (outside the default region) needs, done by a plain script first: its CS calls per endpoint
  // and its wall time.
  const before = csCounts(sandbox);
  const plainStarted = performance.now();
  await plainManagedSetup(clients, { clusterId: plainId, bucket: bucketOf(REGIONS[0]!), pollMs: POLL_MS });
  const chainMs = performance.now() - plainStarted;
  const afterPlain = csCounts(sandbox);
  const plainAtDefault = afterPlain[DEFAULT_REGION]!.calls - before[DEFAULT_REGION]!.calls;
  const plainAtOwn = afterPlain[REGIONS[0]!]!.calls - before[REGIONS[0]!]!.calls;
  // Out of the way of its region's `--all`.
  sandbox.account.change((state) => void delete state.clusters[plainId]);

  const executor = createExecutor({ clients, createdAccessKeys: createdAccessKeysIn(store), logger, metrics, rateLimits: DEFAULT_RATE_LIMITS, pollIntervalMs: POLL_MS });
  const bot = createBot({
    store, executor, logger, metrics, approvers: [APPROVER.id], allowSelfApproval: false, approvalTtlMs: 3_600_000,
    channelClusters: null, now: () => new Date(), owner: 'bench',
  });
  const chat = new RecordingChat();
  bot.attach(chat);

  const started = performance.now();
  for (const region of REGIONS) {
    const text = `/backup-setup --region ${region} --all`;
    const parsed = parseCommand(text);
    if (!parsed.ok) throw new Error(`the fleet command does not parse: ${parsed.error}`);
    await bot.handler({ kind: 'command', eventId: benchEventId(), command: parsed.command, text, actor: REQUESTER, conversation: CHANNEL }, chat.tellerFor(REQUESTER.id));
  }
  const handled = new Set<string>();
  const approvals: Approval[] = [];
  const postedAt: number[] = [];
  const summaries: Extract<Reply, { kind: 'done' }>[] = [];
  while (summaries.length < REGIONS.length) {
    const next = await chat.until(
      () => chat.messages.find((m) => !handled.has(m.messageId) && ['approval', 'done', 'question'].includes(m.reply.kind)),
      600_000,
    );
    handled.add(next.messageId);
    const reply = next.reply;
    if (reply.kind === 'question') throw new Error(`the fleet asked a question: ${reply.prompt.text}`);
    if (reply.kind === 'done') {
      summaries.push(reply);
      continue;
    }
    if (reply.kind !== 'approval') continue;
    approvals.push(reply);
    postedAt.push(performance.now() - started);
    void bot.handler(
      { kind: 'decision', eventId: benchEventId(), sessionId: reply.sessionId, approvalId: reply.prompt.approvalId, decision: 'approve', actor: APPROVER, conversation: next.conversation, messageId: next.messageId },
      chat.tellerFor(APPROVER.id),
    ).catch((error: unknown) => {
      throw new Error(`approving ${reply.prompt.approvalId} failed: ${String(error)}`);
    });
  }
  const wallMs = performance.now() - started;

  const rows = summaries.flatMap((s) => s.text.split('\n')).filter((line) => allIds.some((id) => line.startsWith(`${id} `)));
  const done = rows.filter((line) => /\bdone\b/.test(line)).length;
  const after = csCounts(sandbox);
  const sent = (r: string) => after[r]!.calls - afterPlain[r]!.calls;
  const throttled = ENDPOINTS.reduce((n, r) => n + after[r]!.throttled - afterPlain[r]!.throttled, 0);
  const needed = (r: string) => (ids[r]?.length ?? 0) * plainAtOwn + (r === DEFAULT_REGION ? allIds.length * plainAtDefault : 0);
  const rateBound = (r: string) => (Math.max(0, needed(r) - CS_BURST) / CS_RATE) * 1000;
  const busiest = ENDPOINTS.reduce((a, b) => (rateBound(b) > rateBound(a) ? b : a));
  const boundMs = Math.max(rateBound(busiest), chainMs);
  const overall = ratio(wallMs, boundMs);
  const totalSent = ENDPOINTS.reduce((n, r) => n + sent(r), 0);
  const totalNeeded = ENDPOINTS.reduce((n, r) => n + needed(r), 0);
  const failures = rows.filter((line) => !/\bdone\b/.test(line));
  const others = (['ram', 'oss', 'kube'] as const).map((s) => `${s} ${sandbox.faults[s].calls.length}`).join(', ');

  await bot.sessions.drain();
  await store.close();
  await sandbox.close();
  rmSync(stateDir, { recursive: true, force: true });

  const clusters = allIds.length;
  return {
    name: `Fleet (${clusters} managed clusters over ${REGIONS.length} regions, ${LATENCY_MS} ms per call, each region's CS limited to ${CS_RATE}/s burst ${CS_BURST})`,
    figures: [
      { metric: 'commands to the last summary', value: round(wallMs / 1000), unit: 's', baseline: round(boundMs / 1000), ratio: overall, goal: `≤ ${GOAL}× the bound`, met: overall <= GOAL },
      { metric: 'clusters done', value: done, unit: `of ${clusters}`, goal: `${clusters}, no error surfaced`, met: done === clusters && summaries.every((s) => s.ok) },
      { metric: 'CS requests', value: totalSent, unit: 'calls', baseline: totalNeeded, ratio: ratio(totalSent, totalNeeded), goal: '≤ 1.3× the needed', met: totalSent <= 1.3 * totalNeeded },
      { metric: 'CS requests throttled (retried by the bot)', value: throttled, unit: 'calls' },
      { metric: 'fleet approvals', value: approvals.length, unit: 'messages' },
    ],
    notes: [
      `bound = max(rate bound, latency bound), from what the job needs: a plain script set up one more cluster (${plainId}, in ${REGIONS[0]}) first, ` +
        `with ${plainAtOwn} CS requests to its region's endpoint and ${plainAtDefault} to the default region's (DescribeClusterDetail), in ${round(chainMs / 1000)} s ` +
        '(its chain of dependent calls and polls: the latency bound). ' +
        `Rate bound: the busiest endpoint, ${busiest}: ${needed(busiest)} needed requests, minus the burst of ${CS_BURST}, at ${CS_RATE}/s = ${round(rateBound(busiest) / 1000)} s.`,
      `CS requests per region's endpoint (sent / needed): ${ENDPOINTS.map((r) => `${r} ${sent(r)}/${needed(r)}`).join(', ')}; throttled by operation: ${[...throttledBy].map(([op, n]) => `${op} ${n}`).join(', ') || 'none'}.`,
      `other calls: ${others}. The bot's limiter paces CS per region at ${DEFAULT_RATE_LIMITS.perSecond.cs}/s and Kubernetes per cluster, with ${DEFAULT_RATE_LIMITS.concurrency} calls in flight. ` +
        'Each region is its own fleet (one command each), so regions overlap; within a fleet every step waits for all its clusters before its one approval.',
      `approvals (step, clusters, seen at): ${approvals.map((a, i) => `${a.prompt.request.step} (${a.covers?.length ?? 1}, ${round(postedAt[i]! / 1000, 1)} s)`).join(', ')}.`,
      ...(failures.length ? [`not done: ${failures.slice(0, 5).join(' | ')}`] : []),
    ],
  };
}
