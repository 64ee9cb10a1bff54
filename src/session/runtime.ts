// The chat-facing side of the bot: turns neutral chat events into session actions, enforces who may
// do what, and always answers (accepted, refused with the reason, or failed with a correlation id).
import { randomUUID } from 'node:crypto';
import type { StepName, UserId } from '../../flows/contract.ts';
import type { Actor, ChatEvent, Conversation, TellActor } from '../chat/model.ts';
import { Fleets } from '../fleet/fleets.ts';
import type { Command } from '../chat/grammar.ts';
import { HELP_TEXT } from '../chat/grammar.ts';
import type { ChannelBinding } from '../config/channel-clusters.ts';
import type { Executor } from '../executor/contract.ts';
import type { Store } from '../store/contract.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { scrub } from '../observability/secrets.ts';
import { decisionRefusal, paramsHash, refusalFor, type ApprovalPolicy } from './approvals.ts';
import { channelRefusal } from './channel-binding.ts';
import { renderAudit, renderStatus, renderVerify } from './render.ts';
import type { Sessions } from './sessions.ts';
import type { Speaker } from './speaker.ts';

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
}

export function createChatHandler(deps: RuntimeDeps): (event: ChatEvent, tell: TellActor) => Promise<void> {
  const { logger } = deps;
  return async (event, tellActor) => {
    try {
      await dispatch(deps, event, tellActor);
    } catch (error) {
      const correlationId = randomUUID().slice(0, 8);
      logger.error({ err: error, correlationId, kind: event.kind, actor: event.actor.id }, 'chat event failed');
      const reason = error instanceof Error ? scrub(error.message) : 'unexpected error';
      await tellActor(`Something went wrong: ${reason} (correlation id ${correlationId}). Nothing else was changed.`).catch(
        () => undefined,
      );
    }
  };
}

async function dispatch(deps: RuntimeDeps, event: ChatEvent, tell: TellActor): Promise<void> {
  switch (event.kind) {
    case 'command':
      return command(deps, event.command, event.actor, event.conversation, tell);
    case 'answer':
      return answer(deps, event.sessionId, event.questionId, event.value, event.actor.id, tell);
    case 'threadText':
      return threadText(deps, event.conversation, event.text, event.actor.id, tell);
    case 'decision':
      return decision(deps, event, tell);
  }
}

async function command(
  deps: RuntimeDeps,
  command: Command,
  actor: { id: UserId; name: string },
  conversation: Conversation,
  tell: TellActor,
): Promise<void> {
  const { speaker, store, sessions, executor } = deps;
  switch (command.verb) {
    case 'help':
      return tell(HELP_TEXT);
    case 'setup': {
      if (command.clusterIds.length > 1) return startFleet(deps, command.clusterIds, actor, conversation, tell);
      const clusterId = command.clusterIds[0]!;
      const refusal = await channelRefusal(deps.channelClusters, conversation, clusterId, executor);
      if (refusal) return tell(refusal);
      const result = await sessions.start(clusterId, actor.id, actor.name, conversation);
      if (!result.started) {
        const existing = result.existing;
        await tell(
          `A setup of \`${clusterId}\` is already running: started by ${existing.requester} at ${new Date(existing.createdAt).toISOString()}. ` +
            `See \`/backup-setup status ${clusterId}\`, or \`/backup-setup cancel ${clusterId}\` to stop it.`,
        );
      }
      return;
    }
    case 'setup-region': {
      const clusterIds = await executor.listClusters(command.region);
      if (clusterIds.length === 0) return tell(`No clusters found in ${command.region}; nothing was started.`);
      return startFleet(deps, clusterIds, actor, conversation, tell);
    }
    case 'status': {
      const row = command.clusterId
        ? await store.findActiveSession(command.clusterId)
        : await store.findSessionByThread(conversation.platform, conversation.channelId, conversation.threadId ?? '');
      if (!row) {
        return tell(
          command.clusterId ? `No setup of \`${command.clusterId}\` is running.` : 'No setup is running in this thread. Give a cluster id: `/backup-setup status <cluster-id>`.',
        );
      }
      await speaker.post(conversation, { kind: 'text', text: renderStatus(row, await sessions.currentPrompt(row)) });
      return;
    }
    case 'cancel': {
      const row = command.clusterId
        ? await store.findActiveSession(command.clusterId)
        : await store.findSessionByThread(conversation.platform, conversation.channelId, conversation.threadId ?? '');
      if (!row || row.status !== 'active') {
        return tell(command.clusterId ? `No setup of \`${command.clusterId}\` is running.` : 'No setup is running in this thread.');
      }
      if (actor.id !== row.requester && !deps.policy.approvers.includes(actor.id)) {
        return tell('Only the person who started this setup or an approver can cancel it.');
      }
      await sessions.audit(row.id, row.clusterId, actor.id, 'session.cancel', 'requested');
      return sessions.send(row.id, { type: 'CANCEL', by: actor.id });
    }
    case 'verify': {
      const refusal = await channelRefusal(deps.channelClusters, conversation, command.clusterId, executor);
      if (refusal) return tell(refusal);
      const report = await executor.verify(command.clusterId);
      await speaker.post(conversation, { kind: 'text', text: renderVerify(report) });
      if (!command.testBackup) return;
      const result = await sessions.start(command.clusterId, actor.id, actor.name, conversation, undefined, { flow: 'testBackup' });
      if (!result.started) {
        await tell(`A session of \`${command.clusterId}\` is already running (started by ${result.existing.requester}): run the test backup again once it has ended (a setup ends with one of its own).`);
      }
      return;
    }
    case 'audit': {
      const refusal = await channelRefusal(deps.channelClusters, conversation, command.clusterId, executor);
      if (refusal) return tell(refusal);
      const rows = await store.listAudit(command.clusterId, 20);
      await speaker.post(conversation, { kind: 'text', text: renderAudit(command.clusterId, rows) });
      return;
    }
  }
}

