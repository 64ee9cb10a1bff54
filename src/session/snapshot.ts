// What the store keeps for a session besides its row (the flow's persisted snapshot and what was
// shown), and the pure questions asked of it.
import { createHash } from 'node:crypto';
import type { AnyMachineSnapshot } from 'xstate';
import type { FlowName, Prompt } from '../../flows/contract.ts';
import type { PostedMessage } from '../chat/model.ts';
import type { SessionRow } from '../store/contract.ts';

/** What the store keeps for a session besides its row: the flow's persisted snapshot and what was shown. */
export interface SessionSnapshot {
  flow: FlowName;
  version: number;
  xstate: unknown;
  /** The prompt last posted and its message: a restart re-posts one that never reached the thread, and a click is checked against it. */
  posted: PostedPrompt | null;
  /** The inbox events this session took (the latest), so one handled again after a crash changes nothing. */
  applied: string[];
}

export interface PostedPrompt {
  key: string;
  message: PostedMessage | null;
  /** Handed to a fleet's approval message (which lives in that process only) instead of the thread. */
  fleet?: boolean;
}

/** A session's id follows from the event that asked for it: a redelivered command starts nothing twice. */
export function sessionIdFor(eventId: string, clusterId: string): string {
  const hex = createHash('sha256').update(`${eventId}\n${clusterId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function snapshotOf(row: SessionRow): SessionSnapshot | null {
  const stored = row.snapshot as (SessionSnapshot & { postedPrompt?: string | null }) | null;
  if (!stored) return null;
  // Snapshots written before `posted` kept only the prompt's key.
  const posted = stored.posted ?? (stored.postedPrompt ? { key: stored.postedPrompt, message: null } : null);
  return { flow: stored.flow, version: stored.version, xstate: stored.xstate, posted, applied: stored.applied ?? [] };
}

/** The prompt a session waits on, from its stored snapshot. */
export function promptOf(row: SessionRow): Prompt | null {
  const xstate = snapshotOf(row)?.xstate as { context?: { prompt?: Prompt | null } } | undefined;
  return xstate?.context?.prompt ?? null;
}

export function promptKey(prompt: Prompt): string {
  return prompt.kind === 'approval' ? `approval:${prompt.approvalId}` : `question:${prompt.questionId}`;
}


/**
 * The persisted flow was in the middle of something (an invoked read or step), or its prompt is not
 * where people can answer it (never posted, or posted to a fleet message that died with its process).
 */
export function hasRunningWork(stored: SessionSnapshot, fleetHere: boolean): boolean {
  const xstate = stored.xstate as { status?: string; children?: Record<string, unknown>; context?: { prompt?: Prompt | null } } | undefined;
  if (!xstate || xstate.status !== 'active') return true; // not started, or finished but not yet closed
  if (Object.keys(xstate.children ?? {}).length > 0) return true;
  const prompt = xstate.context?.prompt ?? null;
  if (prompt === null) return false;
  if (stored.posted?.key !== promptKey(prompt)) return true;
  return stored.posted.fleet === true && !fleetHere;
}

export function stateName(snapshot: AnyMachineSnapshot): string {
  return JSON.stringify(snapshot.value);
}

