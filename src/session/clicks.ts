// What people do in a session's thread: answer a question, decide an approval, type a reply. Every
// click is checked against what the bot showed (the session, the message, the platform) before it
// changes anything, and a click handled again after a crash changes nothing twice.
import type { QuestionId } from '../../flows/contract.ts';
import { DENY_REASON_MINUTES, type ApprovalReply, type ChatEvent, type QuestionPrompt, type TellActor } from '../chat/model.ts';
import { Fleets } from '../fleet/fleets.ts';
import type { ApprovalRow, SessionRow } from '../store/contract.ts';
import { decisionRefusal, isApprover, paramsHash, refusalFor } from './approvals.ts';
import type { RuntimeDeps } from './runtime.ts';
import { fix } from '../watch/fix.ts';
import { clusterOfFixTarget } from '../watch/watcher.ts';

type Answer = Extract<ChatEvent, { kind: 'answer' }>;
type Decision = Extract<ChatEvent, { kind: 'decision' }>;
type ThreadText = Extract<ChatEvent, { kind: 'threadText' }>;
type PrivateText = Extract<ChatEvent, { kind: 'privateText' }>;

const CANCEL_WORDS = /^\/?(?:backup-setup\s+)?cancel$/i;

async function mayAnswer(deps: RuntimeDeps, row: SessionRow, actor: string): Promise<boolean> {
  return actor === row.requester || isApprover(deps.policy, actor);
}

export async function answer(deps: RuntimeDeps, event: Answer, tell: TellActor): Promise<void> {
  const drifted = clusterOfFixTarget(event.sessionId);
  if (drifted !== null) return fix(deps, drifted, event, tell);
  const row = await deps.store.getSession(event.sessionId);
  if (!row || row.status !== 'active') return tell('This setup has ended; your answer changed nothing.');
  if (row.conversation.platform !== event.conversation.platform) return tell('This answer came from another chat platform than the setup; it changed nothing.');
  const { prompt, message, applied } = deps.sessions.posted(row);
  if (applied.includes(event.eventId)) return; // handled before a crash
  if (!(await mayAnswer(deps, row, event.actor.id))) return tell('Only the person who started this setup or an approver can answer its questions.');
  if (prompt?.kind !== 'question' || prompt.questionId !== event.questionId) {
    return tell('That question has already been answered; your answer changed nothing.');
  }
  if (event.messageId !== undefined && message !== null && message.messageId !== event.messageId) {
    return tell('That click came from another message than the question the setup asks now; it changed nothing.');
  }
  await takeAnswer(deps, row, prompt, event.value, event.actor.id, event.eventId);
}

async function takeAnswer(deps: RuntimeDeps, row: SessionRow, prompt: QuestionPrompt, value: string, by: string, eventId: string) {
  const { sessions, store } = deps;
  await sessions.audit(row.id, row.clusterId, by, 'answer', prompt.questionId, value);
  const before = sessions.posted(row).message;
  await sessions.send(row.id, { type: 'ANSWER', questionId: prompt.questionId as QuestionId, value, by }, eventId);
  // Taken (the flow moved past it): the question shows who chose what, and loses its buttons.
  const after = await store.getSession(row.id);
  const next = after ? sessions.posted(after).prompt : null;
  const moved = after?.status !== 'active' || next?.kind !== 'question' || next.questionId !== prompt.questionId;
  if (moved && before) await sessions.speech.showAnswer(before, prompt, value, by);
}

export async function threadText(deps: RuntimeDeps, event: ThreadText, tell: TellActor, cancel: (row: SessionRow) => Promise<void>) {
  const { conversation } = event;
  if (!conversation.threadId) return;
  const row = await deps.store.findSessionByThread(conversation.platform, conversation.channelId, conversation.threadId);
  if (!row || row.status !== 'active') return;
  const text = event.text.trim();
  if (CANCEL_WORDS.test(text)) return cancel(row);
  const { prompt, applied } = deps.sessions.posted(row);
  if (applied.includes(event.eventId)) return;
  if (prompt?.kind === 'question' && prompt.freeText) {
    if (!(await mayAnswer(deps, row, event.actor.id))) return tell('Only the person who started this setup or an approver can answer its questions.');
    return takeAnswer(deps, row, prompt, text, event.actor.id, event.eventId);
  }
  const expected =
    prompt?.kind === 'question'
      ? `a click on one of the choices of the question above (${prompt.choices.map((c) => `"${c.label}"`).join(', ')})`
      : prompt?.kind === 'approval'
        ? 'an approver’s click on Approve or Deny above'
        : 'nothing from you: the setup is working';
  return tell(`I expected ${expected}. In this thread you can also type \`cancel\`; everything else is in \`/backup-setup help\`.`);
}

