// Closes what nobody will finish: approvals past their expiry and sessions abandoned for too long,
// each with a message in the thread.
import type { Store } from '../store/contract.ts';
import type { Sessions } from './sessions.ts';

export interface SweeperDeps {
  store: Store;
  sessions: Sessions;
  now: () => Date;
  /** A session with no change for this long is closed as abandoned. */
  abandonAfterMs: number;
  /** The approvers are reminded this long before an approval expires. */
  remindBeforeMs: number;
  /** APPROVERS, whom a reminder names. */
  approvers: readonly string[];
}

export async function sweep(deps: SweeperDeps): Promise<void> {
  const { store, sessions, now } = deps;
  const at = now();
  for (const approval of await store.claimReminders(new Date(at.getTime() + deps.remindBeforeMs), at)) {
    const row = await store.getSession(approval.sessionId);
    if (row) await sessions.speech.remind(row, approval, deps.approvers);
  }
  for (const approval of await store.listExpiredApprovals(at)) {
    const decided = await store.decideApproval(approval.id, {
      by: 'nobody (expired)',
      decision: 'expired',
      at,
      paramsHash: approval.paramsHash,
    });
    if (!decided.ok) continue; // another replica (or a click) got there first
    const row = await store.getSession(approval.sessionId);
    await sessions.speech.showDecision(decided.approval, row ? { clusterId: row.clusterId } : undefined);
    await sessions.send(approval.sessionId, { type: 'EXPIRE', approvalId: approval.id });
  }
  for (const row of await store.staleSessions(new Date(at.getTime() - deps.abandonAfterMs))) {
    await sessions.abandon(row);
  }
}
