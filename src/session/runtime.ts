// The chat-facing side of the bot: turns neutral chat events into session actions, enforces who may
// do what, and always answers (accepted, refused with the reason, or failed with a correlation id).
import { randomUUID } from 'node:crypto';
import type { UserId } from '../../flows/contract.ts';
import type { Actor, ChatEvent, Conversation, TellActor } from '../chat/model.ts';
import type { Fleets } from '../fleet/fleets.ts';
import type { Command } from '../chat/grammar.ts';
import { HELP_TEXT } from '../chat/grammar.ts';
import type { ChannelBinding } from '../config/channel-clusters.ts';
import { StepError, type Executor, type VerifyReport } from '../executor/contract.ts';
import { StoreUnavailableError, type SessionRow, type Store } from '../store/contract.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { scrub } from '../observability/secrets.ts';
import { isApprover, type ApprovalPolicy } from './approvals.ts';
import { channelRefusal } from './channel-binding.ts';
import { answer, decision, lateDenyReason, threadText } from './clicks.ts';
import { renderAudit, renderStatus, renderVerify } from './render.ts';
import type { Sessions } from './sessions.ts';
import type { Speaker } from './speaker.ts';
import { code, person, time } from '../../flows/domain/inline.js';
import { watchCommand } from '../watch/commands.ts';

export interface RuntimeDeps {
  store: Store;
  executor: Executor;
  sessions: Sessions;
  speaker: Speaker;
  logger: Logger;
  metrics: Metrics;
  policy: ApprovalPolicy;
  channelClusters: ChannelBinding[] | null;
  fleets: Fleets;
  now: () => Date;
  /** WATCH_INTERVAL; null when watching is off. */
  watchIntervalMs: number | null;
}

export type EventWork = (event: ChatEvent, tell: TellActor) => Promise<void>;

/**
 * The work of one inbound event. A failure is told to the person; a store that is unavailable is
 * rethrown too, so the inbox keeps the event and handles it again when the store is back.
 */
export function createChatHandler(deps: RuntimeDeps): EventWork {
  const { logger } = deps;
  return async (event, tellActor) => {
    try {
      await dispatch(deps, event, tellActor);
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        logger.warn({ err: { message: error.message }, kind: event.kind }, 'chat event waits for the store');
        await tellActor("The bot's database is unavailable right now: your request is kept and is handled as soon as it is back.").catch(() => undefined);
        throw error;
      }
      const correlationId = randomUUID().slice(0, 8);
      logger.error({ err: error, correlationId, kind: event.kind, actor: event.actor.id }, 'chat event failed');
      const reason = error instanceof Error ? scrub(error.message) : 'unexpected error';
      await tellActor(
        `Something went wrong: ${reason} (correlation id ${correlationId}). \`/backup-setup status\` shows where each setup of this channel is.`,
      ).catch(() => undefined);
    }
  };
}

async function dispatch(deps: RuntimeDeps, event: ChatEvent, tell: TellActor): Promise<void> {
  switch (event.kind) {
    case 'command':
      return command(deps, event.command, event.actor, event.conversation, event.eventId, tell);
    case 'answer':
      return answer(deps, event, tell);
    case 'threadText':
      return threadText(deps, event, tell, (row) => cancel(deps, row, event.actor.id, event.eventId, tell));
    case 'decision':
      return decision(deps, event, tell);
    case 'privateText':
      return lateDenyReason(deps, event, tell);
    case 'cancel': {
      const row = await deps.store.getSession(event.sessionId);
      if (!row || row.status !== 'active') return tell('This setup has already ended; the click changed nothing.');
      if (row.conversation.platform !== event.conversation.platform) return tell('This click came from another chat platform than the setup; it changed nothing.');
      return cancel(deps, row, event.actor.id, event.eventId, tell);
    }
  }
}

