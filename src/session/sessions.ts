// Sessions: the life of one setup of one cluster, from the first message to the closing one. This
// module starts a session, hands it the events people send, resumes it when it was left, and closes
// it. The flows decide, the step runner applies privileged steps, the thread speaks, the store
// remembers; between events a session lives only in the store.
import { randomUUID } from 'node:crypto';
import { fromPromise, type Actor, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import type { AuthorizeInConsoleInput, ClusterFacts, FlowEvent, FlowName, FlowNotice, FlowOutput, Prompt, Repair, StepRequest, UserId } from '../../flows/contract.ts';
import { flows, flowVersions, preflightMachine, unattendedAnswer } from '../../flows/index.ts';
import type { Conversation, PostedMessage, QuestionPrompt } from '../chat/model.ts';
import type { Executor } from '../executor/contract.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { StaleRevisionError, type SessionRow, type Store } from '../store/contract.ts';
import { approversOn, paramsHash } from './approvals.ts';
import { closedBecause, interruptionNote, suspensionNote } from './endings.ts';
import { driveFlow, isSettled } from './flow-host.ts';
import { hasRunningWork, promptKey, promptOf, sessionIdFor, snapshotOf, stateName, type PostedPrompt, type SessionSnapshot } from './snapshot.ts';
import type { Speaker } from './speaker.ts';
import { StepRunner, type Suspension } from './step-runner.ts';
import { SessionThread, threadOf, type ApprovalPrompt } from './thread.ts';
import { code, person, time } from '../../flows/domain/inline.js';
import { applyingHead, endedHead, readingHead, waitingHead, type HeadOf, type StatusReply } from './thread-head.ts';
import type { FlowContext } from '../../flows/blocks/context.ts';

export type { SessionSnapshot } from './snapshot.ts';

export interface SessionDeps {
  store: Store;
  executor: Executor;
  speaker: Speaker;
  logger: Logger;
  metrics: Metrics;
  approvalTtlMs: number;
  now: () => Date;
  /** This process, for step claims and as the session's driver. */
  owner: string;
  /** Told of every setup (or Fix) that completes, once, by the process that closed it: the watch starts there. */
  onSetupComplete?: (row: SessionRow) => Promise<void>;
  /** APPROVERS: whom the top message says an approval waits on. */
  approvers?: readonly UserId[];
}

/**
 * A session that is part of a fleet setup speaks through its fleet instead of its own thread: questions
 * take their suggested answer, approvals are gathered into one message per step, and the fleet posts
 * one summary at the end.
 */
export interface FleetMember {
  approvalWaiting(row: SessionRow, prompt: ApprovalPrompt, expiresAt: Date): void;
  noticed(clusterId: string, notice: FlowNotice): void;
  closed(clusterId: string, output: FlowOutput): void;
}

export interface StartRequest {
  clusterId: string;
  requester: UserId;
  requesterName: string;
  conversation: Conversation;
  /** The inbox event that asked for it: the session's id is derived from it, so a redelivery starts nothing twice. */
  eventId: string;
  /** Only a test backup of a cluster already set up (`verify <id> --test-backup`), not a setup. */
  flow?: 'testBackup';
  /** A Fix of drift: only these steps are planned, on the vault's bucket (src/watch/drift.ts, repairOf). */
  repair?: Repair;
  /** The message whose thread the session lives in (a drift message), instead of a new one. */
  inThread?: string;
}

export type StartResult =
  | { started: true; sessionId: string }
  | { started: false; existing: SessionRow }
  /** Nothing was started: the thread could not be posted (the bot is not in the channel). */
  | { started: false; reason: string };

/** A session's driver holds it this long after each save; a session whose driver is gone is resumed. */
export const SESSION_LEASE_MS = 2 * 60_000;
const APPLIED_EVENTS = 50;
/** Saves that lose to another process's save are retried on the state it saved, this many times in all. */
const STALE_RETRIES = 3;

export class Sessions {
  private readonly deps: SessionDeps;
  private readonly thread: SessionThread;
  private readonly runner: StepRunner;
  /** Events for one session are handled one at a time in this process. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Flows running in this process now, so a cancel reaches one in the middle of its work. */
  private readonly live = new Map<string, Actor<AnyStateMachine>>();
  /** Fleet membership lives in this process only; after a restart a member speaks in the thread itself. */
  private readonly fleets = new Map<string, FleetMember>();

  constructor(deps: SessionDeps) {
    this.deps = deps;
    this.thread = new SessionThread(deps);
    this.runner = new StepRunner({
      ...deps,
      audit: (e) => this.audit(e.sessionId, e.clusterId, 'bot', 'step', e.outcome, e.detail, e.step, e.hash),
    });
  }

  get speech(): SessionThread {
    return this.thread;
  }

  /** Starts a setup of one cluster in a new thread, or reports the setup already running. */
  async start(request: StartRequest, fleet?: FleetMember): Promise<StartResult> {
    const { store, speaker, now } = this.deps;
    const { clusterId, requester, conversation } = request;
    const sessionId = sessionIdFor(request.eventId, clusterId);
    const created = await store.createSession({
      id: sessionId,
      clusterId,
      // Until the preflight picks the flow, `flow` says whether one was asked for.
      flow: request.flow ?? 'preflight',
      flowVersion: 0,
      requester,
      conversation,
      snapshot: null,
      state: 'preflight',
      ...(request.repair ? { repair: request.repair } : {}),
    });
    if (!created.ok) {
      if (created.existing.id !== sessionId) return { started: false, existing: created.existing };
      // This very event was handled before a crash: the session exists; let it go on.
      if (fleet) this.fleets.set(sessionId, fleet);
      await this.resume(sessionId);
      return { started: true, sessionId };
    }
    this.deps.metrics.sessionsStarted.inc();

    if (fleet) {
      this.fleets.set(sessionId, fleet);
    } else {
      // A Fix runs in the drift message's thread, whose top message is the drift report: it opens with a line of its own.
      const parent = request.inThread
        ? await speaker.post({ ...conversation, threadId: request.inThread }, {
          kind: 'text', text: `Fix of the drift for ${code(clusterId)}, requested by ${person(request.requester)} at ${time(now())}. Reading the cluster…`,
        })
        : await speaker.post(conversation, readingHead({ sessionId, clusterId, requester, testOnly: request.flow === 'testBackup', startedAt: created.row.createdAt }));
      if (!parent) {
        // Nothing can be seen where nothing could be posted: the setup does not start.
        if (await store.endSession(sessionId, 'failed')) this.deps.metrics.sessionsEnded.inc({ status: 'failed' });
        await this.audit(sessionId, clusterId, requester, 'session.start', 'refused', 'the thread could not be posted');
        return { started: false, reason: `The setup of ${code(clusterId)} did not start: the bot could not post in this channel (is it a member? \`/invite @backup-setup\`). Nothing was changed.` };
      }
      await store.setSessionThread(sessionId, request.inThread ?? parent.messageId);
    }
    await this.audit(sessionId, clusterId, requester, 'session.start', 'started');
    await this.enqueue(sessionId, () => this.preflight(sessionId));
    return { started: true, sessionId };
  }

  /** Sends a person's event (answer, decision) to the session's flow; `eventId` makes a redelivery a no-op. */
  send(sessionId: string, event: FlowEvent, eventId?: string): Promise<void> {
    return this.enqueue(sessionId, () => this.advance(sessionId, event, eventId));
  }

  /**
   * Cancels a session on every replica: the cancel is stored first, so a step running anywhere stops
   * before its next cloud write; a flow running here gets the event at once.
   */
  async cancel(row: SessionRow, by: UserId, eventId?: string): Promise<boolean> {
    const cancelled = await this.deps.store.requestCancel(row.id, by, this.deps.now());
    if (!cancelled) return false;
    await this.audit(row.id, row.clusterId, by, 'session.cancel', 'requested');
    this.live.get(row.id)?.send({ type: 'CANCEL', by });
    // Not running here (or it settled meanwhile): the flow takes it from the store.
    await this.send(row.id, { type: 'CANCEL', by }, eventId);
    return true;
  }

  /** Continues a session that nobody drives (a restart, a crash, a store that came back). */
  resume(sessionId: string): Promise<void> {
    return this.enqueue(sessionId, async () => {
      const row = await this.deps.store.getSession(sessionId);
      if (!row || row.status !== 'active') return;
      const stored = snapshotOf(row);
      if (stored === null) return this.preflight(row.id);
      const decided = await this.decisionNotYetApplied(row);
      if (!decided && !hasRunningWork(stored, this.fleets.has(row.id))) return;
      return this.advance(sessionId, decided);
    });
  }

  /** Handled in this process now (or a fleet member here): the resumer leaves it alone. */
  isHere(sessionId: string): boolean {
    return this.queues.has(sessionId) || this.fleets.has(sessionId);
  }

  /** Waits for every event this process is handling (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  /** Closes a session nobody has touched for too long; nothing more is changed. */
  abandon(row: SessionRow): Promise<void> {
    return this.enqueue(row.id, async () => {
      const current = await this.deps.store.getSession(row.id);
      if (!current || current.status !== 'active') return;
      await this.close(current, {
        status: 'abandoned',
        message: `This setup of ${code(row.clusterId)} was closed after a long time without activity. Nothing more was changed; start it again with \`/backup-setup ${row.clusterId}\`.`,
        completed: [],
      });
    });
  }

  /** The prompt a session waits on, and the message it was posted in. */
  posted(row: SessionRow): { prompt: Prompt | null; message: PostedMessage | null; applied: string[] } {
    const stored = snapshotOf(row);
    const prompt = promptOf(row);
    const message = prompt && stored?.posted?.key === promptKey(prompt) ? stored.posted.message : null;
    return { prompt, message, applied: stored?.applied ?? [] };
  }

  audit(
    sessionId: string | undefined,
    clusterId: string,
    actor: string,
    action: string,
    outcome: string,
    detail?: string,
    step?: string,
    stepParamsHash?: string,
  ) {
    return this.deps.store.appendAudit({
      at: this.deps.now(),
      actor,
      action,
      clusterId,
      sessionId,
      step,
      paramsHash: stepParamsHash,
      outcome,
      detail,
    });
  }

  private enqueue<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(sessionId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(sessionId, tail);
    void tail.then(() => {
      if (this.queues.get(sessionId) === tail) this.queues.delete(sessionId);
    });
    return next;
  }

  /** A decision consumed in the store whose event the flow never received (the process died in between). */
  private async decisionNotYetApplied(row: SessionRow): Promise<FlowEvent | undefined> {
    const prompt = promptOf(row);
    if (prompt?.kind !== 'approval') return undefined;
    const approval = await this.deps.store.getApproval(prompt.approvalId);
    switch (approval?.decision) {
      case 'approved':
        return { type: 'APPROVE', approvalId: approval.id, by: approval.decidedBy ?? 'unknown' };
      case 'denied':
        return { type: 'DENY', approvalId: approval.id, by: approval.decidedBy ?? 'unknown' };
      case 'expired':
        return { type: 'EXPIRE', approvalId: approval.id };
      default:
        return undefined;
    }
  }

  private async preflight(sessionId: string) {
    const { store } = this.deps;
    const row = await store.getSession(sessionId);
    if (!row || row.status !== 'active') return;
    const result = await driveFlow({
      machine: preflightMachine.provide({ actors: { readCluster: this.readClusterActor() } }),
      input: { clusterId: row.clusterId },
      onNotice: () => undefined,
      persist: async () => {},
    });
    if (result.kind !== 'settled') return;
    const output = result.snapshot.output as { flow: FlowName | null; facts: ClusterFacts | null; problem: string | null };
    if (!output.flow || !output.facts) {
      await this.close(row, { status: 'unsupported', message: output.problem ?? 'The cluster could not be read.', completed: [] });
      return;
    }
    // A test backup asked for on its own runs the testBackup flow on a cluster the preflight accepted.
    const flow: FlowName = row.flow === 'testBackup' ? 'testBackup' : output.flow;
    await store.setSessionFlow(sessionId, flow, flowVersions[flow]);
    await this.drive(
      { ...row, flow, flowVersion: flowVersions[flow] },
      { flow, version: flowVersions[flow], xstate: undefined, posted: null, applied: [] },
      { input: { sessionId, requester: row.requester, facts: output.facts, ...(row.repair && flow !== 'testBackup' ? { repair: row.repair as Repair } : {}) } },
    );
  }

  private async advance(sessionId: string, event: FlowEvent | undefined, eventId?: string, attempt = 1): Promise<void> {
    const row = await this.deps.store.getSession(sessionId);
    if (!row || row.status !== 'active') return;
    const stored = snapshotOf(row);
    if (!stored) return; // still in preflight in another process
    if (eventId !== undefined && stored.applied.includes(eventId)) return;
    // A cancel is a stored fact: whatever the event, a cancelled session goes to its end.
    if (row.cancelRequested) event = { type: 'CANCEL', by: row.cancelRequested.by };
    if (stored.version !== flowVersions[stored.flow]) {
      await this.close(row, {
        status: 'failed',
        message:
          `This setup was started by an older version of the bot (flow ${stored.flow} v${stored.version}) and cannot be continued. ` +
          `Nothing more was changed. Start it again with \`/backup-setup ${row.clusterId}\`.`,
        completed: [],
      });
      return;
    }
    const applied = eventId === undefined ? stored.applied : [...stored.applied, eventId].slice(-APPLIED_EVENTS);
    const context = (stored.xstate as { context?: FlowContext } | undefined)?.context;
    if (event?.type === 'APPROVE' && context?.prompt?.kind === 'approval' && context.prompt.approvalId === event.approvalId) {
      await this.updateHead(row, applyingHead(headOf(row), context, context.prompt));
    }
    const result = await this.drive(row, { ...stored, applied }, { event });
    // Another process saved the session meanwhile: the event applies to what it saved.
    if (result === 'stale' && attempt < STALE_RETRIES) return this.advance(sessionId, event, eventId, attempt + 1);
  }

  private async drive(row: SessionRow, stored: SessionSnapshot, how: { input?: unknown; event?: FlowEvent | undefined }): Promise<'done' | 'stale'> {
    const { store, owner } = this.deps;
    const thread = threadOf(row);
    const suspension: { value: Suspension | null } = { value: null };
    const controller = new AbortController();
    let revision = row.revision;
    const machine = flows[stored.flow].provide({
      actors: {
        previewStep: fromPromiseOf(({ input }: { input: StepRequest }) => this.deps.executor.preview(input)),
        applyStep: fromPromise(({ input, signal }: { input: StepRequest; signal: AbortSignal }) =>
          this.runner.run({
            sessionId: row.id,
            clusterId: row.clusterId,
            flow: stored.flow,
            request: input,
            signal,
            suspend: (why) => {
              suspension.value ??= why;
              controller.abort(new Error(why.error));
            },
            progress: (text) => {
              if (!this.fleets.has(row.id)) void this.deps.speaker.post(thread, { kind: 'progress', text });
            },
          }),
        ),
        readCluster: this.readClusterActor(),
        authorizeInConsole: fromPromise(({ input }: { input: AuthorizeInConsoleInput }) => this.deps.executor.authorizeInConsole(input)),
      },
    });
    const result = await driveFlow({
      machine,
      snapshot: stored.xstate,
      input: how.input,
      event: how.event,
      onNotice: (notice) => void this.notice(row.id, row.clusterId, thread, notice),
      onStart: (actor) => this.live.set(row.id, actor),
      signal: controller.signal,
      persist: async (persisted, current) => {
        const next: SessionSnapshot = { ...stored, xstate: persisted };
        // Settled on the prompt already posted: nothing more will run until people act.
        const prompt = (current.context as { prompt?: Prompt | null }).prompt ?? null;
        const waiting = isSettled(current) && current.status === 'active' && prompt !== null && stored.posted?.key === promptKey(prompt);
        revision = await store.saveSession(
          row.id,
          { snapshot: next, state: stateName(current), waiting, promptKey: waiting ? stored.posted!.key : null, driver: owner, driverLeaseMs: SESSION_LEASE_MS },
          revision,
        );
        stored = next;
      },
    }).finally(() => this.live.delete(row.id));
    if (result.kind === 'suspended') {
      if (result.error instanceof StaleRevisionError && !suspension.value) return 'stale';
      await this.suspended(row, suspension.value, result.error);
      return 'done';
    }
    await this.afterSettle({ ...row, revision }, stored, result.snapshot);
    return 'done';
  }

  /** The drive stopped without an answer: say what really happened, and leave the session to the resumer. */
  private async suspended(row: SessionRow, suspension: Suspension | null, error: unknown) {
    const { logger, speaker } = this.deps;
    if (suspension?.reason === 'claim lost') {
      // Another process took the step over: it speaks for the session.
      logger.info({ sessionId: row.id }, 'session continued elsewhere');
      return;
    }
    const cause = suspension?.error ?? (error instanceof Error ? error.message : String(error));
    logger.warn({ sessionId: row.id, err: { message: cause } }, 'session suspended: the store failed');
    await speaker.post(threadOf(row), { kind: 'text', text: suspensionNote(suspension, cause) });
  }

  /** Posts the prompt the flow now waits on (once), or closes the session when the flow is done. */
  private async afterSettle(row: SessionRow, stored: SessionSnapshot, snapshot: AnyMachineSnapshot) {
    if (snapshot.status === 'done') {
      await this.close(row, snapshot.output as FlowOutput, snapshot.context as FlowContext);
      return;
    }
    if (snapshot.status === 'error') {
      const correlationId = randomUUID().slice(0, 8);
      this.deps.logger.error({ err: snapshot.error, sessionId: row.id, correlationId }, 'flow failed');
      await this.close(row, {
        status: 'failed',
        message: `The setup stopped on an internal error (correlation id ${correlationId}). Nothing more will change; the operators can find the details in the logs.`,
        completed: [],
      });
      return;
    }
    const context = snapshot.context as FlowContext;
    const prompt = context.prompt ?? null;
    if (!prompt) return;
    const key = promptKey(prompt);
    if (key === stored.posted?.key && !hasRunningWork(stored, this.fleets.has(row.id))) return;
    // Cancelled while it worked (on another replica, say): no new prompt, the cancel goes first.
    if ((await this.deps.store.getSession(row.id))?.cancelRequested) return this.advance(row.id, undefined);
    const posted = await this.postPrompt(row, prompt);
    if (!posted) return;
    const next: SessionSnapshot = { ...stored, posted };
    try {
      await this.deps.store.saveSession(
        row.id,
        { snapshot: next, state: stateName(snapshot), waiting: true, promptKey: key, driver: this.deps.owner, driverLeaseMs: SESSION_LEASE_MS },
        row.revision,
      );
    } catch (error) {
      if (!(error instanceof StaleRevisionError)) throw error;
      // Another process moved the session on while the prompt was posted; it speaks from here.
      this.deps.logger.info({ sessionId: row.id }, 'session continued elsewhere after its prompt was posted');
      return;
    }
    // After the save, so a click on the prompt finds where it was posted.
    if (!posted.fleet) await this.updateHead(row, waitingHead(headOf(row), context, prompt, approversOn(row.conversation.platform, this.deps.approvers ?? [])));
  }

  /** Shows the prompt where people can answer it; null when nobody can (yet). */
  private async postPrompt(row: SessionRow, prompt: Prompt): Promise<PostedPrompt | null> {
    const key = promptKey(prompt);
    const fleet = this.fleets.get(row.id);
    if (prompt.kind === 'question') {
      if (fleet) {
        const value = unattendedAnswer(prompt);
        if (value === null) return null;
        await this.audit(row.id, row.clusterId, row.requester, 'answer', prompt.questionId, `${value} (fleet default)`);
        setImmediate(() => void this.send(row.id, { type: 'ANSWER', questionId: prompt.questionId, value, by: row.requester }));
        return null;
      }
      const message = await this.thread.postQuestion(row, prompt);
      await this.audit(row.id, row.clusterId, 'bot', 'question', prompt.questionId, prompt.text);
      return { key, message };
    }
    const { reply } = await this.thread.approvalFor(row, prompt);
    if (fleet) {
      fleet.approvalWaiting(row, prompt, new Date(reply.expiresAt));
      return { key, message: null, fleet: true };
    }
    const message = await this.thread.postApproval(row, reply);
    await this.audit(row.id, row.clusterId, 'bot', 'approval.requested', 'waiting', prompt.preview.changes.join('; '), prompt.request.step, paramsHash(prompt.request));
    return { key, message };
  }

  private async close(row: SessionRow, output: FlowOutput, context: FlowContext | null = null) {
    const { store, metrics } = this.deps;
    // Ended first: of several processes that reach the end (a cancel on one replica, a step on another), one speaks.
    if (!(await store.endSession(row.id, output.status))) return;
    metrics.sessionsEnded.inc({ status: output.status });
    let message = output.interrupted ? `${output.message}\n${await interruptionNote(store, row.id, output.interrupted)}` : output.message;
    const reason = output.status === 'denied' ? await this.denialReason(row) : null;
    if (reason) message = message.replace(/^[^\n]*/, (headline) => `${headline} Reason: ${reason}`);
    const fleet = this.fleets.get(row.id);
    this.fleets.delete(row.id);
    if (fleet) fleet.closed(row.clusterId, { ...output, message });
    else await this.thread.closing(row, output.status === 'complete', message);
    const open = this.posted(row);
    const question = open.prompt?.kind === 'question' && open.message ? { message: open.message, prompt: open.prompt as QuestionPrompt } : null;
    await this.thread.closePrompts(row, question, closedBecause(output));
    // Last: the top message's summary is the thread's final word.
    await this.updateHead(row, endedHead(headOf(row), { ...output, message }, context));
    await this.audit(row.id, row.clusterId, row.requester, 'session.end', output.status);
    if (output.status === 'complete' && row.flow !== 'testBackup' && this.deps.onSetupComplete) {
      await this.deps.onSetupComplete(row).catch((error: unknown) => this.deps.logger.warn({ err: error, clusterId: row.clusterId }, 'the watch could not be started'));
    }
  }

  /** Why the approval the session waited on was denied, when the approver said. */
  private async denialReason(row: SessionRow): Promise<string | null> {
    const prompt = promptOf(row);
    return prompt?.kind === 'approval' ? ((await this.deps.store.getApproval(prompt.approvalId))?.reason ?? null) : null;
  }

  /** The top message of the session's thread, replaced by where the session is now. */
  private async updateHead(row: SessionRow, reply: StatusReply) {
    if (row.threadId && !row.repair && !this.fleets.has(row.id)) await this.deps.speaker.update({ conversation: row.conversation, messageId: row.threadId }, reply);
  }

  private notice(sessionId: string, clusterId: string, thread: Conversation, notice: FlowNotice) {
    const fleet = this.fleets.get(sessionId);
    if (fleet) return fleet.noticed(clusterId, notice);
    return this.thread.notice(thread, notice);
  }

  private readClusterActor() {
    return fromPromiseOf(({ input }: { input: { clusterId: string } | string }) =>
      this.deps.executor.readCluster(typeof input === 'string' ? input : input.clusterId),
    );
  }
}

function headOf(row: SessionRow): HeadOf {
  return { sessionId: row.id, clusterId: row.clusterId, requester: row.requester, testOnly: row.flow === 'testBackup', startedAt: new Date(row.createdAt) };
}

const fromPromiseOf = <T, I>(run: (args: { input: I }) => Promise<T>) => fromPromise<T, I>(run);

