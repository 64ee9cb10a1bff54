// Runs one privileged step exactly once across restarts and replicas: it claims the step in the store,
// checks right before every cloud write that the claim is still its own and that nobody cancelled the
// setup, applies the step, and records what happened. When the store fails around a step, the session
// is suspended rather than failed: the thread is told what really changed, and the step is done again
// (idempotently) once the store is back.
import type { FlowName, StepOutcome, StepRequest } from '../../flows/contract.ts';
import { describeStep } from '../../flows/steps.ts';
import { StepStopped, type CallContext, type Executor, type WriteHooks } from '../executor/contract.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { StoreUnavailableError, type Store } from '../store/contract.ts';
import { paramsHash } from './approvals.ts';

/** A claim lasts this long unless renewed (before each write, and by a heartbeat while the step runs). */
export const STEP_LEASE_MS = 60_000;
const HEARTBEAT_MS = STEP_LEASE_MS / 3;
const CLAIM_POLL_MS = 250;

/** What a stopped step had done, kept in its row so any replica can report it. */
export interface StoppedStep {
  before: string;
  writes: string[];
  reason: StepStopped['reason'];
}

/** Why a step could not go on in this process now; the session waits for the resumer. */
export interface Suspension {
  reason: 'store unavailable' | 'claim lost';
  request: StepRequest;
  /** The step finished in the cloud before the store failed. */
  done: StepOutcome | null;
  /** Cloud writes made before it stopped (when not done). */
  writes: string[];
  error: string;
}

export interface StepJob {
  sessionId: string;
  clusterId: string;
  flow: FlowName;
  request: StepRequest;
  /** Aborted when the flow no longer waits for the step (a cancel reached it). */
  signal: AbortSignal;
  /** Stops the session's drive: the step neither succeeded nor failed as far as the flow knows. */
  suspend(suspension: Suspension): void;
  /** A line for the thread while a long step runs (a test backup in progress). */
  progress(text: string): void;
}

export type Audit = (entry: { sessionId: string; clusterId: string; outcome: string; detail: string; step: string; hash: string }) => Promise<void>;

export interface StepRunnerDeps {
  store: Store;
  executor: Executor;
  logger: Logger;
  metrics: Metrics;
  /** This process, in claims. */
  owner: string;
  audit: Audit;
}