async function command(deps: RuntimeDeps, command: Command, actor: Actor, conversation: Conversation, eventId: string, tell: TellActor): Promise<void> {
  const { speaker, store, sessions, executor } = deps;
  switch (command.verb) {
    case 'help':
      return tell(HELP_TEXT);
    case 'setup': {
      if (command.clusterIds.length > 1) return startFleet(deps, command.clusterIds, actor, conversation, eventId, tell);
      const clusterId = command.clusterIds[0]!;
      const refusal = await channelRefusal(deps.channelClusters, conversation, clusterId, executor);
      if (refusal) return tell(refusal);
      const result = await sessions.start({ clusterId, requester: actor.id, requesterName: actor.name, conversation, eventId });
      if (!result.started && 'reason' in result) return tell(result.reason);
      if (!result.started) {
        const existing = result.existing;
        await tell(
          `A setup of ${code(clusterId)} is already running: started by ${person(existing.requester)} at ${time(new Date(existing.createdAt))}. ` +
            `See \`/backup-setup status ${clusterId}\`, or \`/backup-setup cancel ${clusterId}\` to stop it.`,
        );
      }
      return;
    }
    case 'setup-region': {
      const clusterIds = await executor.listClusters(command.region);
      if (clusterIds.length === 0) return tell(`No clusters found in ${command.region}; nothing was started.`);
      return startFleet(deps, clusterIds, actor, conversation, eventId, tell);
    }
    case 'status': {
      const rows = command.clusterId ? [await store.findActiveSession(command.clusterId)].filter((r) => r !== null) : await inChannel(deps, conversation);
      if (rows.length === 0) {
        return tell(command.clusterId ? `No setup of ${code(command.clusterId)} is running.` : 'No setup is running in this channel.');
      }
      await speaker.post(conversation, { kind: 'text', text: rows.map((row) => renderStatus(row, sessions.posted(row).prompt)).join('\n\n') });
      return;
    }
    case 'cancel': {
      if (command.clusterId) {
        const row = await store.findActiveSession(command.clusterId);
        if (!row) return tell(`No setup of ${code(command.clusterId)} is running.`);
        return cancel(deps, row, actor.id, eventId, tell);
      }
      const rows = await inChannel(deps, conversation);
      if (rows.length === 0) return tell('No setup is running in this channel.');
      if (rows.length > 1) {
        return tell(
          `${rows.length} setups are running in this channel: ${rows.map((r) => `${code(r.clusterId)}`).join(', ')}. ` +
            'Name the one to cancel: `/backup-setup cancel <cluster-id>`.',
        );
      }
      return cancel(deps, rows[0]!, actor.id, eventId, tell);
    }
    case 'verify': {
      const refusal = await channelRefusal(deps.channelClusters, conversation, command.clusterId, executor);
      if (refusal) return tell(refusal);
      let report: VerifyReport;
      try {
        report = await executor.verify(command.clusterId);
      } catch (error) {
        // An unknown cluster is an answer (where it was looked for, the ids nearest to it), not a failure of the bot.
        if (error instanceof StepError && error.code === 'ClusterNotFound') return tell(error.message);
        throw error;
      }
      await speaker.post(conversation, { kind: 'text', text: renderVerify(report) });
      if (!command.testBackup) return;
      const result = await sessions.start({ clusterId: command.clusterId, requester: actor.id, requesterName: actor.name, conversation, eventId, flow: 'testBackup' });
      if (result.started) return;
      if ('reason' in result) return tell(result.reason);
      return tell(
        `A session of ${code(command.clusterId)} is already running (started by ${person(result.existing.requester)}): run the test backup again once it has ended (a setup ends with one of its own).`,
      );
    }
    case 'watch':
      return watchCommand({ ...deps, intervalMs: deps.watchIntervalMs }, command.action === 'list' ? { action: 'list' } : { action: command.action, clusterId: command.clusterId }, actor, conversation, tell);
    case 'audit': {
      const refusal = await channelRefusal(deps.channelClusters, conversation, command.clusterId, executor);
      if (refusal) return tell(refusal);
      const rows = await store.listAudit(command.clusterId, 20);
      await speaker.post(conversation, { kind: 'text', text: renderAudit(command.clusterId, rows) });
      return;
    }
  }
}

/** The channel's running setups (a fleet's members included). */
function inChannel(deps: RuntimeDeps, conversation: Conversation): Promise<SessionRow[]> {
  return deps.store.activeSessionsIn(conversation.platform, conversation.channelId);
}

async function cancel(deps: RuntimeDeps, row: SessionRow, actor: UserId, eventId: string, tell: TellActor): Promise<void> {
  if (actor !== row.requester && !(await isApprover(deps.policy, actor))) {
    return tell('Only the person who started this setup or an approver can cancel it.');
  }
  if (!(await deps.sessions.cancel(row, actor, eventId))) return tell(`The setup of ${code(row.clusterId)} has already ended.`);
}

async function startFleet(deps: RuntimeDeps, clusterIds: string[], actor: Actor, conversation: Conversation, eventId: string, tell: TellActor) {
  const refusals = new Map<string, string>();
  for (const clusterId of clusterIds) {
    const refusal = await channelRefusal(deps.channelClusters, conversation, clusterId, deps.executor).catch((error: unknown) =>
      error instanceof Error ? scrub(error.message) : 'the cluster could not be read',
    );
    if (refusal) refusals.set(clusterId, refusal);
  }
  if (refusals.size === clusterIds.length) return tell([...refusals.values()][0]!);
  await deps.fleets.start(clusterIds, actor, conversation, refusals, eventId);
}
