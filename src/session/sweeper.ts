// Closes what nobody will finish: approvals past their expiry and sessions abandoned for too long,
// each with a message in the thread.
import type { Store } from '../store/contract.ts';
import type { Logger } from '../observability/logger.ts';
import type { Sessions } from './sessions.ts';
import type { Speaker } from './speaker.ts';

export interface SweeperDeps {
  store: Store;
  sessions: Sessions;
  speaker: Speaker;
  logger: Logger;
  now: () => Date;
  /** A session with no change for this long is closed as abandoned. */
  abandonAfterMs: number;
}

export async function sweep(deps: SweeperDeps): Promise<void> {
  const { store, sessions, speaker, now } = deps;
  const at = now();
  for (const approval of await store.listExpiredApprovals(at)) {
    const decided = await store.decideApproval(approval.id, {
      by: 'sweeper',
      decision: 'expired',
      at,
      paramsHash: approval.paramsHash,
    });
    if (!decided.ok) continue; // another replica (or a click) got there first
    if (approval.messageRef) {
      await speaker.update(approval.messageRef, {
        kind: 'decided',
        approvalId: approval.id,
        title: approval.step,
        decision: 'expired',
        by: 'nobody (expired)',
        at: at.toISOString(),
      });
    }
    await sessions.send(approval.sessionId, { type: 'EXPIRE', approvalId: approval.id });
  }
  for (const row of await store.staleSessions(new Date(at.getTime() - deps.abandonAfterMs))) {
    await sessions.abandon(row);
  }
}

export function startSweeper(deps: SweeperDeps, everyMs = 15_000): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweep(deps)
      .catch((error: unknown) => deps.logger.error({ err: error }, 'sweep failed'))
      .finally(() => {
        running = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
