// Recovery without a restart: a periodic pass that picks up what nobody finishes. Inbox events whose
// process died after the ack (or failed on the store), sessions nobody drives (their driver's lease
// ran out, or this process restarted), and decisions consumed in the store that never reached their
// flow. Any replica may run it: claims and leases make sure each piece of work runs once.
import type { Logger } from '../observability/logger.ts';
import type { Store } from '../store/contract.ts';
import type { Inbox } from './inbox.ts';
import type { Sessions } from './sessions.ts';

/** A decision is its decider's to apply for this long; then any replica takes it (its decider died). */
const DECISION_GRACE_MS = 30_000;

export interface ResumerDeps {
  store: Store;
  sessions: Sessions;
  inbox: Inbox;
  logger: Logger;
  owner: string;
}

/** `startUp`: this process has just started, so every unclaimed event is one nobody will handle otherwise. */
export async function resumePass(deps: ResumerDeps, startUp = false): Promise<void> {
  const { store, sessions, inbox, logger, owner } = deps;
  await inbox.recover(startUp ? 0 : undefined);
  const decidedBefore = new Date(Date.now() - DECISION_GRACE_MS);
  const rows = [
    ...(await store.stalledSessions(owner)),
    ...(await store.sessionsWithUnappliedDecisions(decidedBefore, startUp ? owner : undefined)),
  ];
  const ids = [...new Set(rows.map((row) => row.id))].filter((id) => !sessions.isHere(id));
  await Promise.all(ids.map((id) => sessions.resume(id).catch((error: unknown) => logger.error({ err: error, sessionId: id }, 'resume failed'))));
}

/** Runs `task` every `everyMs`, never two at once; a failing pass is logged and the next one comes. */
export function every(everyMs: number, task: () => Promise<unknown>, logger: Logger, name: string): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch((error: unknown) => logger.warn({ err: error }, `${name} failed`))
      .finally(() => {
        running = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
