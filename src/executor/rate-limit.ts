// Client-side flow control for cloud APIs: a rate per API (RAM, CS, OSS, Kubernetes) and a bound on
// calls in flight, so a fleet setup stays under the services' limits instead of being throttled. A rate
// holds per scope where the service limits per server: every cluster has its own Kubernetes API server,
// whose API Priority and Fairness limits its own clients (kubernetes.io/docs/concepts/cluster-administration/flow-control/),
// so ten clusters' calls do not share one cluster's rate. CS is paced per region: each region has its own
// endpoint (cs.<region>.aliyuncs.com) and, we take it, its own flow control. The docs we found do not say
// whether CS counts per region or per account; were it per account, a fleet over several regions would be
// throttled at times, and a throttled call is retried (Throttling.User is retryable): slower, not failed.

export interface RateLimits {
  /** Calls per second per API (per cluster for Kubernetes, per region for CS). */
  perSecond: Partial<Record<CloudApi, number>>;
  /** Calls an idle API may take at once before the rate applies (default: one second's worth). */
  burst?: Partial<Record<CloudApi, number>>;
  /** Calls in flight across every API. */
  concurrency: number;
}

export type CloudApi = 'ram' | 'cs' | 'oss' | 'kube' | 'hbr' | 'ecs';

export const DEFAULT_RATE_LIMITS: RateLimits = {
  perSecond: { ram: 20, cs: 20, oss: 50, kube: 50 },
  concurrency: 64,
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
  private readonly pacers = new Map<string, TokenBucket>();
  private readonly limits: RateLimits;
  private inFlight = 0;
  private readonly queue: (() => void)[] = [];

  constructor(limits: RateLimits = DEFAULT_RATE_LIMITS) {
    this.limits = limits;
  }

  /** `scope`: the server the call goes to, for an API limited per server (the cluster, for Kubernetes). */
  async run<T>(api: CloudApi, call: () => Promise<T>, scope = ''): Promise<T> {
    await this.acquire();
    try {
      await this.pacer(api, scope)?.wait();
      return await call();
    } finally {
      this.release();
    }
  }

  private pacer(api: CloudApi, scope: string): TokenBucket | undefined {
    const perSecond = this.limits.perSecond[api] ?? 0;
    if (perSecond <= 0) return undefined;
    const key = `${api}/${scope}`;
    let pacer = this.pacers.get(key);
    if (!pacer) {
      pacer = new TokenBucket(perSecond, this.limits.burst?.[api] ?? perSecond);
      this.pacers.set(key, pacer);
    }
    return pacer;
  }

  private async acquire(): Promise<void> {
    if (this.inFlight < this.limits.concurrency) {
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
