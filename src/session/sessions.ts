// Sessions: one setup of one cluster, from the first message to the closing one. This module owns the
// life of a session (start, advance on an event, render the prompt it waits on, close it); the flows
// decide, the executor acts, the store remembers, the chat ports speak.
import { randomUUID } from 'node:crypto';
import { fromPromise, type AnyMachineSnapshot } from 'xstate';
import type {
  ClusterFacts,
  FlowEvent,
  FlowName,
  FlowNotice,
  FlowOutput,
  Prompt,
  StepOutcome,
  StepRequest,
  UserId,
} from '../../flows/contract.ts';
import { flows, flowVersions, preflightMachine, unattendedAnswer } from '../../flows/index.ts';
import type { Conversation, Reply } from '../chat/model.ts';
import type { Executor } from '../executor/contract.ts';
import type { Store, SessionRow } from '../store/contract.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { driveFlow } from './flow-host.ts';
import { paramsHash } from './approvals.ts';
import type { Speaker } from './speaker.ts';

/** What the store keeps for a session besides its row: the flow's persisted snapshot and what was shown. */
export interface SessionSnapshot {
  flow: FlowName;
  version: number;
  xstate: unknown;
  /** The prompt last posted, so a restart re-posts a prompt that never reached the thread. */
  postedPrompt: string | null;
}

export interface SessionDeps {
  store: Store;
  executor: Executor;
  speaker: Speaker;
  logger: Logger;
  metrics: Metrics;
  approvalTtlMs: number;
  now: () => Date;
  /** This process, for step claims. */
  owner: string;
}

const STEP_LEASE_MS = 10 * 60_000;

/**
 * A session that is part of a fleet setup speaks through its fleet instead of its own thread: questions
 * take their suggested answer, approvals are gathered into one message per step, and the fleet posts
 * one summary at the end.
 */
export interface FleetMember {
  approvalWaiting(row: SessionRow, prompt: Extract<Prompt, { kind: 'approval' }>, expiresAt: Date): void;
  noticed(clusterId: string, notice: FlowNotice): void;
  closed(clusterId: string, output: FlowOutput): void;
}

export class Sessions {
  private readonly deps: SessionDeps;
  /** Events for one session are handled one at a time in this process. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Fleet membership lives in this process only; after a restart a member speaks in the thread itself. */
  private readonly fleets = new Map<string, FleetMember>();

  constructor(deps: SessionDeps) {
    this.deps = deps;
  }

  /** Starts a setup of one cluster in a new thread. Returns the session id, or the running session. */
  async start(
    clusterId: string,
    requester: UserId,
    requesterName: string,
    conversation: Conversation,
    fleet?: FleetMember,
    options: { flow?: 'testBackup' } = {},
  ): Promise<{ started: true; sessionId: string } | { started: false; existing: SessionRow }> {
    const { store, speaker, now } = this.deps;
    const sessionId = randomUUID();
    const created = await store.createSession({
      id: sessionId,
      clusterId,
      flow: 'preflight',
      flowVersion: 0,
      requester,
      conversation,
      snapshot: null,
      state: 'preflight',
    });
    if (!created.ok) return { started: false, existing: created.existing };
    this.deps.metrics.sessionsStarted.inc();

    let thread = conversation;
    if (fleet) {
      this.fleets.set(sessionId, fleet);
    } else {
      const parent = await speaker.post(conversation, {
        kind: 'text',
        text: `${options.flow === 'testBackup' ? 'Test backup' : 'Backup center setup'} for \`${clusterId}\`, requested by ${requesterName} at ${now().toISOString()}. Reading the cluster…`,
      });
      if (parent) {
        thread = { ...conversation, threadId: parent.messageId };
        await store.setSessionThread(sessionId, parent.messageId);
      }
    }
    await this.audit(sessionId, clusterId, requester, 'session.start', 'started');

    await this.enqueue(sessionId, () => this.preflight(sessionId, clusterId, requester, thread, options.flow));
    return { started: true, sessionId };
  }

  /** Sends a person's event (answer, decision, cancel) to the session's flow. */
  send(sessionId: string, event: FlowEvent): Promise<void> {
    return this.enqueue(sessionId, () => this.advance(sessionId, event));
  }

  /** Resumes a session after a restart: a running step is run again (steps are idempotent and claimed). */
  resume(sessionId: string): Promise<void> {
    return this.enqueue(sessionId, async () => {
      const row = await this.deps.store.getSession(sessionId);
      if (!row || row.status !== 'active') return;
      if (row.snapshot === null) return this.preflight(row.id, row.clusterId, row.requester, this.threadOf(row));
      const decided = await this.decisionNotYetApplied(row);
      // A session that only waits for people needs nothing until they act: its buttons work from the store.
      if (!decided && !hasRunningWork(row.snapshot as SessionSnapshot)) return;
      return this.advance(sessionId, decided);
    });
  }

