// Retries transient cloud failures (throttling, 5xx, dropped connections) with exponential backoff and
// full jitter. Everything else fails at once: a missing permission does not heal by waiting.

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  /** First backoff ceiling in ms; doubles each attempt up to `capMs`. */
  baseMs: number;
  capMs: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseMs: 200, capMs: 10_000 };

const CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ConnectionTimeoutError', 'ResponseTimeoutError', 'RequestError']);

interface ErrorShape { code?: unknown; status?: unknown; statusCode?: unknown; name?: unknown; message?: unknown; cause?: unknown }

/** The HTTP status an SDK error carries: openapi-core statusCode, ali-oss status, client-node code. */
export function statusOf(error: unknown): number | undefined {
  const e = (error ?? {}) as ErrorShape;
  for (const value of [e.statusCode, e.status, e.code]) if (typeof value === 'number') return value;
  return undefined;
}

export function codeOf(error: unknown): string {
  const e = (error ?? {}) as ErrorShape;
  return typeof e.code === 'string' ? e.code : '';
}

/** httpx's ReadTimeout / ConnectTimeout (name RequestTimeoutError, node_modules/httpx/lib/index.js). */
export function isTimeout(error: unknown): boolean {
  const e = (error ?? {}) as ErrorShape;
  return e.name === 'RequestTimeoutError' || (typeof e.message === 'string' && /^(ReadTimeout|ConnectTimeout)/.test(e.message));
}

function isConnectionError(error: unknown): boolean {
  for (let e = error as ErrorShape | undefined, depth = 0; e && depth < 4; e = e.cause as ErrorShape | undefined, depth++) {
    if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && /socket hang up|ECONNRESET|ECONNREFUSED|ETIMEDOUT|other side closed|fetch failed/i.test(e.message)) return true;
  }
  return false;
}

/** Throttling, 5xx and connection failures are worth another attempt; nothing else is. */
export function isRetryable(error: unknown): boolean {
  const code = codeOf(error);
  const status = statusOf(error);
  if (code.includes('Throttling') || code === 'TooManyRequests' || status === 429) return true;
  if (code === 'RequestTimeTooSkewed') return false;
  if (status !== undefined && status >= 500 && status <= 599) return true;
  return isTimeout(error) || isConnectionError(error);
}

/** The service refused the request outright (flow control): a write it answers this way was not carried out. */
function isThrottled(error: unknown): boolean {
  const code = codeOf(error);
  return code.includes('Throttling') || code === 'TooManyRequests' || statusOf(error) === 429;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How to repeat a write: a timeout, a dropped connection or a 5xx may come after the service carried the request
 * out, so before another attempt `landed` reads whether it did: its answer (non-null) ends the retries as the
 * write's result. `landed: null` means there is no way to tell, and such a failure is not repeated.
 */
export interface WriteCheck<T> {
  landed: (() => Promise<T | null>) | null;
}

/** Reads are repeated on every transient failure; writes (with `write`) only after a read says they did not land. */
export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions = DEFAULT_RETRY, write?: WriteCheck<T>): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (write && !isThrottled(error)) {
        if (!write.landed) throw error;
        const landed = await write.landed();
        if (landed !== null) return landed;
      }
      if (attempt >= options.attempts) throw error;
      const ceiling = Math.min(options.capMs, options.baseMs * 2 ** (attempt - 1));
      await sleep(Math.floor(random() * ceiling));
    }
  }
}
