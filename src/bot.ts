// The bot without its transports: store, executor, sessions, the inbox and the chat handler, wired
// once. startApp adds the HTTP server, the chat adapters and the sandbox; tests use this directly.
import type { ChatEventHandler, ChatPort } from './chat/model.ts';
import type { ChannelBinding } from './config/channel-clusters.ts';
import type { Executor } from './executor/contract.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import { Fleets } from './fleet/fleets.ts';
import { Inbox } from './session/inbox.ts';
import { every, resumePass } from './session/resumer.ts';
import { createChatHandler } from './session/runtime.ts';
import { Sessions } from './session/sessions.ts';
import { Speaker } from './session/speaker.ts';
import { sweep } from './session/sweeper.ts';
import type { Store } from './store/contract.ts';
import { Watcher } from './watch/watcher.ts';

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
  /** Identifies this process in step claims, inbox leases and as a session's driver. */
  owner: string;
  /** A session with no change for this long is closed as abandoned. */
  abandonAfterMs?: number;
  /** Fleet setups read and start this many clusters at a time. */
  fleetStartConcurrency?: number;
  /** Test hook: store inbound events without handling them. */
  holdInbox?: boolean;
  /** WATCH_INTERVAL in ms (default 24 h); null turns watching off. */
  watchIntervalMs?: number | null;
}

export interface Bot {
  /** What the chat adapters call: resolves once the event is stored, before it is handled. */
  handler: ChatEventHandler;
  /** Resolves when every event this process took has been handled. */
  idle(): Promise<void>;
  sessions: Sessions;
  speaker: Speaker;
  attach(port: ChatPort): void;
  /** One pass of the resumer: unfinished inbox events, sessions nobody drives, decisions never applied. */
  resume(options?: { startUp?: boolean }): Promise<void>;
  /** One pass of the sweeper (expired approvals, abandoned sessions). */
  sweep(): Promise<void>;
  /** Watched clusters: their checks (see `watcher.start()`), drift and resolution. */
  watcher: Watcher;
  /** Runs the resumer, the sweeper and the watch periodically; returns the stop function. */
  startHousekeeping(options?: { resumeEveryMs?: number; sweepEveryMs?: number }): () => void;
}

const ABANDON_AFTER_MS = 7 * 24 * 3_600_000;
export const DEFAULT_WATCH_INTERVAL_MS = 24 * 3_600_000;
/** The approvers are reminded when a fifth of an approval's time is left (3 minutes of the default 15). */
const remindBefore = (approvalTtlMs: number) => Math.round(approvalTtlMs / 5);
const PRUNE_EVERY_MS = 3_600_000;

export function createBot(options: BotOptions): Bot {
  const { store, executor, logger, metrics, now, owner } = options;
  const speaker = new Speaker(logger);
  const watchIntervalMs = options.watchIntervalMs === undefined ? DEFAULT_WATCH_INTERVAL_MS : options.watchIntervalMs;
  // A completed setup starts the cluster's watch (the watcher is made below; it exists before any session ends).
  const sessions = new Sessions({
    store, executor, speaker, logger, metrics, approvalTtlMs: options.approvalTtlMs, now, owner, approvers: options.approvers, onSetupComplete: (row) => watcher.enroll(row),
  });
  const watcher: Watcher = new Watcher({ store, executor, speaker, logger, metrics, now, owner, intervalMs: watchIntervalMs, channelClusters: options.channelClusters });
  const policy = { approvers: options.approvers, allowSelfApproval: options.allowSelfApproval, groupsOf: (actor: string) => speaker.groupsOf(actor) };
  const fleets = new Fleets({ store, sessions, speaker, executor, logger, policy, now, startConcurrency: options.fleetStartConcurrency ?? 10 });
  const work = createChatHandler({ store, executor, sessions, speaker, logger, metrics, policy, channelClusters: options.channelClusters, fleets, now, watchIntervalMs });
  const inbox = new Inbox({ store, work, speaker, logger, now, owner, hold: options.holdInbox ?? false });
  const resume = (o: { startUp?: boolean } = {}) => resumePass({ store, sessions, inbox, logger, owner }, o.startUp ?? false);
  const sweepOnce = () =>
    sweep({ store, sessions, now, abandonAfterMs: options.abandonAfterMs ?? ABANDON_AFTER_MS, remindBeforeMs: remindBefore(options.approvalTtlMs), approvers: options.approvers });
  return {
    handler: inbox.accept,
    idle: () => inbox.idle(),
    sessions,
    speaker,
    attach: (port) => speaker.attach(port),
    resume,
    sweep: sweepOnce,
    watcher,
    startHousekeeping({ resumeEveryMs = 5_000, sweepEveryMs = 15_000 } = {}) {
      const stops = [
        every(resumeEveryMs, () => resume(), logger, 'resume pass'),
        every(sweepEveryMs, sweepOnce, logger, 'sweep'),
        every(PRUNE_EVERY_MS, () => inbox.prune(), logger, 'inbox prune'),
        watcher.start(),
      ];
      return () => stops.forEach((stop) => stop());
    },
  };
}