  /** A decision consumed in the store whose event the flow never received (the process died in between). */
  private async decisionNotYetApplied(row: SessionRow): Promise<FlowEvent | undefined> {
    const prompt = await this.currentPrompt(row);
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
        message: `This setup of \`${row.clusterId}\` was closed after a long time without activity. Nothing more was changed; start it again with \`/backup-setup ${row.clusterId}\`.`,
        completed: [],
      });
    });
  }

  /** The prompt a session waits on, from its stored snapshot. */
  async currentPrompt(row: SessionRow): Promise<Prompt | null> {
    const stored = row.snapshot as SessionSnapshot | null;
    const xstate = stored?.xstate as { context?: { prompt?: Prompt | null } } | undefined;
    return xstate?.context?.prompt ?? null;
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

  private async preflight(sessionId: string, clusterId: string, requester: UserId, thread: Conversation, only?: 'testBackup') {
    const { store, speaker } = this.deps;
    const machine = preflightMachine.provide({
      actors: { readCluster: this.readClusterActor() },
    });
    const result = await driveFlow({
      machine,
      input: { clusterId },
      onNotice: (notice) => void this.notice(sessionId, clusterId, thread, notice),
      persist: async () => {},
    });
    const output = result.output as { flow: FlowName | null; facts: ClusterFacts | null; problem: string | null };
    if (!output.flow || !output.facts) {
      const text = output.problem ?? 'The cluster could not be read.';
      const fleet = this.fleets.get(sessionId);
      if (fleet) fleet.closed(clusterId, { status: 'unsupported', message: text, completed: [] });
      else await speaker.post(thread, { kind: 'done', ok: false, text });
      this.fleets.delete(sessionId);
      await store.endSession(sessionId, 'unsupported');
      await this.audit(sessionId, clusterId, requester, 'session.end', 'unsupported', output.problem ?? undefined);
      return;
    }
    const row = await this.mustGet(sessionId);
    const flow = only ?? output.flow;
    await this.drive(row, { flow, version: flowVersions[flow], xstate: undefined, postedPrompt: null }, {
      input: { sessionId, requester, facts: output.facts },
    });
  }

  private async advance(sessionId: string, event: FlowEvent | undefined) {
    const row = await this.deps.store.getSession(sessionId);
    if (!row || row.status !== 'active') return;
    const stored = row.snapshot as SessionSnapshot | null;
    if (!stored) return; // still in preflight in another process
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
    await this.drive(row, stored, { event });
  }

  private async drive(row: SessionRow, stored: SessionSnapshot, how: { input?: unknown; event?: FlowEvent | undefined }) {
    const { store } = this.deps;
    const thread = this.threadOf(row);
    let revision = row.revision;
    const machine = flows[stored.flow].provide({
      actors: {
        previewStep: this.previewActor(),
        applyStep: this.applyActor(row.id, row.clusterId, stored.flow),
        readCluster: this.readClusterActor(),
      },
    });
    const snapshot = await driveFlow({
      machine,
      snapshot: stored.xstate,
      input: how.input,
      event: how.event,
      onNotice: (notice) => void this.notice(row.id, row.clusterId, thread, notice),
      persist: async (persisted, current) => {
        const next: SessionSnapshot = { ...stored, xstate: persisted };
        revision = await store.saveSession(row.id, { snapshot: next, state: stateName(current) }, revision);
        stored = next;
      },
    });
    await this.afterSettle({ ...row, revision }, stored, snapshot);
  }

  /** Posts the prompt the flow now waits on (once), or closes the session when the flow is done. */
  private async afterSettle(row: SessionRow, stored: SessionSnapshot, snapshot: AnyMachineSnapshot) {
    if (snapshot.status === 'done') {
      await this.close(row, snapshot.output as FlowOutput);
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
    const prompt = (snapshot.context as { prompt?: Prompt | null }).prompt ?? null;
    const key = prompt ? promptKey(prompt) : null;
    if (!prompt || key === stored.postedPrompt) return;
    // A prompt handed to a fleet is not marked as posted: after a restart it is posted in the thread.
    if (!(await this.postPrompt(row, prompt))) return;
    stored = { ...stored, postedPrompt: key };
    await this.deps.store.saveSession(row.id, { snapshot: stored, state: stateName(snapshot) }, row.revision);
  }

  /** Shows the prompt; false when a fleet took it instead of the thread. */
  private async postPrompt(row: SessionRow, prompt: Prompt): Promise<boolean> {
    const { store, speaker, executor, now, approvalTtlMs } = this.deps;
    const thread = this.threadOf(row);
    const fleet = this.fleets.get(row.id);
    if (prompt.kind === 'question' && fleet) {
      const value = unattendedAnswer(prompt);
      if (value === null) return false;
      await this.audit(row.id, row.clusterId, row.requester, 'answer', prompt.questionId, `${value} (fleet default)`);
      setImmediate(() => void this.send(row.id, { type: 'ANSWER', questionId: prompt.questionId, value, by: row.requester }));
      return false;
    }
    if (prompt.kind === 'question') {
      await speaker.post(thread, { kind: 'question', sessionId: row.id, prompt });
      await this.audit(row.id, row.clusterId, 'bot', 'question', prompt.questionId, prompt.text);
      return true;
    }
    const existing = await store.getApproval(prompt.approvalId);
    const expiresAt = existing ? new Date(existing.expiresAt) : new Date(now().getTime() + approvalTtlMs);
    if (!existing) {
      await store.createApproval({
        id: prompt.approvalId,
        sessionId: row.id,
        step: prompt.request.step,
        paramsHash: paramsHash(prompt.request),
        requester: row.requester,
        expiresAt,
      });
    }
    if (fleet) {
      fleet.approvalWaiting(row, prompt, expiresAt);
      return false;
    }
    const meta = executor.meta(prompt.request.step);
    const reply: Reply = {
      kind: 'approval',
      sessionId: row.id,
      prompt,
      title: meta.title,
      risk: meta.risk,
      apis: meta.apis,
      expiresAt: expiresAt.toISOString(),
      requester: row.requester,
    };
    const posted = await speaker.post(thread, reply);
    if (posted) await store.setApprovalMessage(prompt.approvalId, posted);
    await this.audit(row.id, row.clusterId, 'bot', 'approval.requested', 'waiting', prompt.preview.changes.join('; '), prompt.request.step, paramsHash(prompt.request));
    return true;
  }

  private async close(row: SessionRow, output: FlowOutput) {
    const { store, speaker, metrics } = this.deps;
    const fleet = this.fleets.get(row.id);
    this.fleets.delete(row.id);
    if (fleet) fleet.closed(row.clusterId, output);
    else await speaker.post(this.threadOf(row), { kind: 'done', ok: output.status === 'complete', text: output.message });
    await store.endSession(row.id, output.status);
    metrics.sessionsEnded.inc({ status: output.status });
    await this.audit(row.id, row.clusterId, row.requester, 'session.end', output.status);
  }

  private async notice(sessionId: string, clusterId: string, thread: Conversation, notice: FlowNotice) {
    const { speaker } = this.deps;
    const fleet = this.fleets.get(sessionId);
    if (fleet) return fleet.noticed(clusterId, notice);
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

  private readClusterActor() {
    return fromPromiseOf(({ input }: { input: { clusterId: string } | string }) =>
      this.deps.executor.readCluster(typeof input === 'string' ? input : input.clusterId),
    );
  }

  private previewActor() {
    return fromPromiseOf(({ input }: { input: StepRequest }) => this.deps.executor.preview(input));
  }

  /** Runs a privileged step exactly once across restarts and replicas: claimed in the store first. */
  private applyActor(sessionId: string, clusterId: string, flow: FlowName) {
    return fromPromiseOf(async ({ input }: { input: StepRequest }): Promise<StepOutcome> => {
      const { store, executor, owner, metrics } = this.deps;
      const hash = paramsHash(input);
      const stepKey = `${input.step}:${hash}`;
      for (;;) {
        const state = await store.getStep(sessionId, stepKey);
        if (state?.status === 'done') return state.outcome as StepOutcome;
        if (await store.claimStep(sessionId, stepKey, owner, STEP_LEASE_MS)) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const stopTimer = metrics.stepDuration.startTimer({ step: input.step, flow });
      try {
        const outcome = await executor.apply(input);
        await store.finishStep(sessionId, stepKey, outcome);
        stopTimer({ result: outcome.outcome });
        await this.audit(sessionId, clusterId, 'bot', 'step', outcome.outcome, outcome.detail, input.step, hash);
        return outcome;
      } catch (error) {
        stopTimer({ result: 'failed' });
        await this.audit(sessionId, clusterId, 'bot', 'step', 'failed', error instanceof Error ? error.message : String(error), input.step, hash);
        metrics.stepFailures.inc({ step: input.step, flow, code: (error as { code?: string }).code ?? 'unknown' });
        await store.releaseStep(sessionId, stepKey, owner);
        throw error;
      }
    });
  }

  private threadOf(row: SessionRow): Conversation {
    const conversation = row.conversation as Conversation;
    return row.threadId ? { ...conversation, threadId: row.threadId } : conversation;
  }

  private async mustGet(sessionId: string): Promise<SessionRow> {
    const row = await this.deps.store.getSession(sessionId);
    if (!row) throw new Error(`session ${sessionId} vanished from the store`);
    return row;
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
}

const fromPromiseOf = <T, I>(run: (args: { input: I }) => Promise<T>) => fromPromise<T, I>(run);

/** Whether the persisted flow was in the middle of something (an invoked read or step) or never posted its prompt. */
function hasRunningWork(stored: SessionSnapshot): boolean {
  const xstate = stored.xstate as { status?: string; children?: Record<string, unknown>; context?: { prompt?: Prompt | null } } | undefined;
  if (!xstate || xstate.status !== 'active') return true; // not started, or finished but not yet closed
  if (Object.keys(xstate.children ?? {}).length > 0) return true;
  const prompt = xstate.context?.prompt ?? null;
  return prompt !== null && promptKey(prompt) !== stored.postedPrompt;
}

function stateName(snapshot: AnyMachineSnapshot): string {
  return JSON.stringify(snapshot.value);
}

function promptKey(prompt: Prompt): string {
  return prompt.kind === 'approval' ? `approval:${prompt.approvalId}` : `question:${prompt.questionId}`;
}