async function startFleet(deps: RuntimeDeps, clusterIds: string[], actor: Actor, conversation: Conversation, tell: TellActor) {
  const refusals = new Map<string, string>();
  for (const clusterId of clusterIds) {
    const refusal = await channelRefusal(deps.channelClusters, conversation, clusterId, deps.executor).catch((error: unknown) =>
      error instanceof Error ? scrub(error.message) : 'the cluster could not be read',
    );
    if (refusal) refusals.set(clusterId, refusal);
  }
  if (refusals.size === clusterIds.length) return tell([...refusals.values()][0]!);
  await deps.fleets.start(clusterIds, actor, conversation, refusals);
}

async function answer(
  deps: RuntimeDeps,
  sessionId: string,
  questionId: string,
  value: string,
  actor: UserId,
  tell: TellActor,
): Promise<void> {
  const row = await deps.store.getSession(sessionId);
  if (!row || row.status !== 'active') return tell('This setup has ended; your answer changed nothing.');
  if (actor !== row.requester && !deps.policy.approvers.includes(actor)) {
    return tell('Only the person who started this setup or an approver can answer its questions.');
  }
  const prompt = await deps.sessions.currentPrompt(row);
  if (prompt?.kind !== 'question' || prompt.questionId !== questionId) {
    return tell('That question has already been answered; your answer changed nothing.');
  }
  await deps.sessions.audit(row.id, row.clusterId, actor, 'answer', questionId, value);
  await deps.sessions.send(row.id, { type: 'ANSWER', questionId: prompt.questionId, value, by: actor });
}

async function threadText(deps: RuntimeDeps, conversation: Conversation, text: string, actor: UserId, tell: TellActor) {
  if (!conversation.threadId) return;
  const row = await deps.store.findSessionByThread(conversation.platform, conversation.channelId, conversation.threadId);
  if (!row || row.status !== 'active') return;
  const prompt = await deps.sessions.currentPrompt(row);
  if (prompt?.kind !== 'question' || !prompt.freeText) return;
  await answer(deps, row.id, prompt.questionId, text.trim(), actor, tell);
}

async function decision(deps: RuntimeDeps, event: Extract<ChatEvent, { kind: 'decision' }>, tell: TellActor) {
  const { store, sessions, speaker, metrics, now } = deps;
  if (Fleets.isFleetApproval(event.approvalId)) {
    return deps.fleets.decide(event.approvalId, event.decision, event.actor, event.messageId, tell);
  }
  const approval = await store.getApproval(event.approvalId);
  const row = approval ? await store.getSession(approval.sessionId) : null;
  if (!approval || !row) {
    metrics.approvals.inc({ result: 'unknown' });
    return tell('This approval is unknown; your click changed nothing.');
  }
  const refusal = decisionRefusal(deps.policy, event.actor.id, row.requester);
  if (refusal) {
    metrics.approvals.inc({ result: 'refused' });
    await sessions.audit(row.id, row.clusterId, event.actor.id, `approval.${event.decision}`, 'refused', refusal, approval.step, approval.paramsHash);
    return tell(refusal);
  }
  const prompt = await sessions.currentPrompt(row);
  const shown = prompt?.kind === 'approval' && prompt.approvalId === approval.id ? paramsHash(prompt.request) : null;
  const at = now();
  const decided = await store.decideApproval(approval.id, {
    by: event.actor.id,
    decision: event.decision === 'approve' ? 'approved' : 'denied',
    at,
    paramsHash: shown ?? 'no-longer-pending',
  });
  if (!decided.ok) {
    metrics.approvals.inc({ result: decided.reason });
    await sessions.audit(row.id, row.clusterId, event.actor.id, `approval.${event.decision}`, decided.reason, undefined, approval.step, approval.paramsHash);
    return tell(refusalFor(decided.reason, decided.approval));
  }
  metrics.approvals.inc({ result: event.decision === 'approve' ? 'approved' : 'denied' });
  await sessions.audit(
    row.id,
    row.clusterId,
    event.actor.id,
    `approval.${event.decision}`,
    event.decision === 'approve' ? 'approved' : 'denied',
    undefined,
    approval.step,
    approval.paramsHash,
  );
  await speaker.update(
    { conversation: event.conversation, messageId: event.messageId },
    {
      kind: 'decided',
      approvalId: approval.id,
      title: deps.executor.meta(approval.step as StepName).title,
      decision: event.decision === 'approve' ? 'approved' : 'denied',
      by: event.actor.name,
      at: at.toISOString(),
    },
  );
  await sessions.send(row.id, {
    type: event.decision === 'approve' ? 'APPROVE' : 'DENY',
    approvalId: approval.id,
    by: event.actor.id,
  });
}
