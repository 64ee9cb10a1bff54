// The inbox: every inbound chat event is accepted here before the adapter acknowledges the platform,
// then handled once, after the acknowledgement, on a later turn of the event loop.
import type { ChatEvent, ChatEventHandler, TellActor } from '../chat/model.ts';
import type { Logger } from '../observability/logger.ts';

export type EventWork = (event: ChatEvent, tell: TellActor) => Promise<void>;

export class Inbox {
  private readonly work: EventWork;
  private readonly logger: Logger;
  private readonly running = new Set<Promise<void>>();
  private readonly seen = new Set<string>();

  constructor(work: EventWork, logger: Logger) {
    this.work = work;
    this.logger = logger;
  }

  /** The adapters' handler: resolves once the event is accepted; its work starts after. */
  readonly accept: ChatEventHandler = async (event, tell) => {
    if (this.seen.has(event.eventId)) return;
    this.seen.add(event.eventId);
    const done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.work(event, tell))
      .catch((error: unknown) => this.logger.error({ err: error, kind: event.kind }, 'chat event failed'))
      .finally(() => this.running.delete(done));
    this.running.add(done);
  };

  /** Waits until every accepted event has been handled (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }
}
