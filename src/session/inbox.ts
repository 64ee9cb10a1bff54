// The durable inbox. Every inbound chat event is stored (one insert, keyed by the platform's own
// delivery id) before the adapter acknowledges the platform; then it is handled once, under a lease,
// by this process or, after a crash, by whichever process finds it unfinished.
import type { ChatEvent, ChatEventHandler, TellActor } from '../chat/model.ts';
import type { Logger } from '../observability/logger.ts';
import { StoreUnavailableError, type Store } from '../store/contract.ts';
import type { EventWork } from './runtime.ts';
import type { Speaker } from './speaker.ts';

/** An event is held this long by the process handling it; an unfinished one is then handled again. */
export const EVENT_LEASE_MS = 60_000;
/** A stored event nobody claimed for this long is picked up by the resumer (its process died after the ack). */
export const UNCLAIMED_AFTER_MS = 5_000;
/** Finished events are kept this long to recognise the platforms' redeliveries (they come within minutes). */
export const KEEP_FINISHED_MS = 24 * 3_600_000;
/** Attempts before an event that keeps failing is given up (the person was told each time). */
const MAX_ATTEMPTS = 5;

export interface InboxDeps {
  store: Store;
  work: EventWork;
  speaker: Speaker;
  logger: Logger;
  now: () => Date;
  owner: string;
  /** Test hook: store events but handle none (the process is about to be killed). */
  hold?: boolean;
}

export class Inbox {
  private readonly deps: InboxDeps;
  private readonly running = new Map<string, Promise<void>>();
  /** The adapters' way to answer the person, for events accepted by this process. */
  private readonly tellers = new Map<string, TellActor>();

  constructor(deps: InboxDeps) {
    this.deps = deps;
  }

  /**
   * The adapters' handler: resolves once the event is stored; it is handled afterwards. Rejects when
   * it cannot be stored (StoreUnavailableError): the adapter must then not acknowledge it as taken.
   */
  readonly accept: ChatEventHandler = async (event, tell) => {
    const { store, now, owner, hold } = this.deps;
    // Held by this process from the insert on: no second write to claim it.
    const stored = await store.acceptEvent({ eventId: event.eventId, kind: event.kind, event }, now(), owner, EVENT_LEASE_MS);
    if (!stored || hold) return; // a redelivery of an event already stored, or held for a test
    this.tellers.set(event.eventId, tell);
    void this.handle(event.eventId, event, true);
  };

  /**
   * Handles stored events nobody finished: their process died, or the store failed while they ran.
   * `unclaimedForMs` leaves a fresh event to the process that accepted it (at start-up, none is fresh).
   */
  async recover(unclaimedForMs = UNCLAIMED_AFTER_MS, limit = 100): Promise<number> {
    if (this.deps.hold) return 0;
    const before = new Date(this.deps.now().getTime() - unclaimedForMs);
    const rows = await this.deps.store.unfinishedEvents(before, limit, this.deps.owner);
    const fresh = rows.filter((row) => !this.running.has(row.eventId));
    await Promise.all(fresh.map((row) => this.handle(row.eventId, row.event as ChatEvent)));
    return fresh.length;
  }

  /** Forgets finished events old enough that no platform redelivers them. */
  prune(): Promise<number> {
    return this.deps.store.pruneEvents(new Date(this.deps.now().getTime() - KEEP_FINISHED_MS));
  }

  /** Waits until every event this process took has been handled (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  /**
   * `accepted`: stored (and held) by this process just now; the adapter acknowledges when accept
   * resolves, so the work starts on a later turn. Otherwise the event is claimed first.
   */
  private handle(eventId: string, event: ChatEvent, accepted = false): Promise<void> {
    const existing = this.running.get(eventId);
    if (existing) return existing;
    const start = accepted ? new Promise<void>((resolve) => setImmediate(resolve)) : Promise.resolve();
    const done = start.then(() => this.claimAndWork(eventId, event, accepted)).finally(() => {
      this.running.delete(eventId);
      this.tellers.delete(eventId);
    });
    this.running.set(eventId, done);
    return done;
  }

  private async claimAndWork(eventId: string, event: ChatEvent, held: boolean): Promise<void> {
    const { store, logger, now, owner } = this.deps;
    try {
      const claimed = held ? null : await store.claimEvent(eventId, owner, EVENT_LEASE_MS);
      if (!held && !claimed) return; // another process has it, or it is finished
      if (claimed && claimed.attempts > MAX_ATTEMPTS) {
        logger.error({ eventId, kind: event.kind }, 'chat event given up after repeated failures');
        await store.finishEvent(eventId, now());
        return;
      }
      await this.deps.work(event, this.tellers.get(eventId) ?? this.recoveredTeller(event));
      await store.finishEvent(eventId, now());
    } catch (error) {
      // Kept unfinished: the resumer hands it over again once the lease runs out.
      if (error instanceof StoreUnavailableError) return;
      logger.error({ err: error, eventId, kind: event.kind }, 'chat event failed');
      await store.finishEvent(eventId, now()).catch(() => undefined);
    }
  }

  /** After a restart the adapter's reply channel is gone: the person is told privately through the port. */
  private recoveredTeller(event: ChatEvent): TellActor {
    return (text) => this.deps.speaker.tell(event.conversation, event.actor.id, text);
  }
}
