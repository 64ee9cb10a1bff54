// Wires the bot together: store, executor (real SDKs; in sandbox mode pointed at the emulators),
// sessions, chat adapters and the one HTTP server.
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { Config } from './config/index.ts';
import type { ChatEventHandler } from './chat/model.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { registerSecret } from './observability/secrets.ts';
import { openStore } from './store/index.ts';
import { createExecutor } from './executor/index.ts';
import { createCloudClients } from './executor/clients.ts';
import { startSandbox, type Sandbox } from './sandbox/index.ts';
import { Sessions } from './session/sessions.ts';
import { Speaker } from './session/speaker.ts';
import { createChatHandler } from './session/runtime.ts';
import { startSweeper } from './session/sweeper.ts';
import { startServer, type RunningServer } from './server.ts';
import { createSlackAdapter } from './chat/slack/index.ts';
import { createDingTalkAdapter } from './chat/dingtalk/index.ts';
import { createWebChat } from './chat/web/index.ts';

export interface App {
  url: string;
  sandbox: Sandbox | null;
  logger: Logger;
  stop(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  now?: () => Date;
  /** Listen address; tests use 127.0.0.1. */
  host?: string;
  sweepEveryMs?: number;
}

const ABANDON_AFTER_MS = 7 * 24 * 3_600_000;

export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const now = options.now ?? (() => new Date());
  for (const secret of [config.slack?.botToken, config.slack?.appToken, config.slack?.signingSecret, config.dingtalk?.clientSecret]) {
    registerSecret(secret);
  }

  const stops: (() => Promise<void> | void)[] = [];
  const sandbox = config.sandbox ? await startSandbox({ stateDir: join(config.stateDir, 'sandbox') }) : null;
  if (sandbox) stops.push(() => sandbox.close());

  const store = await openStore({ databaseUrl: config.databaseUrl, stateDir: config.stateDir });
  stops.push(() => store.close());

  const metrics = createMetrics(() => store.countActiveSessionsByState());
  const clients = createCloudClients(
    sandbox
      ? {
          credentials: sandbox.credentials,
          endpoints: { ram: sandbox.endpoints.ram, cs: sandbox.endpoints.cs, oss: sandbox.endpoints.oss },
          protocol: 'http',
        }
      : { endpoints: { ram: config.cloud.ramEndpoint, cs: config.cloud.csEndpoint, oss: config.cloud.ossEndpoint } },
  );
  const executor = createExecutor({ clients, ledger: store, logger, metrics });

  const speaker = new Speaker(logger);
  const sessions = new Sessions({
    store,
    executor,
    speaker,
    logger,
    metrics,
    approvalTtlMs: config.approvalTtlMs,
    now,
    owner: `${hostname()}:${process.pid}`,
  });
  const handler: ChatEventHandler = createChatHandler({
    store,
    executor,
    sessions,
    speaker,
    logger,
    metrics,
    policy: { approvers: config.approvers, allowSelfApproval: config.allowSelfApproval },
    channelClusters: config.channelClusters,
    now,
  });
  if (!config.sandbox && config.channelClusters === null) {
    logger.warn('CHANNEL_CLUSTERS is not set: every channel may set up every cluster of the account');
  }

  const readiness: Record<string, () => Promise<boolean>> = { store: () => store.ping() };
  const web = config.sandbox ? createWebChat({ handler, logger }) : null;
  if (web) {
    speaker.attach(web.port);
    stops.push(() => web.close());
  }
  const slack = config.slack ? createSlackAdapter({ ...config.slack, handler, logger }) : null;
  if (slack) {
    speaker.attach(slack.port);
    await slack.start();
    stops.push(() => slack.stop());
    readiness.slack = async () => true;
  }
  const dingtalk = config.dingtalk ? createDingTalkAdapter({ ...config.dingtalk, handler, logger }) : null;
  if (dingtalk) {
    speaker.attach(dingtalk.port);
    await dingtalk.start();
    stops.push(() => dingtalk.stop());
    readiness.dingtalk = async () => dingtalk.connected();
  }

  const server: RunningServer = await startServer(
    config.port,
    {
      slackEvents: slack && !config.slack?.appToken ? (req, res) => slack.handleHttp(req, res) : undefined,
      webChat: web ? (req, res) => web.handleHttp(req, res) : undefined,
      sandboxState: sandbox ? () => sandbox.publicState() : undefined,
      metrics: metrics.registry,
      readiness,
      logger,
    },
    options.host,
  );

  // Sessions that were in the middle of a step when the process stopped continue now.
  for (const row of await store.listActiveSessions()) {
    void sessions.resume(row.id).catch((error: unknown) => logger.error({ err: error, sessionId: row.id }, 'resume failed'));
  }
  const stopSweeper = startSweeper(
    { store, sessions, speaker, logger, now, abandonAfterMs: ABANDON_AFTER_MS },
    options.sweepEveryMs,
  );

  let stopped = false;
  return {
    url: server.url,
    sandbox,
    logger,
    async stop() {
      if (stopped) return;
      stopped = true;
      stopSweeper();
      await server.close();
      await sessions.drain();
      for (const stop of stops.reverse()) await stop();
    },
  };
}