export async function decision(deps: RuntimeDeps, event: Decision, tell: TellActor): Promise<void> {
  const { store, sessions, metrics, now } = deps;
  if (Fleets.isFleetApproval(event.approvalId)) {
    return deps.fleets.decide(event.approvalId, event.decision, event.actor, event.messageId, tell);
  }
  const approval = await recordedApproval(deps, event.approvalId);
  const row = approval ? await store.getSession(approval.sessionId) : null;
  if (!approval || !row) {
    metrics.approvals.inc({ result: 'unknown' });
    return tell('This approval is unknown; your click changed nothing.');
  }
  // A redelivered click that already decided it: finish what the crash interrupted, say nothing twice.
  if (approval.decidedEvent === event.eventId) return applyDecision(deps, row, approval, event);
  const mismatch = bindingRefusal(row, approval, event);
  if (mismatch) {
    metrics.approvals.inc({ result: 'refused' });
    await sessions.audit(row.id, row.clusterId, event.actor.id, `approval.${event.decision}`, 'refused', mismatch, approval.step, approval.paramsHash);
    return tell(mismatch);
  }
  const refusal = await decisionRefusal(deps.policy, event.actor.id, row.requester);
  if (refusal) {
    metrics.approvals.inc({ result: 'refused' });
    await sessions.audit(row.id, row.clusterId, event.actor.id, `approval.${event.decision}`, 'refused', refusal, approval.step, approval.paramsHash);
    return tell(refusal);
  }
  const { prompt } = sessions.posted(row);
  const reason = denyReason(event.reason);
  const shown = prompt?.kind === 'approval' && prompt.approvalId === approval.id ? paramsHash(prompt.request) : null;
  const decided = await store.decideApproval(approval.id, {
    by: event.actor.id,
    decision: event.decision === 'approve' ? 'approved' : 'denied',
    at: now(),
    paramsHash: shown ?? 'no-longer-pending',
    eventId: event.eventId,
    ...(event.decision === 'deny' && reason ? { reason } : {}),
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
    event.decision === 'deny' ? reason : undefined,
    approval.step,
    approval.paramsHash,
  );
  await applyDecision(deps, row, decided.approval, event);
  // Where Deny takes no reason (a DingTalk card), the approver hears how to add one.
  const hint = event.decision === 'deny' && !reason ? deps.speaker.denyReasonHint(event.conversation.platform) : undefined;
  if (hint) await tell(hint);
}

/**
 * A private message to the bot: the reason for the denial its sender made in the last minutes, added to
 * the denied approval's message and to the audit log. Anything else is not for a private chat.
 */
export async function lateDenyReason(deps: RuntimeDeps, event: PrivateText, tell: TellActor): Promise<void> {
  const reason = denyReason(event.text);
  const since = new Date(deps.now().getTime() - DENY_REASON_MINUTES * 60_000);
  const approval = reason ? await deps.store.addDenialReason(event.actor.id, since, reason) : null;
  if (!approval) {
    return tell('Send backup-setup commands in a group with this robot, so the team can follow the setup: @bot backup-setup <cluster-id>');
  }
  const row = await deps.store.getSession(approval.sessionId);
  await deps.sessions.audit(approval.sessionId, row?.clusterId ?? '', event.actor.id, 'approval.deny', 'reason', approval.reason ?? undefined, approval.step, approval.paramsHash);
  await deps.sessions.speech.showDecision(approval);
  const title = (approval.shown as ApprovalReply | null)?.title ?? approval.step;
  return tell(`Your reason was added to your denial of "${title}", in the group and in the audit log.`);
}

/** A denial's reason as the thread and the audit log keep it: one line, at most 500 characters. */
const REASON_MAX = 500;
function denyReason(text: string | undefined): string | undefined {
  const line = text?.replace(/\s+/g, ' ').trim();
  if (!line) return undefined;
  return line.length <= REASON_MAX ? line : `${line.slice(0, REASON_MAX - 1)}…`;
}

/** How long a click waits for the poster to record where the approval was posted (a fast click on a fresh message). */
const MESSAGE_RECORD_WAIT_MS = 5_000;

/**
 * The approval with the reference of the message it was posted in. A click can reach a replica before
 * the poster has stored that reference (the message exists as soon as the chat has it): wait for it.
 */
async function recordedApproval(deps: RuntimeDeps, approvalId: string): Promise<ApprovalRow | null> {
  const deadline = Date.now() + MESSAGE_RECORD_WAIT_MS;
  for (;;) {
    const approval = await deps.store.getApproval(approvalId);
    if (!approval || approval.messageRef || approval.decision !== null || Date.now() > deadline) return approval;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The click must come from the approval's own message, in its own session, on the session's platform. */
function bindingRefusal(row: SessionRow, approval: ApprovalRow, event: Decision): string | null {
  if (approval.sessionId !== event.sessionId) return 'This button belongs to another setup than its approval; your click changed nothing.';
  if (row.conversation.platform !== event.conversation.platform) {
    return `This setup runs in ${row.conversation.platform}; a click from ${event.conversation.platform} changes nothing.`;
  }
  if (approval.messageRef?.messageId !== event.messageId) {
    return 'This click did not come from the message that shows this approval; it changed nothing.';
  }
  return null;
}

async function applyDecision(deps: RuntimeDeps, row: SessionRow, approval: ApprovalRow, event: Decision) {
  await deps.sessions.speech.showDecision(approval);
  await deps.sessions.send(
    row.id,
    { type: event.decision === 'approve' ? 'APPROVE' : 'DENY', approvalId: approval.id, by: event.actor.id },
    event.eventId,
  );
}