export const stepKeyOf = (request: StepRequest) => `${request.step}:${paramsHash(request)}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const never = <T>() => new Promise<T>(() => undefined);
const describeWrite = (write: CallContext) => `${write.permission} on ${write.resource}`;
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class StepRunner {
  private readonly deps: StepRunnerDeps;

  constructor(deps: StepRunnerDeps) {
    this.deps = deps;
  }

  /** The step's outcome; rejects with the executor's StepError, or StepStopped for a cancel. */
  async run(job: StepJob): Promise<StepOutcome> {
    try {
      return await this.runClaimed(job);
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        job.suspend({ reason: 'store unavailable', request: job.request, done: null, writes: [], error: error.message });
        return never();
      }
      throw error;
    }
  }

  private async runClaimed(job: StepJob): Promise<StepOutcome> {
    const { store } = this.deps;
    const key = stepKeyOf(job.request);
    const earlier = await this.claim(job, key);
    if (earlier) return earlier;

    const writes: string[] = [];
    const heartbeat = setInterval(() => {
      store.guardStep(job.sessionId, key, this.deps.owner, STEP_LEASE_MS).catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    const stopTimer = this.deps.metrics.stepDuration.startTimer({ step: job.request.step, flow: job.flow });
    let outcome: StepOutcome;
    try {
      outcome = await this.deps.executor.apply(job.request, { writes: this.guard(job, key, writes), progress: (text) => job.progress(text) });
    } catch (error) {
      clearInterval(heartbeat);
      return this.failed(job, key, error, writes, stopTimer);
    }
    clearInterval(heartbeat);
    stopTimer({ result: outcome.outcome });
    try {
      await store.finishStep(job.sessionId, key, outcome);
    } catch (error) {
      job.suspend({ reason: 'store unavailable', request: job.request, done: outcome, writes, error: messageOf(error) });
      return never();
    }
    await this.audit(job, key, outcome.outcome, outcome.detail);
    return outcome;
  }

  /** Takes the step, or returns its outcome when it already ran; waits while another process holds it. */
  private async claim(job: StepJob, key: string): Promise<StepOutcome | null> {
    const { store, owner } = this.deps;
    for (;;) {
      if (job.signal.aborted) throw new StepStopped(job.request.step, 'cancelled', 'its start');
      const state = await store.getStep(job.sessionId, key);
      if (state?.status === 'done') return state.outcome as StepOutcome;
      if (state?.status === 'stopped') throw new StepStopped(job.request.step, 'cancelled', (state.outcome as StoppedStep).before);
      if (await store.claimStep(job.sessionId, key, owner, STEP_LEASE_MS)) return null;
      const session = await store.getSession(job.sessionId);
      if (session?.cancelRequested) throw new StepStopped(job.request.step, 'cancelled', 'its start', session.cancelRequested.by);
      await sleep(CLAIM_POLL_MS);
    }
  }

  /** Right before each write: still ours, not cancelled, and the flow still waits for us. */
  private guard(job: StepJob, key: string, writes: string[]): WriteHooks {
    const { store, owner } = this.deps;
    const step = job.request.step;
    return {
      before: async (write) => {
        const before = describeWrite(write);
        if (job.signal.aborted) throw new StepStopped(step, 'cancelled', before);
        let guard;
        try {
          guard = await store.guardStep(job.sessionId, key, owner, STEP_LEASE_MS);
        } catch {
          // Without the store a cancel cannot be seen: nothing is written blind.
          throw new StepStopped(step, 'store unavailable', before);
        }
        if (guard.cancelled) throw new StepStopped(step, 'cancelled', before, guard.cancelled.by);
        if (!guard.held) throw new StepStopped(step, 'claim lost', before);
      },
      after: (write) => {
        writes.push(describeWrite(write));
      },
    };
  }

  private async failed(job: StepJob, key: string, error: unknown, writes: string[], stopTimer: (labels: { result: string }) => void): Promise<never> {
    const { store, owner, metrics } = this.deps;
    if (error instanceof StepStopped && error.reason !== 'cancelled') {
      stopTimer({ result: 'suspended' });
      job.suspend({ reason: error.reason, request: job.request, done: null, writes, error: error.message });
      return never();
    }
    if (error instanceof StepStopped) {
      stopTimer({ result: 'stopped' });
      const stopped: StoppedStep = { before: error.before, writes, reason: error.reason };
      await store.stopStep(job.sessionId, key, stopped).catch((e: unknown) => this.deps.logger.warn({ err: e }, 'could not record the stopped step'));
      await this.audit(job, key, 'stopped', `${describeStep(job.request)} stopped before ${error.before}${writes.length ? ` after ${writes.join('; ')}` : ''}`);
      throw error;
    }
    stopTimer({ result: 'failed' });
    metrics.stepFailures.inc({ step: job.request.step, flow: job.flow, code: (error as { code?: string }).code ?? 'unknown' });
    await this.audit(job, key, 'failed', messageOf(error));
    await store.releaseStep(job.sessionId, key, owner).catch(() => undefined);
    throw error;
  }

  private async audit(job: StepJob, key: string, outcome: string, detail: string): Promise<void> {
    const hash = key.slice(key.indexOf(':') + 1);
    await this.deps
      .audit({ sessionId: job.sessionId, clusterId: job.clusterId, outcome, detail, step: job.request.step, hash })
      .catch((error: unknown) => this.deps.logger.warn({ err: error, step: job.request.step, outcome }, 'could not write the audit row of a step'));
  }
}
