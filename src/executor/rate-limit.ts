// Client-side flow control for cloud APIs: a rate per API (RAM, CS, OSS, Kubernetes) and a bound on
// calls in flight, so a fleet setup stays under the services' limits instead of being throttled.

export interface RateLimits {
  /** Calls per second per API. */
  perSecond: Partial<Record<CloudApi, number>>;
  /** Calls in flight across every API. */
  concurrency: number;
}

export type CloudApi = 'ram' | 'cs' | 'oss' | 'kube';

export const DEFAULT_RATE_LIMITS: RateLimits = {
  perSecond: { ram: 20, cs: 20, oss: 50, kube: 50 },
  concurrency: 16,
};

/** Spaces calls evenly at `perSecond`: each caller gets the next free slot. */
class Pacer {
  private next = 0;
  private readonly interval: number;

  constructor(perSecond: number) {
    this.interval = 1000 / perSecond;
  }

  async wait(): Promise<void> {
    const now = performance.now();
    const slot = Math.max(now, this.next);
    this.next = slot + this.interval;
    if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
  }
}

export class CallLimiter {
  private readonly pacers = new Map<CloudApi, Pacer>();
  private readonly concurrency: number;
  private inFlight = 0;
  private readonly queue: (() => void)[] = [];

  constructor(limits: RateLimits = DEFAULT_RATE_LIMITS) {
    for (const [api, perSecond] of Object.entries(limits.perSecond) as [CloudApi, number][]) {
      if (perSecond > 0) this.pacers.set(api, new Pacer(perSecond));
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
