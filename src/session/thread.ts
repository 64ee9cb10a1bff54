// What a session says in its thread: notices, the prompt it waits on (a question, or an approval with
// its row in the store), the closing message, and the closing of prompts nobody will answer. Messages
// are rendered from what the store keeps, so they stay true after a restart or on another replica.
import type { FlowNotice, Prompt, QuestionId } from '../../flows/contract.ts';
import { ANSWER_SUBJECT } from '../../flows/answer-subjects.ts';
import type { ApprovalReply, Conversation, PostedMessage, QuestionPrompt, Reply } from '../chat/model.ts';
import type { Executor } from '../executor/contract.ts';
import type { Logger } from '../observability/logger.ts';
import type { ApprovalRow, SessionRow, Store } from '../store/contract.ts';
import { approversOn, paramsHash } from './approvals.ts';
import type { Speaker } from './speaker.ts';

export type ApprovalPrompt = Extract<Prompt, { kind: 'approval' }>;

export interface ThreadDeps {
  store: Store;
  speaker: Speaker;
  executor: Executor;
  logger: Logger;
  now: () => Date;
  approvalTtlMs: number;
}

export function threadOf(row: SessionRow): Conversation {
  return row.threadId ? { ...row.conversation, threadId: row.threadId } : row.conversation;
}

export class SessionThread {
  private readonly deps: ThreadDeps;

  constructor(deps: ThreadDeps) {
    this.deps = deps;
  }

  async notice(thread: Conversation, notice: FlowNotice): Promise<void> {
    const { speaker } = this.deps;
    switch (notice.type) {
      case 'notice':
        await speaker.post(thread, { kind: 'text', text: notice.level === 'warning' ? `⚠️ ${notice.text}` : notice.text });
        return;
      case 'plan':
        await speaker.post(thread, { kind: 'plan', title: notice.title, lines: notice.lines });
        return;
      case 'stepDone':
        await speaker.post(thread, { kind: 'result', outcome: notice.outcome });
        return;
    }
  }

  async postQuestion(row: SessionRow, prompt: QuestionPrompt): Promise<PostedMessage | null> {
    return this.deps.speaker.post(threadOf(row), { kind: 'question', sessionId: row.id, prompt });
  }

  /** The approval as it is shown, and kept in the store; the same reply every later rendering repeats. */
  async approvalFor(row: SessionRow, prompt: ApprovalPrompt): Promise<{ reply: ApprovalReply; existing: ApprovalRow | null }> {
    const { store, executor, now, approvalTtlMs } = this.deps;
    const existing = await store.getApproval(prompt.approvalId);
    if (existing?.shown) return { reply: existing.shown as ApprovalReply, existing };
    const meta = executor.meta(prompt.request.step);
    const expiresAt = existing ? new Date(existing.expiresAt) : new Date(now().getTime() + approvalTtlMs);
    const reply: ApprovalReply = {
      kind: 'approval',
      sessionId: row.id,
      prompt,
      title: meta.title,
      // A preview can raise the step's risk (a policy version that revokes a vault's bucket), never lower it.
      risk: prompt.preview.raisedRisk?.level ?? meta.risk,
      riskReason: prompt.preview.raisedRisk?.reason ?? meta.riskReason,
      apis: meta.apis,
      expiresAt: expiresAt.toISOString(),
      requester: row.requester,
    };
    if (!existing) {
      await store.createApproval({
        id: prompt.approvalId,
        sessionId: row.id,
        step: prompt.request.step,
        paramsHash: paramsHash(prompt.request),
        requester: row.requester,
        expiresAt,
        shown: reply,
      });
    }
    return { reply, existing };
  }

  /** Posts the approval and records where, so a click is checked against it and updates reach it. */
  async postApproval(row: SessionRow, reply: ApprovalReply): Promise<PostedMessage | null> {
    const posted = await this.deps.speaker.post(threadOf(row), reply);
    if (posted) await this.deps.store.setApprovalMessage(reply.prompt.approvalId, posted);
    return posted;
  }

  /** The decided version of an approval, rendered from its row: what was shown, who decided, when, why. */
  decidedReply(approval: ApprovalRow, again?: { clusterId: string }): Extract<Reply, { kind: 'decided' }> {
    const shown = approval.shown as ApprovalReply | null;
    return {
      kind: 'decided',
      approvalId: approval.id,
      title: shown?.title ?? approval.step,
      decision: approval.decision ?? 'closed',
      by: approval.decidedBy ?? 'nobody',
      at: (approval.decidedAt ?? this.deps.now()).toISOString(),
      ...(shown ? { shown } : {}),
      ...(approval.reason ? { reason: approval.reason } : {}),
      ...(again && approval.decision === 'expired' ? { again } : {}),
    };
  }

  /** Updates an approval's message to its decided version (through the reference the store keeps). */
  async showDecision(approval: ApprovalRow, again?: { clusterId: string }): Promise<void> {
    if (approval.messageRef) await this.deps.speaker.update(approval.messageRef, this.decidedReply(approval, again));
  }

  /** Reminds the approvers, in the thread, that an approval expires soon. */
  async remind(row: SessionRow, approval: ApprovalRow, approvers: readonly string[]): Promise<void> {
    if (!row.threadId) return; // a fleet member: its fleet's message carries the approval
    const shown = approval.shown as ApprovalReply | null;
    const here = approversOn(row.conversation.platform, approvers);
    const others = here.filter((a) => a !== row.requester);
    await this.deps.speaker.post(threadOf(row), {
      kind: 'reminder',
      title: shown?.title ?? approval.step,
      expiresAt: approval.expiresAt.toISOString(),
      approvers: others.length > 0 ? others : here,
    });
  }

  /** The question message after its answer: who chose what, and no buttons. */
  async showAnswer(message: PostedMessage, prompt: QuestionPrompt, value: string, by: string): Promise<void> {
    const label = prompt.choices.find((c) => c.value === value)?.label ?? value;
    const subject = ANSWER_SUBJECT[prompt.questionId as QuestionId];
    await this.deps.speaker.update(message, { kind: 'answered', prompt, answer: { value, label, by, ...(subject ? { subject } : {}) } });
  }

  /** At the session's end: every prompt still open loses its buttons and says why. */
  async closePrompts(row: SessionRow, question: { message: PostedMessage; prompt: QuestionPrompt } | null, why: string): Promise<void> {
    const { store, now, logger } = this.deps;
    try {
      for (const approval of await store.closeOpenApprovals(row.id, now())) {
        await this.showDecision({ ...approval, reason: why });
      }
    } catch (error) {
      logger.warn({ err: error, sessionId: row.id }, 'could not close the open approvals of an ended session');
    }
    if (question) await this.deps.speaker.update(question.message, { kind: 'answered', prompt: question.prompt, answer: null, reason: why });
  }

  async closing(row: SessionRow, ok: boolean, text: string): Promise<void> {
    await this.deps.speaker.post(threadOf(row), { kind: 'done', ok, text });
  }
}
