// The watch's checks: every WATCH_INTERVAL each watched cluster is verified (the same checks as
// `/backup-setup verify`), by exactly one replica (the store's claim), and only a change is said in chat:
// new drift (with a Fix button), or its resolution (a reply under the drift message).
import { randomUUID } from 'node:crypto';
import type { Conversation, PostedMessage, Reply } from '../chat/model.ts';
import type { Executor, VerifyReport } from '../executor/contract.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { scrub } from '../observability/secrets.ts';
import type { Speaker } from '../session/speaker.ts';
import type { SessionRow, Store, WatchRow } from '../store/contract.ts';
import { baselineOf, compare, driftItems, driftText, resolvedText, type Baseline, type OpenDrift } from './drift.ts';
import { firstCheckAt, nextCheckAfter } from './schedule.ts';
import { watchBoundClusters } from './bindings.ts';
import type { ChannelBinding } from '../config/channel-clusters.ts';
import { person, time } from '../../flows/domain/inline.js';

/** The drift message's Fix button answers a "question" of this pseudo-session (chat/model.ts has no other button kind). */
const FIX_TARGET = 'watch.';
export const fixTarget = (clusterId: string) => `${FIX_TARGET}${clusterId}`;
export const clusterOfFixTarget = (sessionId: string): string | null => (sessionId.startsWith(FIX_TARGET) ? sessionId.slice(FIX_TARGET.length) : null);

/** A check holds its claim this long; a replica that died in the middle leaves the cluster to the next interval. */
const CHECK_LEASE_MS = 10 * 60_000;
const DUE_BATCH = 100;

export interface WatcherDeps {
  store: Store;
  executor: Executor;
  speaker: Speaker;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
  owner: string;
  /** WATCH_INTERVAL; null when watching is off. */
  intervalMs: number | null;
  /** Clusters checked at once; their cloud calls share the executor's rate limits with every setup. */
  concurrency?: number;
  /** CHANNEL_CLUSTERS: its clusters and regions are added to their channel's watch. */
  channelClusters?: ChannelBinding[] | null;
}

export class Watcher {
  private readonly deps: WatcherDeps;

  constructor(deps: WatcherDeps) {
    this.deps = deps;
  }

  get intervalMs(): number | null {
    return this.deps.intervalMs;
  }

  /**
   * A setup (or a Fix) completed: the cluster is watched from its channel. Open drift is checked at once (so
   * a Fix gets its "resolved" reply), a new watch at its offset in the interval.
   */
  async enroll(row: SessionRow): Promise<void> {
    const { store, now, intervalMs } = this.deps;
    const existing = await store.getWatch(row.clusterId);
    const soon = existing?.drift ? now() : firstCheckAt(row.clusterId, now(), intervalMs ?? 86_400_000);
    const { threadId: _thread, ...channel } = row.conversation;
    await store.watchCluster({ clusterId: row.clusterId, conversation: channel, nextCheckAt: soon, by: row.requester });
    await store.appendAudit({ at: now(), actor: row.requester, action: 'watch.on', clusterId: row.clusterId, sessionId: row.id, outcome: 'on', detail: 'setup completed' });
  }

  /** One pass: claims the checks due now (one replica wins each) and runs them. Returns how many it ran. */
  async pass(): Promise<number> {
    const { store, now, owner, intervalMs } = this.deps;
    if (intervalMs === null) return 0;
    const due = await store.dueWatches(now(), DUE_BATCH);
    let ran = 0;
    await eachAtMost(due, this.deps.concurrency ?? 10, async (watch) => {
      const at = now();
      const claimed = await store.claimWatchCheck(watch.clusterId, watch.nextCheckAt, nextCheckAfter(watch.nextCheckAt, at, intervalMs), owner, new Date(at.getTime() + CHECK_LEASE_MS));
      if (!claimed) return;
      ran++;
      await this.check(claimed);
    });
    return ran;
  }

  /** Adds the clusters CHANNEL_CLUSTERS binds to their channels' watch (at start, then once per interval). */
  async watchBound(): Promise<string[]> {
    const { channelClusters, intervalMs } = this.deps;
    if (!channelClusters || intervalMs === null) return [];
    const added = await watchBoundClusters({ ...this.deps, intervalMs }, channelClusters);
    for (const clusterId of added) {
      await this.deps.store.appendAudit({ at: this.deps.now(), actor: 'bot', action: 'watch.on', clusterId, outcome: 'on', detail: 'bound to the channel by CHANNEL_CLUSTERS' });
    }
    return added;
  }

