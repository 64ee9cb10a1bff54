// The client-side limiter on a fake clock: a burst goes at once, then calls follow the rate, in order,
// and no more than `concurrency` calls are ever in flight.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallLimiter } from '../../src/executor/rate-limit.ts';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CallLimiter', () => {
  it('lets a burst through at once and paces the rest at the rate, in arrival order', async () => {
    const limiter = new CallLimiter({ perSecond: { cs: 10 }, burst: { cs: 2 }, concurrency: 100 });
    const started: [number, number][] = [];
    const calls = Array.from({ length: 5 }, (_, i) => limiter.run('cs', async () => void started.push([i, performance.now()])));
    await vi.advanceTimersByTimeAsync(0);
    expect(started.map(([i]) => i)).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(100);
    expect(started.map(([i]) => i)).toEqual([0, 1, 2]);
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(calls);
    expect(started.map(([i]) => i)).toEqual([0, 1, 2, 3, 4]);
    const gaps = started.slice(2).map(([, t], k) => t - started[k + 1]![1]);
    expect(gaps).toEqual([100, 100, 100]);
  });

  it('refills while idle, up to the burst', async () => {
    const limiter = new CallLimiter({ perSecond: { ram: 4 }, burst: { ram: 3 }, concurrency: 100 });
    const count = { n: 0 };
    await Promise.all(Array.from({ length: 3 }, () => limiter.run('ram', async () => void count.n++)));
    await vi.advanceTimersByTimeAsync(10_000);
    const before = count.n;
    const again = Array.from({ length: 4 }, () => limiter.run('ram', async () => void count.n++));
    await vi.advanceTimersByTimeAsync(0);
    expect(count.n - before).toBe(3);
    await vi.advanceTimersByTimeAsync(250);
    await Promise.all(again);
    expect(count.n - before).toBe(4);
  });

  it('keeps at most `concurrency` calls in flight across APIs', async () => {
    const limiter = new CallLimiter({ perSecond: {}, concurrency: 2 });
    let inFlight = 0;
    let most = 0;
    const slow = () => limiter.run('oss', async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 50));
      inFlight--;
    });
    const all = Promise.all(Array.from({ length: 6 }, slow));
    await vi.advanceTimersByTimeAsync(200);
    await all;
    expect(most).toBe(2);
  });

  it('paces each cluster’s Kubernetes calls on their own: one busy cluster does not slow another', async () => {
    const limiter = new CallLimiter({ perSecond: { kube: 10 }, burst: { kube: 1 }, concurrency: 100 });
    const at: Record<string, number[]> = { a: [], b: [] };
    const calls = [
      ...Array.from({ length: 3 }, () => limiter.run('kube', async () => void at.a!.push(performance.now()), 'c-a')),
      limiter.run('kube', async () => void at.b!.push(performance.now()), 'c-b'),
    ];
    await vi.advanceTimersByTimeAsync(300);
    await Promise.all(calls);
    expect(at.a).toEqual([0, 100, 200]);
    expect(at.b).toEqual([0]);
  });
});
