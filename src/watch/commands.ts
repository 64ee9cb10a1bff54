// `/backup-setup watch`, `watch on <cluster-id>`, `watch off <cluster-id>`: what a channel watches, and
// changing it (only approvers may turn a watch off: an unwatched cluster drifts unseen).
import type { Actor, Conversation, TellActor } from '../chat/model.ts';
import type { ChannelBinding } from '../config/channel-clusters.ts';
import type { Executor } from '../executor/contract.ts';
import { isApprover, type ApprovalPolicy } from '../session/approvals.ts';
import { channelRefusal } from '../session/channel-binding.ts';
import type { Speaker } from '../session/speaker.ts';
import type { Store, WatchRow } from '../store/contract.ts';
import { firstCheckAt } from './schedule.ts';
import { code, person, time } from '../../flows/domain/inline.js';

export interface WatchCommandDeps {
  store: Store;
  executor: Executor;
  speaker: Speaker;
  policy: ApprovalPolicy;
  channelClusters: ChannelBinding[] | null;
  now: () => Date;
  /** WATCH_INTERVAL; null when watching is off. */
  intervalMs: number | null;
}

export type WatchCommand = { action: 'list' } | { action: 'on' | 'off'; clusterId: string };

export async function watchCommand(deps: WatchCommandDeps, command: WatchCommand, actor: Actor, conversation: Conversation, tell: TellActor): Promise<void> {
  const { store, speaker, now } = deps;
  const channel = { platform: conversation.platform, channelId: conversation.channelId };
  const off = deps.intervalMs === null ? 'Watching is off in this bot (WATCH_INTERVAL=off): nothing is checked until it is set.\n' : '';
  if (command.action === 'list') {
    const rows = await store.listWatches(channel);
    const text = rows.length
      ? `${off}This channel watches ${rows.length} cluster${rows.length === 1 ? '' : 's'}:\n${rows.map((row) => watchLine(row, deps.intervalMs !== null)).join('\n')}`
      : `${off}This channel watches no cluster. A cluster is watched once its setup completes here; \`/backup-setup watch on <cluster-id>\` adds one.`;
    await speaker.post(conversation, { kind: 'text', text });
    return;
  }
  const { clusterId } = command;
  const existing = await store.getWatch(clusterId);
  const elsewhere = existing && (existing.conversation.platform !== channel.platform || existing.conversation.channelId !== channel.channelId);
  if (command.action === 'off') {
    if (!(await isApprover(deps.policy, actor.id))) {
      return tell(`Only an approver can turn a watch off (an unwatched cluster drifts unseen). ${code(clusterId)} is still watched.`);
    }
    if (!existing || !existing.enabled) return tell(`${code(clusterId)} is not watched; nothing changed.`);
    if (elsewhere) return tell(`${code(clusterId)} is watched from another channel; turn it off there. Nothing changed.`);
    await store.setWatchEnabled(clusterId, false, actor.id, existing.nextCheckAt);
    await store.appendAudit({ at: now(), actor: actor.id, action: 'watch.off', clusterId, outcome: 'off' });
    await speaker.post(conversation, { kind: 'text', text: `Watch of ${code(clusterId)} turned off by ${person(actor.id)}. \`/backup-setup watch on ${clusterId}\` turns it on again.` });
    return;
  }
  const refusal = await channelRefusal(deps.channelClusters, conversation, clusterId, deps.executor);
  if (refusal) return tell(refusal);
  if (existing?.enabled && !elsewhere) return tell(`${code(clusterId)} is watched already; next check at ${time(existing.nextCheckAt)}.`);
  const next = firstCheckAt(clusterId, now(), deps.intervalMs ?? 86_400_000);
  await store.watchCluster({ clusterId, conversation: channel, nextCheckAt: next, by: actor.id });
  await store.appendAudit({ at: now(), actor: actor.id, action: 'watch.on', clusterId, outcome: 'on', ...(elsewhere ? { detail: 'moved from another channel' } : {}) });
  await speaker.post(conversation, {
    kind: 'text',
    text: `${off}Watching ${code(clusterId)} from this channel (turned on by ${person(actor.id)})${elsewhere ? ', instead of the channel that watched it before' : ''}. ` +
      (deps.intervalMs === null ? '' : `First check at ${time(next)}; drift is posted here with a Fix button.`),
  });
}

function watchLine(row: WatchRow, checking: boolean): string {
  const last = row.lastCheckAt
    ? `last check ${time(row.lastCheckAt)}: ${row.lastResult === 'ok' ? '✅' : row.lastResult === 'drift' ? '⚠️' : '❓'} ${row.lastDetail ?? ''}`
    : 'not checked yet';
  const next = row.enabled && checking ? `next check ${time(row.nextCheckAt)}` : 'no next check';
  const state = row.enabled ? 'on' : `off (turned off by ${row.changedBy ? person(row.changedBy) : 'unknown'})`;
  return `• ${code(row.clusterId)} — ${state} · ${last} · ${next}`;
}