  /** Runs passes every so often (a tenth of the interval, between 1 s and 30 s); returns the stop function. */
  start(): () => void {
    const { intervalMs, logger } = this.deps;
    if (intervalMs === null) return () => undefined;
    const bound = () => this.watchBound().catch((error: unknown) => logger.warn({ err: error }, 'CHANNEL_CLUSTERS watch failed'));
    void bound();
    const rebind = setInterval(() => void bound(), intervalMs);
    rebind.unref();
    const tick = Math.min(30_000, Math.max(1_000, Math.floor(intervalMs / 10)));
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.pass()
        .catch((error: unknown) => logger.warn({ err: error }, 'watch pass failed'))
        .finally(() => {
          running = false;
        });
    }, tick);
    timer.unref();
    return () => {
      clearInterval(timer);
      clearInterval(rebind);
    };
  }

  /** One check of a claimed watch. */
  private async check(watch: WatchRow): Promise<void> {
    const { store, executor, metrics, logger } = this.deps;
    const at = this.deps.now();
    const stopTimer = metrics.watchCheckDuration.startTimer();
    const running = await store.findActiveSession(watch.clusterId);
    if (running) {
      // A setup or Fix under way changes what the check would see: it is judged after it ends.
      await this.finish(watch, at, { result: watch.lastResult ?? 'ok', detail: `not checked: a session of it is running (started by ${person(running.requester)})`, drift: watch.drift });
      stopTimer();
      return;
    }
    let report: VerifyReport;
    try {
      report = await executor.verify(watch.clusterId);
    } catch (error) {
      stopTimer();
      const detail = scrub(error instanceof Error ? error.message : String(error));
      logger.warn({ clusterId: watch.clusterId, err: { message: detail } }, 'watch check could not read the cluster');
      await this.finish(watch, at, { result: 'error', detail: `could not be read: ${detail}`, drift: watch.drift });
      return;
    }
    stopTimer();
    const items = driftItems(report);
    const open = (watch.drift as OpenDrift | null) ?? null;
    const change = compare(open, items);
    const baseline = (watch.baseline as Baseline | null) ?? null;
    switch (change.kind) {
      case 'none':
        await this.finish(watch, at, { result: 'ok', detail: 'every requirement in place', drift: null, baseline: baselineOf(report) ?? baseline });
        return;
      case 'new': {
        const drift: OpenDrift = {
          id: randomUUID().slice(0, 8),
          items,
          since: at.toISOString(),
          lastGood: watch.lastResult === 'ok' && watch.lastCheckAt ? watch.lastCheckAt.toISOString() : null,
          message: null,
        };
        logger.info({ clusterId: watch.clusterId, drifted: items.map((i) => i.requirement) }, 'watch found drift');
        drift.message = await this.deps.speaker.post(watch.conversation, driftReply(watch.clusterId, drift, baseline !== null || baselineOf(report) !== null));
        await this.finish(watch, at, { result: 'drift', detail: summary(items.length), drift, ...(baseline ? {} : { baseline: baselineOf(report) }) });
        return;
      }
      case 'persists': {
        const drift: OpenDrift = { ...open!, items };
        if (change.changed && drift.message) await this.deps.speaker.update(drift.message, driftReply(watch.clusterId, drift, baseline !== null));
        await this.finish(watch, at, { result: 'drift', detail: summary(items.length), drift });
        return;
      }
      case 'resolved': {
        const { message } = change.drift;
        logger.info({ clusterId: watch.clusterId, since: change.drift.since }, 'watch found the drift resolved');
        const thread: Conversation = message ? { ...watch.conversation, threadId: message.messageId } : watch.conversation;
        await this.deps.speaker.post(thread, { kind: 'text', text: resolvedText(watch.clusterId, change.drift, at.toISOString()) });
        if (message) await this.closeFixButton(message, watch.clusterId, change.drift, `resolved at ${time(at)}`);
        await this.finish(watch, at, { result: 'ok', detail: 'every requirement in place again', drift: null, baseline: baselineOf(report) ?? baseline });
        return;
      }
    }
  }

  private async finish(watch: WatchRow, at: Date, check: { result: 'ok' | 'drift' | 'error'; detail: string; drift: unknown; baseline?: unknown }) {
    const { store, owner } = this.deps;
    await store.finishWatchCheck(watch.clusterId, owner, { at, ...check });
    await store.appendAudit({ at, actor: 'bot', action: 'watch.check', clusterId: watch.clusterId, outcome: check.result, detail: check.detail });
  }

  /** The drift message once resolved: its text stays, the Fix button goes. */
  private closeFixButton(message: PostedMessage, clusterId: string, drift: OpenDrift, reason: string) {
    const reply = driftReply(clusterId, drift, true);
    return this.deps.speaker.update(message, { kind: 'answered', prompt: reply.prompt, answer: null, reason });
  }
}

export function driftReply(clusterId: string, drift: OpenDrift, fixable: boolean): Extract<Reply, { kind: 'question' }> {
  return {
    kind: 'question',
    sessionId: fixTarget(clusterId),
    prompt: { kind: 'question', questionId: 'fix', text: driftText(clusterId, drift, fixable), choices: [{ label: 'Fix', value: drift.id }], freeText: false },
  };
}

const summary = (n: number) => `${n} requirement${n === 1 ? '' : 's'} drifted`;

async function eachAtMost<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
