// What every executor module gets: the clients and one way to call a cloud API (retry, then a StepError).
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { CloudClients } from './clients.ts';
import type { CreatedAccessKeys, StepError } from './contract.ts';
import { toStepError, type CallContext } from './errors.ts';
import type { CallLimiter } from './rate-limit.ts';
import { codeOf, isRetryable, statusOf, withRetry, type RetryOptions, type WriteCheck } from './retry.ts';

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
  createdAccessKeys: CreatedAccessKeys;
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

/**
 * Each attempt waits for its slot in the limiter, so retries are paced too; a write passes the session's guard
 * first; a transient failure is logged.
 */
function attempt<T>(ctx: ExecContext, context: CallContext, fn: () => Promise<T>): () => Promise<T> {
  const limiter = ctx.limiter;
  const paced = limiter ? () => limiter.run(context.service, fn, context.scope) : fn;
  const hooks = ctx.writes;
  const once = !hooks || !isWrite(context)
    ? paced
    : async () => {
      await hooks.before(context);
      const result = await paced();
      hooks.after(context);
      return result;
    };
  return () => once().catch((error: unknown) => {
    if (isRetryable(error)) {
      ctx.logger.info({ step: ctx.step, service: context.service, permission: context.permission, err: { name: (error as Error)?.name, code: codeOf(error) } }, 'cloud call failed transiently');
    }
    throw error;
  });
}

/**
 * A write the step does outside `write` (it handles the answer itself, e.g. AlreadyExists): guarded and paced like
 * one, and, like one, not repeated after an ambiguous failure unless `landed` says it did not land.
 */
export function guarded<T>(ctx: ExecContext, context: CallContext, fn: () => Promise<T>, landed: WriteCheck<T>['landed'] = null): Promise<T> {
  return withRetry(attempt(ctx, context, fn), ctx.retry, { landed });
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

/**
 * A write. When an attempt times out or its connection drops, `landed` reads whether the service carried it out
 * before anything is repeated; its non-null answer stands for the write's result. Without `landed`, such a failure
 * ends the step (the write is not repeated blindly).
 */
export function write<T>(ctx: ExecContext, context: CallContext, fn: () => Promise<T>, landed: WriteCheck<T>['landed'] = null): Promise<T> {
  return withRetry(attempt(ctx, context, fn), ctx.retry, { landed }).catch((error: unknown) => {
    throw toStepError(ctx.step, error, context, ctx.metrics);
  });
}

/**
 * Runs a create; a concurrent or earlier create (AlreadyExists) counts as present. `exists` reads whether the thing
 * is there, to tell after a timeout whether this create landed.
 */
export async function createOrPresent(ctx: ExecContext, context: CallContext, fn: () => Promise<unknown>, exists: () => Promise<boolean>): Promise<'created' | 'present'> {
  const landed = async () => ((await exists()) ? ('created' as const) : null);
  try {
    return await withRetry(attempt(ctx, context, async () => { await fn(); return 'created' as const; }), ctx.retry, { landed });
  } catch (error) {
    if (alreadyExists(error)) return 'present';
    throw toStepError(ctx.step, error, context, ctx.metrics);
  }
}
