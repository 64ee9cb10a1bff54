// What every executor module gets: the clients and one way to call a cloud API (retry, then a StepError).
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { CloudClients } from './clients.ts';
import type { StepError } from './contract.ts';
import { toStepError, type CallContext } from './errors.ts';
import type { CallLimiter } from './rate-limit.ts';
import { statusOf, withRetry, type RetryOptions } from './retry.ts';

export interface ExecContext {
  clients: CloudClients;
  logger: Logger;
  metrics?: Metrics;
  retry: RetryOptions;
  /** Client-side pacing shared by every call of the executor. */
  limiter?: CallLimiter;
  /** Interval between polls of CS tasks and Deployment readiness. */
  pollMs: number;
  /** Which step (or read) the calls belong to, for errors. */
  step: StepError['step'];
  /** The session's hooks around cloud writes (a privileged step's apply). */
  writes?: WriteHooks;
  /** Progress of a long step, one line for the thread each time ("Test backup …: InProgress"). Optional: may be absent. */
  progress?: (text: string) => void;
}

/** What the session runtime does around each cloud write of a step. */
export interface WriteHooks {
  /** Right before the write (each attempt); throws to stop the step there (a cancel, a lost claim). */
  before(write: CallContext): Promise<void>;
  /** After the write succeeded. */
  after(write: CallContext): void;
}

/** Writes, by the RAM action or Kubernetes verb they need; everything else the executor calls reads. */
export function isWrite(context: CallContext): boolean {
  return context.service === 'kube'
    ? /^(create|update|replace|patch|delete)\b/.test(context.permission)
    : /^[a-z]+:(Create|Delete|Attach|Detach|Put|Install|Upgrade|Update|Set|Modify|Open|Remove|Add)/.test(context.permission);
}

/** Each attempt waits for its slot in the limiter, so retries are paced too; a write passes the session's guard first. */
function attempt<T>(ctx: ExecContext, context: CallContext, fn: () => Promise<T>): () => Promise<T> {
  const limiter = ctx.limiter;
  const paced = limiter ? () => limiter.run(context.service, fn) : fn;
  const hooks = ctx.writes;
  if (!hooks || !isWrite(context)) return paced;
  return async () => {
    await hooks.before(context);
    const result = await paced();
    hooks.after(context);
    return result;
  };
}

/** A write the step does outside `call` (it handles the answer itself): guarded and paced like one. */
export function guarded<T>(ctx: ExecContext, context: CallContext, fn: () => Promise<T>): Promise<T> {
  return withRetry(attempt(ctx, context, fn), ctx.retry);
}

export function call<T>(ctx: ExecContext, context: CallContext, fn: () => Promise<T>): Promise<T> {
  return withRetry(attempt(ctx, context, fn), ctx.retry).catch((error: unknown) => {
    throw toStepError(ctx.step, error, context, ctx.metrics);
  });
}

/** Like `call`, but "not found" (404 / EntityNotExist.*) is an answer: null. */
export async function callOrNull<T>(ctx: ExecContext, context: CallContext, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await withRetry(attempt(ctx, context, fn), ctx.retry);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (statusOf(error) === 404 || (typeof code === 'string' && (code.startsWith('EntityNotExist') || code === 'NoSuchBucket'))) return null;
    throw toStepError(ctx.step, error, context, ctx.metrics);
  }
}

/** True when the error says the thing already exists (a concurrent create won the race). */
export function alreadyExists(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return statusOf(error) === 409 || (typeof code === 'string' && code.startsWith('EntityAlreadyExists'));
}

/** Runs a create; a concurrent or earlier create (AlreadyExists) counts as present. */
export async function createOrPresent(ctx: ExecContext, context: CallContext, fn: () => Promise<unknown>): Promise<'created' | 'present'> {
  try {
    await withRetry(attempt(ctx, context, fn), ctx.retry);
    return 'created';
  } catch (error) {
    if (alreadyExists(error)) return 'present';
    throw toStepError(ctx.step, error, context, ctx.metrics);
  }
}
