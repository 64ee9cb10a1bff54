// Client-side flow control for cloud APIs: a rate per API (RAM, CS, OSS, Kubernetes) and a bound on
// calls in flight, so a fleet setup stays under the services' limits instead of being throttled.

export interface RateLimits {
  /** Calls per second per API. */
  perSecond: Partial<Record<CloudApi, number>>;
  /** Calls an idle API may take at once before the rate applies (default: one second's worth). */
  burst?: Partial<Record<CloudApi, number>>;
  /** Calls in flight across every API. */
  concurrency: number;
}

export type CloudApi = 'ram' | 'cs' | 'oss' | 'kube' | 'hbr' | 'ecs';

export const DEFAULT_RATE_LIMITS: RateLimits = {
  perSecond: { ram: 20, cs: 20, oss: 50, kube: 50 },
  concurrency: 16,
};

/**
 * A token bucket: `burst` calls at once, then `perSecond`. A caller that finds it empty reserves the
 * next token (the balance goes negative) and waits for it, so waiting callers keep their order.
 */
class TokenBucket {
  private tokens: number;
  private at = performance.now();
  private readonly perSecond: number;
  private readonly burst: number;

  constructor(perSecond: number, burst: number) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.tokens = burst;
  }

  async wait(): Promise<void> {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    this.tokens -= 1;
    if (this.tokens < 0) await new Promise((resolve) => setTimeout(resolve, (-this.tokens * 1000) / this.perSecond));
  }
}

export class CallLimiter {
  private readonly pacers = new Map<CloudApi, TokenBucket>();
  private readonly concurrency: number;
  private inFlight = 0;
  private readonly queue: (() => void)[] = [];

  constructor(limits: RateLimits = DEFAULT_RATE_LIMITS) {
    for (const [api, perSecond] of Object.entries(limits.perSecond) as [CloudApi, number][]) {
      if (perSecond > 0) this.pacers.set(api, new TokenBucket(perSecond, limits.burst?.[api] ?? perSecond));
    }
    this.concurrency = limits.concurrency;
  }

  async run<T>(api: CloudApi, call: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      await this.pacers.get(api)?.wait();
      return await call();
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.inFlight < this.concurrency) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.inFlight--;
  }
}
