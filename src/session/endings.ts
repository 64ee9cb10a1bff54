// What a session's end says beyond the flow's closing message: how far a step that was running when a
// cancel came really got (it may run on another replica), why open prompts close, and what a
// suspended session tells its thread.
import type { FlowOutput, StepRequest } from '../../flows/contract.ts';
import { describeStep } from '../../flows/steps.ts';
import type { StepRow, Store } from '../store/contract.ts';
import { STEP_LEASE_MS, stepKeyOf, type StoppedStep, type Suspension } from './step-runner.ts';

/** How long a close waits for a step that another process is still running (its lease bounds it). */
const INTERRUPTED_STEP_WAIT_MS = STEP_LEASE_MS + 5_000;

/** What the step that was running when a cancel came really did. */
export async function interruptionNote(store: Store, sessionId: string, request: StepRequest): Promise<string> {
  const key = stepKeyOf(request);
  const deadline = Date.now() + INTERRUPTED_STEP_WAIT_MS;
  let state: StepRow | null = await store.getStep(sessionId, key);
  while (state?.status === 'running' && state.owner !== null && (state.leaseUntil?.getTime() ?? 0) > Date.now() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    state = await store.getStep(sessionId, key);
  }
  const step = `"${describeStep(request)}" was running when the cancel came`;
  if (state?.status === 'done') return `• ${step} and finished: ${(state.outcome as { detail: string }).detail}.`;
  if (state?.status === 'stopped') {
    const stopped = state.outcome as StoppedStep;
    return stopped.writes.length > 0
      ? `• ${step}: it had done ${stopped.writes.join('; ')}, and stopped before ${stopped.before}.`
      : `• ${step}: it stopped before ${stopped.before}, so it changed nothing.`;
  }
  return `• ${step}: it stopped before its first change.`;
}

/** The thread's message when the store failed around a step: what really changed, and what happens next. */
export function suspensionNote(suspension: Suspension | null, cause: string): string {
  const what = suspension?.done
    ? `${suspension.done.detail}. `
    : suspension?.writes.length
      ? `"${describeStep(suspension.request)}" had done: ${suspension.writes.join('; ')}. `
      : suspension
        ? `"${describeStep(suspension.request)}" changed nothing. `
        : '';
  return `⚠️ ${what}The bot's database is unavailable (${cause}), so the setup pauses here. It goes on by itself when the database is back; nothing is done twice.`;
}

export function closedBecause(output: FlowOutput): string {
  switch (output.status) {
    case 'cancelled':
      return 'the setup was cancelled';
    case 'complete':
      return 'the setup is complete';
    case 'denied':
      return 'the setup stopped: a step was denied';
    case 'expired':
      return 'the setup stopped: an approval expired';
    case 'abandoned':
      return 'the setup was closed after a long time without activity';
    case 'unsupported':
    case 'failed':
      return 'the setup stopped';
  }
}
