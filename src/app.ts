// Wires the bot together: store, executor (real SDKs; in sandbox mode pointed at the emulators),
// sessions, chat adapters and the one HTTP server.
import { join } from 'node:path';
import type { Config } from './config/index.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { registerSecret } from './observability/secrets.ts';
import { openStore } from './store/index.ts';
import { createExecutor } from './executor/index.ts';
import { createCloudClients, type CloudClientOptions } from './executor/clients.ts';
import { startSandbox, type Sandbox } from './sandbox/index.ts';
import { createBot } from './bot.ts';
import { instanceId } from './instance-id.ts';
import { startServer, type RunningServer } from './server.ts';
import { createSlackAdapter } from './chat/slack/index.ts';
import { createDingTalkAdapter } from './chat/dingtalk/index.ts';
import { createWebChat } from './chat/web/index.ts';
import { createdAccessKeysIn } from './store/created-access-keys.ts';

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

export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  for (const secret of [config.slack?.botToken, config.slack?.appToken, config.slack?.signingSecret, config.dingtalk?.clientSecret]) {
    registerSecret(secret);
  }

  const stops: (() => Promise<void> | void)[] = [];
  try {
    return await assemble(config, options, logger, stops);
  } catch (error) {
    // A start that fails half-way (bad chat credentials, say) closes what it had opened.
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    throw error;
  }
}

async function assemble(config: Config, options: AppOptions, logger: Logger, stops: (() => Promise<void> | void)[]): Promise<App> {
  const now = options.now ?? (() => new Date());
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
      : liveCloudOptions(config.cloud),
  );
  // The emulated add-on tasks finish after a fixed number of polls, so the sandbox need not wait 3 s each.
  const executor = createExecutor({ clients, createdAccessKeys: createdAccessKeysIn(store), logger, metrics, ...(sandbox ? { pollIntervalMs: 500 } : {}) });
  const bot = createBot({
    store,
    executor,
    logger,
    metrics,
    approvers: config.approvers,
    allowSelfApproval: config.allowSelfApproval,
    approvalTtlMs: config.approvalTtlMs,
    channelClusters: config.channelClusters,
    now,
    owner: instanceId(config.stateDir),
  });
  const { handler } = bot;
  if (!config.sandbox && config.channelClusters === null) {
    logger.warn('CHANNEL_CLUSTERS is not set: every channel may set up every cluster of the account');
  }

  const readiness: Record<string, () => Promise<boolean>> = { store: () => store.ping() };
  const web = config.sandbox ? createWebChat({ handler, logger }) : null;
  if (web) bot.attach(web.port);
  const slack = config.slack ? createSlackAdapter({ ...config.slack, handler, logger }) : null;
  if (slack) {
    bot.attach(slack.port);
    await slack.start();
    stops.push(() => slack.stop());
    readiness.slack = async () => true;
  }
  const dingtalk = config.dingtalk ? createDingTalkAdapter({ ...config.dingtalk, handler, logger }) : null;
  if (dingtalk) {
    bot.attach(dingtalk.port);
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
  void bot.resumeAll();
  const stopSweeper = bot.startSweeper(options.sweepEveryMs);

  let stopped = false;
  return {
    url: server.url,
    sandbox,
    logger,
    async stop() {
      if (stopped) return;
      stopped = true;
      stopSweeper();
      // Live event streams (the sandbox chat page) would hold the server open: end them first.
      web?.close();
      await server.close();
      await bot.idle();
      await bot.sessions.drain();
      for (const stop of stops.reverse()) await stop();
    },
  };
}

/**
 * ALIBABA_CLOUD_*_ENDPOINT overrides: RAM and CS take `host[:port]`; a value written as a URL
 * (`http://127.0.0.1:9000`, e.g. a private gateway or an emulator) also sets the protocol.
 */
function liveCloudOptions(cloud: Config['cloud']): CloudClientOptions {
  let protocol: 'http' | 'https' = 'https';
  const hostOf = (endpoint: string | undefined): string | null => {
    if (!endpoint) return null;
    const url = /^https?:\/\//.test(endpoint) ? new URL(endpoint) : null;
    if (!url) return endpoint;
    if (url.protocol === 'http:') protocol = 'http';
    return url.host;
  };
  const endpoints = { ram: hostOf(cloud.ramEndpoint), cs: hostOf(cloud.csEndpoint), oss: cloud.ossEndpoint ?? null };
  return { endpoints, protocol };
}
