// Benchmark 5: one full watch pass over 50 set-up managed clusters, all due at once (the worst case: the
// checks are normally spread over WATCH_INTERVAL), over emulators that answer every call after 50 ms and a
// CS that throttles beyond 20 calls per second, as the fleet benchmark. The checks go through the product's
// executor and its rate limiter (the same one fleet setups use), so the pass is compared with what CS allows.
import { APPROVER, COMPLETE, driveToEnd, startTestBot } from '../test/support/bot-harness.ts';
import { cloneClusters } from '../test/support/sandbox-state.ts';
import { startSandbox } from '../src/sandbox/index.ts';
import { ratio, round, type BenchResult } from './stats.ts';

const CLUSTERS = 50;
const TEMPLATE = 'c-sandbox-managed';
const LATENCY_MS = 50;
const CS_RATE = 20;
const CS_BURST = CS_RATE;
const GOAL = 1.5;

export async function watchPass(): Promise<BenchResult> {
  const sandbox = await startSandbox();
  const t = await startTestBot({ sandbox, watchIntervalMs: 24 * 3_600_000, approvers: [APPROVER.id] });
  try {
    // One real setup (its vault, the add-on, the recorded test backup), then 50 copies of that cluster.
    await t.command(`/backup-setup ${TEMPLATE}`);
    const done = await driveToEnd(t, TEMPLATE);
    if (!COMPLETE.test(done.text)) throw new Error(`the template setup did not complete: ${done.text}`);
    const ids = Array.from({ length: CLUSTERS }, (_, i) => `c-watch-${String(i).padStart(2, '0')}`);
    cloneClusters(sandbox, TEMPLATE, ids);
    const now = new Date();
    for (const clusterId of ids) await t.store.watchCluster({ clusterId, conversation: { platform: 'web', channelId: 'ops' }, nextCheckAt: now, by: APPROVER.id });
    await t.store.setWatchEnabled(TEMPLATE, false, APPROVER.id, now);

    for (const plan of Object.values(sandbox.faults)) plan.add({ operation: '*', fault: { kind: 'latency', ms: LATENCY_MS } });
    sandbox.faults.cs.add({ operation: '*', fault: { kind: 'rateLimit', perSecond: CS_RATE, burst: CS_BURST } });
    const callsBefore = (['ram', 'cs', 'oss', 'kube'] as const).map((s) => sandbox.faults[s].calls.length);
    const throttledBefore = sandbox.faults.cs.throttled;

    const started = performance.now();
    let checked = 0;
    while (checked < CLUSTERS) {
      checked += await t.bot.watcher.pass();
      if (performance.now() - started > 300_000) throw new Error(`only ${checked} of ${CLUSTERS} checks in 5 minutes`);
    }
    const wallMs = performance.now() - started;

    const watches = (await t.store.listWatches()).filter((w) => ids.includes(w.clusterId));
    const ok = watches.filter((w) => w.lastResult === 'ok').length;
    const calls = (['ram', 'cs', 'oss', 'kube'] as const).map((s, i) => [s, sandbox.faults[s].calls.length - callsBefore[i]!] as const);
    const throttled = sandbox.faults.cs.throttled - throttledBefore;
    const csAdmitted = calls.find(([s]) => s === 'cs')![1] - throttled;
    const rateBoundMs = (Math.max(0, csAdmitted - CS_BURST) / CS_RATE) * 1000;
    const overall = ratio(wallMs, rateBoundMs);
    const detail = watches.find((w) => w.lastResult !== 'ok');
    return {
      name: `Watch (one full pass over ${CLUSTERS} set-up managed clusters, ${LATENCY_MS} ms per call, CS limited to ${CS_RATE}/s burst ${CS_BURST})`,
      figures: [
        { metric: 'full pass, all due at once', value: round(wallMs / 1000), unit: 's', baseline: round(rateBoundMs / 1000), ratio: overall, goal: `≤ ${GOAL}× the rate bound`, met: overall <= GOAL },
        { metric: 'clusters found in place', value: ok, unit: `of ${CLUSTERS}`, goal: `${CLUSTERS}`, met: ok === CLUSTERS },
        { metric: 'CS requests throttled (retried by the bot)', value: throttled, unit: 'calls' },
      ],
      notes: [
        `calls by service in the pass: ${calls.map(([s, n]) => `${s} ${n}`).join(', ')} (${round(calls.reduce((sum, [, n]) => sum + n, 0) / CLUSTERS)} per check). ` +
          `Rate bound: ${csAdmitted} CS requests admitted, minus the burst of ${CS_BURST}, at ${CS_RATE}/s. The checks run 10 at a time ` +
          'through the executor\'s limiter (DEFAULT_RATE_LIMITS, as fleet setups); spread over WATCH_INTERVAL (default 24 h) one check starts every ' +
          `${round(86_400 / CLUSTERS)} s instead.`,
        ...(detail ? [`not in place: ${detail.clusterId}: ${detail.lastDetail}`] : []),
      ],
    };
  } finally {
    await t.stop();
    await sandbox.close();
  }
}
