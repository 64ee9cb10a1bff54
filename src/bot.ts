// The bot without its transports: store, executor, sessions and the chat handler, wired once.
// startApp adds the HTTP server, the chat adapters and the sandbox; tests use this directly.
import type { ChatEventHandler, ChatPort } from './chat/model.ts';
import type { ChannelBinding } from './config/channel-clusters.ts';
import type { Executor } from './executor/contract.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import { Fleets } from './fleet/fleets.ts';
import { Inbox } from './session/inbox.ts';
import { createChatHandler } from './session/runtime.ts';
import { Sessions } from './session/sessions.ts';
import { Speaker } from './session/speaker.ts';
import { startSweeper, sweep } from './session/sweeper.ts';
import type { Store } from './store/contract.ts';

export interface BotOptions {
  store: Store;
  executor: Executor;
  logger: Logger;
  metrics: Metrics;
  approvers: readonly string[];
  allowSelfApproval: boolean;
  approvalTtlMs: number;
  channelClusters: ChannelBinding[] | null;
  now: () => Date;
  /** Identifies this process in step claims. */
  owner: string;
  /** A session with no change for this long is closed as abandoned. */
  abandonAfterMs?: number;
  /** Fleet setups read and start this many clusters at a time. */
  fleetStartConcurrency?: number;
}

export interface Bot {
  /** What the chat adapters call: resolves once the event is accepted, before it is handled. */
  handler: ChatEventHandler;
  /** Resolves when every accepted event has been handled. */
  idle(): Promise<void>;
  sessions: Sessions;
  speaker: Speaker;
  attach(port: ChatPort): void;
  /** Continues every session that was active when the process stopped. */
  resumeAll(): Promise<void>;
  /** One pass of the sweeper (expired approvals, abandoned sessions). */
  sweep(): Promise<void>;
  startSweeper(everyMs?: number): () => void;
}

const ABANDON_AFTER_MS = 7 * 24 * 3_600_000;

export function createBot(options: BotOptions): Bot {
  const { store, executor, logger, metrics, now } = options;
  const speaker = new Speaker(logger);
  const sessions = new Sessions({
    store,
    executor,
    speaker,
    logger,
    metrics,
    approvalTtlMs: options.approvalTtlMs,
    now,
    owner: options.owner,
  });
  const fleets = new Fleets({
    store,
    sessions,
    speaker,
    executor,
    logger,
    policy: { approvers: options.approvers, allowSelfApproval: options.allowSelfApproval },
    now,
    startConcurrency: options.fleetStartConcurrency ?? 10,
  });
  const work = createChatHandler({
    store,
    executor,
    sessions,
    speaker,
    logger,
    metrics,
    policy: { approvers: options.approvers, allowSelfApproval: options.allowSelfApproval },
    channelClusters: options.channelClusters,
    fleets,
    now,
  });
  const inbox = new Inbox(work, logger);
  const sweeperDeps = { store, sessions, speaker, logger, now, abandonAfterMs: options.abandonAfterMs ?? ABANDON_AFTER_MS };
  return {
    handler: inbox.accept,
    idle: () => inbox.idle(),
    sessions,
    speaker,
    attach: (port) => speaker.attach(port),
    async resumeAll() {
      const rows = await store.listActiveSessions();
      await Promise.all(
        rows.map((row) =>
          sessions.resume(row.id).catch((error: unknown) => logger.error({ err: error, sessionId: row.id }, 'resume failed')),
        ),
      );
    },
    sweep: () => sweep(sweeperDeps),
    startSweeper: (everyMs) => startSweeper(sweeperDeps, everyMs),
  };
}
