// One fleet setup: a session per cluster, run concurrently, with one approval message per step that
// lists every cluster it covers, and a summary table at the end. The sessions stay ordinary sessions
// (persisted, claimed, audited); the fleet only gathers what they would have said in their threads.
import { randomUUID } from 'node:crypto';
import type { FlowNotice, FlowOutput, Prompt, StepName } from '../../flows/contract.ts';
import { STEP_ORDER } from '../../flows/steps.ts';
import type { Actor, ApprovalReply, Conversation, TellActor } from '../chat/model.ts';
import type { Executor } from '../executor/contract.ts';
import type { Logger } from '../observability/logger.ts';
import { decisionRefusal, paramsHash, refusalFor, type ApprovalPolicy } from '../session/approvals.ts';
import type { FleetMember, Sessions } from '../session/sessions.ts';
import type { Speaker } from '../session/speaker.ts';
import type { SessionRow, Store } from '../store/contract.ts';
import { fleetRow, renderFleetSummary, type FleetRow } from './summary.ts';

export interface FleetDeps {
  store: Store;
  sessions: Sessions;
  speaker: Speaker;
  executor: Executor;
  logger: Logger;
  policy: ApprovalPolicy;
  now: () => Date;
  /** How many clusters are read and started at the same time. */
  startConcurrency: number;
}

type ApprovalPrompt = Extract<Prompt, { kind: 'approval' }>;

interface Waiting {
  row: SessionRow;
  prompt: ApprovalPrompt;
  expiresAt: Date;
}

interface Member {
  clusterId: string;
  state: 'running' | 'waiting' | 'finished';
  waiting: Waiting | null;
  row: FleetRow | null;
  warnings: string[];
}

interface FleetApproval {
  id: string;
  step: StepName;
  hash: string;
  covered: Waiting[];
  message: { conversation: Conversation; messageId: string } | null;
  shown: ApprovalReply | null;
  /** Until the message (and its follow-ups) is posted: a click can arrive before the post returns. */
  posting: Promise<void> | null;
}

export const FLEET_APPROVAL_PREFIX = 'fleet:';
/** The fleet's first message names this many clusters; each approval and the summary list them all. */
const NAMED_IN_PARENT = 10;

function compactList(ids: string[]): string {
  const named = ids.slice(0, NAMED_IN_PARENT).map((id) => `\`${id}\``).join(', ');
  return ids.length <= NAMED_IN_PARENT ? named : `${named} and ${ids.length - NAMED_IN_PARENT} more (each approval and the closing summary list every one)`;
}

export class FleetRun {
  readonly id = randomUUID();
  private readonly deps: FleetDeps;
  private readonly requester: Actor;
  private thread: Conversation;
  private readonly members = new Map<string, Member>();
  private approval: FleetApproval | null = null;
  private rounds = 0;
  private starting = true;
  private finished = false;
  private readonly onFinish: () => void;
  /** The command's inbox event: each member's session id derives from it, so a redelivery starts nothing twice. */
  private readonly eventId: string;

  constructor(deps: FleetDeps, requester: Actor, conversation: Conversation, clusterIds: string[], eventId: string, onFinish: () => void) {
    this.deps = deps;
    this.eventId = eventId;
    this.requester = requester;
    this.thread = conversation;
    this.onFinish = onFinish;
    for (const clusterId of clusterIds) this.members.set(clusterId, { clusterId, state: 'running', waiting: null, row: null, warnings: [] });
  }

