import { describe, expect, it } from 'vitest';
import { isRetryable, withRetry } from '../../src/executor/retry.ts';

const err = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.message ?? 'x')), fields);

describe('isRetryable', () => {
  it('retries throttling, 5xx and dropped connections', () => {
    expect(isRetryable(err({ code: 'Throttling.User', statusCode: 400 }))).toBe(true);
    expect(isRetryable(err({ code: 'Throttling', statusCode: 429 }))).toBe(true);
    expect(isRetryable(err({ code: 'ServiceUnavailable', statusCode: 503 }))).toBe(true);
    expect(isRetryable(err({ code: 'SlowDown', status: 503 }))).toBe(true);
    expect(isRetryable(err({ code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(err({ message: 'socket hang up' }))).toBe(true);
    expect(isRetryable(err({ message: 'fetch failed', cause: err({ code: 'ECONNREFUSED' }) }))).toBe(true);
  });

  it('does not retry permanent errors', () => {
    expect(isRetryable(err({ code: 'NoPermission', statusCode: 403 }))).toBe(false);
    expect(isRetryable(err({ code: 'EntityNotExist.User', statusCode: 404 }))).toBe(false);
    expect(isRetryable(err({ code: 'RequestTimeTooSkewed', status: 403 }))).toBe(false);
    expect(isRetryable(err({ code: 409, body: 'conflict' }))).toBe(false);
  });
});

describe('withRetry', () => {
  it('retries a transient failure with full-jitter backoff under the cap, then succeeds', async () => {
    let calls = 0;
    const ceilings: number[] = [];
    const result = await withRetry(async () => {
      calls++;
      if (calls < 3) throw err({ code: 'Throttling.User', statusCode: 400 });
      return 'ok';
    }, { attempts: 5, baseMs: 4, capMs: 6, random: () => { ceilings.push(calls); return 0.5; } });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(ceilings).toEqual([1, 2]);
  });

  it('stops after the configured attempts', async () => {
    let calls = 0;
    await expect(withRetry(async () => { calls++; throw err({ statusCode: 500, code: 'InternalError' }); }, { attempts: 3, baseMs: 1, capMs: 1 })).rejects.toMatchObject({ code: 'InternalError' });
    expect(calls).toBe(3);
  });

  it('fails at once on a permanent error', async () => {
    let calls = 0;
    await expect(withRetry(async () => { calls++; throw err({ statusCode: 403, code: 'NoPermission' }); }, { attempts: 5, baseMs: 1, capMs: 1 })).rejects.toMatchObject({ code: 'NoPermission' });
    expect(calls).toBe(1);
  });
});
