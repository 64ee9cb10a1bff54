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
  return isConnectionError(error);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= options.attempts || !isRetryable(error)) throw error;
      const ceiling = Math.min(options.capMs, options.baseMs * 2 ** (attempt - 1));
      await sleep(Math.floor(random() * ceiling));
    }
  }
}
