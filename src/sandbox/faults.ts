// Fault injection for the emulators: latency, throttling, 5xx and dropped connections at chosen calls.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Fault =
  | { kind: 'latency'; ms: number }
  /** The call is carried out at once, its answer sent `ms` later: a client that gives up first never learns it landed. */
  | { kind: 'slowAnswer'; ms: number }
  | { kind: 'throttle' }
  | { kind: 'error5xx'; status?: number }
  | { kind: 'drop' }
  /** A permanent, specific error (e.g. NoPermission) answered with the service's own shape. */
  | { kind: 'error'; status: number; code: string; message: string }
  /** The service's flow control: calls beyond this rate are throttled (a token bucket of `burst`). */
  | { kind: 'rateLimit'; perSecond: number; burst?: number };

export interface FaultRule {
  /** The operation name the emulator assigns (RAM action, CS operation, OSS operation, "kube:<verb>"). */
  operation: string | '*';
  fault: Fault;
  /** Apply to this many matching calls, then stop (default: every call). */
  times?: number;
  /** Skip this many matching calls first (default 0). */
  after?: number;
}

/** A per-emulator list of rules; tests add rules and read which calls happened. */
export class FaultPlan {
  private rules: (FaultRule & { seen: number; applied: number; bucket?: { tokens: number; at: number } })[] = [];
  /** Calls refused by a rate limit, for benchmarks that must show none was needed. */
  throttled = 0;
  readonly calls: string[] = [];

  add(rule: FaultRule): this {
    this.rules.push({ ...rule, seen: 0, applied: 0 });
    return this;
  }

  clear(): void {
    this.rules = [];
    this.calls.length = 0;
    this.throttled = 0;
  }

  private admit(rule: { bucket?: { tokens: number; at: number } }, limit: { perSecond: number; burst?: number }): boolean {
    const now = performance.now();
    const burst = limit.burst ?? 1;
    const bucket = (rule.bucket ??= { tokens: burst, at: now });
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /**
   * The faults planned for something the emulator does on its own (a task ending), which is not a
   * request: only rules that name it count, it is not recorded as a call and no rate limit applies.
   */
  takeEvent(event: string): Fault[] {
    const faults: Fault[] = [];
    for (const rule of this.rules) {
      if (rule.operation !== event || rule.fault.kind === 'rateLimit') continue;
      rule.seen += 1;
      if (rule.seen <= (rule.after ?? 0)) continue;
      if (rule.times !== undefined && rule.applied >= rule.times) continue;
      rule.applied += 1;
      faults.push(rule.fault);
    }
    return faults;
  }

  /** How long to hold back the answer of a call just carried out ("slowAnswer" rules, consumed here, not by take). */
  answerDelay(operation: string): number {
    let ms = 0;
    for (const rule of this.rules) {
      if (rule.fault.kind !== 'slowAnswer' || (rule.operation !== '*' && rule.operation !== operation)) continue;
      rule.seen += 1;
      if (rule.seen <= (rule.after ?? 0)) continue;
      if (rule.times !== undefined && rule.applied >= rule.times) continue;
      rule.applied += 1;
      ms += rule.fault.ms;
    }
    return ms;
  }

  /** Records the call and returns the faults that apply to it, in rule order. */
  take(operation: string): Fault[] {
    this.calls.push(operation);
    const faults: Fault[] = [];
    for (const rule of this.rules) {
      if (rule.fault.kind === 'slowAnswer') continue;
      if (rule.operation !== '*' && rule.operation !== operation) continue;
      rule.seen += 1;
      if (rule.seen <= (rule.after ?? 0)) continue;
      if (rule.times !== undefined && rule.applied >= rule.times) continue;
      rule.applied += 1;
      if (rule.fault.kind === 'rateLimit') {
        if (this.admit(rule, rule.fault)) continue;
        this.throttled += 1;
        faults.push({ kind: 'throttle' });
        continue;
      }
      faults.push(rule.fault);
    }
    return faults;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Applies latency, then answers a fault if one applies. Returns true when the request was answered
 * (or dropped) and the emulator must not handle it. `answerError` writes the service's error shape.
 */
export async function applyFaults(
  plan: FaultPlan | undefined,
  operation: string,
  req: IncomingMessage,
  res: ServerResponse,
  answerError: (status: number, code: string, message: string) => void,
  throttleCode = 'Throttling.User',
  throttleStatus = 400,
): Promise<boolean> {
  if (!plan) return false;
  for (const fault of plan.take(operation)) {
    switch (fault.kind) {
      case 'latency':
        await sleep(fault.ms);
        break;
      case 'slowAnswer':
        break;
      case 'throttle':
        answerError(throttleStatus, throttleCode, 'Request was denied due to user flow control.');
        return true;
      case 'error5xx':
        answerError(fault.status ?? 503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.');
        return true;
      case 'drop':
        req.socket.destroy();
        return true;
      case 'error':
        answerError(fault.status, fault.code, fault.message);
        return true;
    }
  }
  return false;
}