  /** Posts the fleet's thread and starts a session per cluster, a few at a time. */
  async start(refusals: Map<string, string>): Promise<void> {
    const { speaker, sessions, now } = this.deps;
    const ids = [...this.members.keys()];
    const parent = await speaker.post(this.thread, {
      kind: 'text',
      text:
        `Backup center setup of ${ids.length} clusters, requested by ${this.requester.name} at ${now().toISOString()}: ` +
        `${compactList(ids)}. Questions take their suggested answers; each step is approved once for every cluster it covers.`,
    });
    if (parent) this.thread = { ...this.thread, threadId: parent.messageId };

    const queue = [...ids];
    const worker = async () => {
      for (let clusterId = queue.shift(); clusterId !== undefined; clusterId = queue.shift()) {
        const refusal = refusals.get(clusterId);
        if (refusal) {
          this.finish(clusterId, { clusterId, result: 'skipped', reason: refusal });
          continue;
        }
        const started = await sessions
          .start(
            { clusterId, requester: this.requester.id, requesterName: this.requester.name, conversation: this.thread, eventId: this.eventId },
            this.member(),
          )
          .catch((error: unknown) => {
            this.deps.logger.error({ err: error, clusterId, fleetId: this.id }, 'fleet member failed to start');
            return { started: false as const, reason: 'the setup could not start; see the logs' };
          });
        if (!started.started) {
          const reason = 'existing' in started ? `a setup started by ${started.existing.requester} is already running` : started.reason;
          this.finish(clusterId, { clusterId, result: 'skipped', reason });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.startConcurrency, ids.length) }, worker));
    this.starting = false;
    await this.flush();
  }

  owns(approvalId: string): boolean {
    return this.approval?.id === approvalId;
  }

  /** An Approve or Deny on the fleet's approval message: decides the step for every cluster it covers. */
  async decide(approvalId: string, decision: 'approve' | 'deny', actor: Actor, messageId: string, tell: TellActor): Promise<void> {
    const { store, speaker, sessions, now, executor } = this.deps;
    const approval = this.approval;
    if (!approval || approval.id !== approvalId) return tell('This approval was already decided; your click changed nothing.');
    await approval.posting;
    if (approval.message?.messageId !== messageId) return tell('This click did not come from the message that shows this approval; it changed nothing.');
    const refusal = await decisionRefusal(this.deps.policy, actor.id, this.requester.id);
    if (refusal) return tell(refusal);
    const at = now();
    const outcome = decision === 'approve' ? 'approved' : 'denied';
    const decided = await store.decideApproval(approval.id, { by: actor.id, decision: outcome, at, paramsHash: approval.hash });
    if (!decided.ok) return tell(refusalFor(decided.reason, decided.approval));
    this.approval = null;
    if (approval.message) {
      await speaker.update(approval.message, {
        kind: 'decided',
        approvalId,
        title: `${executor.meta(approval.step).title} on ${approval.covered.length} clusters`,
        decision: outcome,
        by: actor.id,
        at: at.toISOString(),
        ...(approval.shown ? { shown: approval.shown } : {}),
      });
    }
    for (const waiting of approval.covered) {
      // The store answers SQLite at once, so without a turn of the event loop this loop would hold back every ack.
      await new Promise((resolve) => setImmediate(resolve));
      const member = this.members.get(waiting.row.clusterId)!;
      const hash = paramsHash(waiting.prompt.request);
      const own = await store.decideApproval(waiting.prompt.approvalId, { by: actor.id, decision: outcome, at, paramsHash: hash });
      if (!own.ok) continue; // expired on its own, or decided elsewhere: that session goes its own way
      member.state = 'running';
      member.waiting = null;
      await sessions.audit(waiting.row.id, waiting.row.clusterId, actor.id, `approval.${decision}`, outcome, `fleet ${this.id}`, approval.step, hash);
      void sessions.send(waiting.row.id, {
        type: decision === 'approve' ? 'APPROVE' : 'DENY',
        approvalId: waiting.prompt.approvalId,
        by: actor.id,
      });
    }
    await this.flush();
  }

  private member(): FleetMember {
    return {
      approvalWaiting: (row, prompt, expiresAt) => {
        const member = this.members.get(row.clusterId);
        if (!member || member.waiting?.prompt.approvalId === prompt.approvalId) return;
        member.state = 'waiting';
        member.waiting = { row, prompt, expiresAt };
        void this.flush();
      },
      noticed: (clusterId, notice: FlowNotice) => {
        if (notice.type === 'notice' && notice.level === 'warning') this.members.get(clusterId)?.warnings.push(notice.text);
      },
      closed: (clusterId, output: FlowOutput) => {
        this.finish(clusterId, fleetRow(clusterId, output));
      },
    };
  }

  private finish(clusterId: string, row: FleetRow) {
    const member = this.members.get(clusterId);
    if (!member || member.state === 'finished') return;
    member.state = 'finished';
    member.waiting = null;
    member.row = row;
    void this.flush();
  }

  /**
   * When no cluster is busy, asks for the earliest step any cluster waits on (one message for all of
   * them), or posts the summary when every cluster has finished.
   */
  private async flush(): Promise<void> {
    if (this.starting || this.approval || this.finished) return;
    const members = [...this.members.values()];
    if (members.some((m) => m.state === 'running')) return;
    const waiting = members.filter((m) => m.waiting).map((m) => m.waiting!);
    if (waiting.length === 0) return this.summarize(members);

    const step = STEP_ORDER.find((s) => waiting.some((w) => w.prompt.request.step === s))!;
    const covered = waiting.filter((w) => w.prompt.request.step === step);
    const id = `${FLEET_APPROVAL_PREFIX}${this.id}/${step}/${++this.rounds}`;
    const hash = paramsHash({ step, params: covered.map((w) => paramsHash(w.prompt.request)) } as never);
    const expiresAt = new Date(Math.min(...covered.map((w) => w.expiresAt.getTime())));
    const approval: FleetApproval = { id, step, hash, covered, message: null, shown: null, posting: null };
    this.approval = approval;

    const { store, speaker, executor } = this.deps;
    const meta = executor.meta(step);
    const first = covered[0]!.prompt;
    const prompt: ApprovalPrompt = {
      kind: 'approval',
      approvalId: id,
      request: first.request,
      preview: {
        step,
        upToDate: false,
        changes: covered.flatMap((w) => w.prompt.preview.changes.map((line) => `${w.row.clusterId}: ${line}`)),
      },
    };
    const shown: ApprovalReply = {
      kind: 'approval',
      sessionId: covered[0]!.row.id,
      prompt,
      title: `${meta.title} on ${covered.length} cluster${covered.length === 1 ? '' : 's'}`,
      covers: covered.map((w) => w.row.clusterId),
      risk: meta.risk,
      apis: meta.apis,
      expiresAt: expiresAt.toISOString(),
      requester: this.requester.id,
    };
    approval.shown = shown;
    await store.createApproval({ id, sessionId: covered[0]!.row.id, step, paramsHash: hash, requester: this.requester.id, expiresAt, shown });
    approval.posting = (async () => {
      const posted = await speaker.post(this.thread, shown);
      if (posted) {
        approval.message = posted;
        await store.setApprovalMessage(id, posted);
      }
    })();
    await approval.posting;
  }

  private async summarize(members: Member[]) {
    this.finished = true;
    const rows = members.map((m) => m.row ?? { clusterId: m.clusterId, result: 'failed' as const, reason: 'no result' });
    const summary = renderFleetSummary(rows);
    const warnings = members.flatMap((m) => m.warnings.map((w) => `⚠️ ${m.clusterId}: ${w}`));
    await this.deps.speaker.post(this.thread, { kind: 'done', ok: summary.ok, text: [summary.text, ...warnings].join('\n') });
    this.onFinish();
  }
}
