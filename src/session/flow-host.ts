// Runs a flow actor for one event: restore (or start) it, send the event, let invoked steps finish,
// persist every transition, and stop. Between events a session lives only in the store, so any
// replica can take the next click, and a restart resumes a step that was running.
import { createActor, type Actor, type AnyStateMachine, type AnyMachineSnapshot } from 'xstate';
import type { FlowEvent, FlowNotice } from '../../flows/contract.ts';

export interface DriveOptions {
  machine: AnyStateMachine;
  /** A persisted snapshot to restore; absent for a new session. */
  snapshot?: unknown;
  input?: unknown;
  event?: FlowEvent;
  onNotice: (notice: FlowNotice) => void;
  /** Called after every transition, in order; the next transition's persist waits for this one. */
  persist: (persisted: unknown, snapshot: AnyMachineSnapshot) => Promise<void>;
  /** The running actor, so a cancel can reach it while it works. */
  onStart?: (actor: Actor<AnyStateMachine>) => void;
  /** Aborting suspends the drive: the actor stops where it is and nothing more is persisted. */
  signal?: AbortSignal;
}

export type DriveResult =
  | { kind: 'settled'; snapshot: AnyMachineSnapshot }
  /** Stopped by the signal, or because a transition could not be persisted (the error). */
  | { kind: 'suspended'; error: unknown };

/** A flow waits for people when it is done or when no invoked actor (preview, apply, read) is running. */
export function isSettled(snapshot: AnyMachineSnapshot): boolean {
  return snapshot.status !== 'active' || Object.keys(snapshot.children).length === 0;
}

export async function driveFlow(options: DriveOptions): Promise<DriveResult> {
  const actor = createActor(
    options.machine,
    options.snapshot === undefined
      ? { input: options.input }
      : { snapshot: options.snapshot as AnyMachineSnapshot, input: options.input },
  );
  actor.on('*', (emitted) => options.onNotice(emitted as FlowNotice));

  let finish!: (result: DriveResult) => void;
  const finished = new Promise<DriveResult>((resolve) => (finish = resolve));
  let persisting: Promise<void> = Promise.resolve();
  let lastPersisted: unknown = undefined;
  let stopped = false;
  const suspend = (error: unknown) => {
    if (stopped) return;
    stopped = true;
    finish({ kind: 'suspended', error });
  };
  const persistNow = () => {
    if (stopped) return;
    const persisted = actor.getPersistedSnapshot();
    const snapshot = actor.getSnapshot();
    if (lastPersisted === snapshot) return;
    lastPersisted = snapshot;
    persisting = persisting.then(() => (stopped ? undefined : options.persist(persisted, snapshot).catch(suspend)));
  };
  /** Finishes once the snapshot it was called for is persisted, if the flow then still waits there. */
  const settleIfDone = () => {
    if (stopped || !isSettled(actor.getSnapshot())) return;
    persistNow();
    const target = actor.getSnapshot();
    persisting = persisting.then(() => {
      if (!stopped && actor.getSnapshot() === target) {
        stopped = true;
        finish({ kind: 'settled', snapshot: target });
      }
    });
  };
  const onAbort = () => suspend(options.signal?.reason ?? new Error('suspended'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const subscription = actor.subscribe({
    next: () => {
      persistNow();
      settleIfDone();
    },
    error: () => {
      persistNow();
      settleIfDone();
    },
  });

  actor.start();
  options.onStart?.(actor);
  if (options.event) actor.send(options.event);
  settleIfDone();
  const result = await finished;
  options.signal?.removeEventListener('abort', onAbort);
  subscription.unsubscribe();
  actor.stop();
  return result;
}
