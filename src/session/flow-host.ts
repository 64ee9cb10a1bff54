// Runs a flow actor for one event: restore (or start) it, send the event, let invoked steps finish,
// persist every transition, and stop. Between events a session lives only in the store, so any
// replica can take the next click, and a restart resumes a step that was running.
import { createActor, waitFor, type AnyStateMachine, type AnyMachineSnapshot } from 'xstate';
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
}

/** A flow waits for people when it is done or when no invoked actor (preview, apply, read) is running. */
export function isSettled(snapshot: AnyMachineSnapshot): boolean {
  return snapshot.status !== 'active' || Object.keys(snapshot.children).length === 0;
}

export async function driveFlow(options: DriveOptions): Promise<AnyMachineSnapshot> {
  const actor = createActor(
    options.machine,
    options.snapshot === undefined
      ? { input: options.input }
      : { snapshot: options.snapshot as AnyMachineSnapshot, input: options.input },
  );
  actor.on('*', (emitted) => options.onNotice(emitted as FlowNotice));

  let persisting: Promise<void> = Promise.resolve();
  let persistError: unknown = null;
  let lastPersisted: unknown = undefined;
  const persistNow = () => {
    const persisted = actor.getPersistedSnapshot();
    const snapshot = actor.getSnapshot();
    if (lastPersisted === snapshot) return;
    lastPersisted = snapshot;
    persisting = persisting.then(() =>
      options.persist(persisted, snapshot).catch((error: unknown) => {
        persistError ??= error;
      }),
    );
  };
  const subscription = actor.subscribe({ next: persistNow, error: () => persistNow() });

  actor.start();
  if (options.event) actor.send(options.event);
  try {
    await waitFor(actor, isSettled, { timeout: Infinity });
  } catch {
    // The machine errored; its snapshot carries the error and is persisted below.
  }
  persistNow();
  await persisting;
  subscription.unsubscribe();
  const final = actor.getSnapshot();
  actor.stop();
  if (persistError) throw persistError;
  return final;
}
