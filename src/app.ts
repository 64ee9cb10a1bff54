// Wires the bot together: store, executor (real SDKs; in sandbox mode pointed at the emulators),
// sessions, chat adapters and the one HTTP server.
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Config } from './config/index.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { registerSecret } from './observability/secrets.ts';
import { openStore } from './store/index.ts';
import { createExecutor } from './executor/index.ts';
import { createCloudClients, type CloudClientOptions } from './executor/clients.ts';
import { cloudEndpointsOf, startSandbox, type Sandbox } from './sandbox/index.ts';
import { createBot } from './bot.ts';
import { instanceId } from './instance-id.ts';
import { startServer, type RunningServer } from './server.ts';
import { createSlackAdapter } from './chat/slack/index.ts';
import { createDingTalkAdapter } from './chat/dingtalk/index.ts';
import { createWebChat } from './chat/web/index.ts';
import { SANDBOX_GUIDE } from './sandbox/seed.ts';
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
  resumeEveryMs?: number;
  /** Test hook: store inbound events without handling them (a crash test kills the process next). */
  holdInbox?: boolean;
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
  const sandbox = config.sandbox ? await startSandbox({ stateDir: join(config.stateDir, 'sandbox'), fleet: config.sandboxFleet }) : null;
  if (sandbox) stops.push(() => sandbox.close());

  const store = await openStore({ databaseUrl: config.databaseUrl, stateDir: config.stateDir });
  stops.push(() => store.close());

  const metrics = createMetrics(
    () => store.countActiveSessionsByState(),
    async () => (await store.listWatches()).map((w) => ({ clusterId: w.clusterId, enabled: w.enabled, drifted: w.drift !== null })),
  );
  const owner = instanceId(config.stateDir);
  const clients = createCloudClients(
    sandbox
      ? {
          credentials: sandbox.botCredentials,
          endpoints: cloudEndpointsOf(sandbox),
          protocol: 'http',
        }
      : liveCloudOptions(config.cloud),
  );
  // The emulated add-on tasks finish after a fixed number of polls, so the sandbox need not wait 3 s each.
  const executor = createExecutor({
    clients, createdAccessKeys: createdAccessKeysIn(store), logger, metrics, ...(sandbox ? { pollIntervalMs: 500, emulatedConsole: sandbox.console } : {}),
  });
  const bot = createBot({
    store,
    executor,
    logger,
    metrics,
    approvers: config.approvers,
    allowSelfApproval: config.allowSelfApproval,
    approvalTtlMs: config.approvalTtlMs,
    watchIntervalMs: config.watchIntervalMs,
    channelClusters: config.channelClusters,
    now,
    owner,
    holdInbox: options.holdInbox ?? false,
  });
  const { handler } = bot;
  if (!config.sandbox && config.channelClusters === null) {
    logger.warn('CHANNEL_CLUSTERS is not set: every channel may set up every cluster of the account');
  }

  // Ready means able to take events: the inbox needs the store to write, not only to answer.
  const readiness: Record<string, () => Promise<boolean>> = { store: () => store.probeWrite(now()).then(() => true) };
  const web = config.webChat !== 'off' ? createWebChat({ handler, logger, approvers: config.approvers, ...(sandbox ? { guide: SANDBOX_GUIDE } : {}), historyFile: join(config.stateDir, 'web-chat.jsonl') }) : null;
  if (web) bot.attach(web.port);
  if (config.sandbox && config.webChat === 'off') {
    logger.info('the sandbox web chat is off beside a real chat platform (BACKUP_SETUP_WEB_CHAT=1 serves it to loopback clients)');
  }
  const slack = config.slack ? createSlackAdapter({ ...config.slack, approvers: config.approvers, handler, logger }) : null;
  if (slack) {
    bot.attach(slack.port);
    await slack.start();
    stops.push(() => slack.stop());
    readiness.slack = async () => slack.connected();
  }
  const dingtalk = config.dingtalk ? createDingTalkAdapter({ ...config.dingtalk, approvers: config.approvers, handler, logger }) : null;
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
      webChat: web ? (req, res) => (config.webChat === 'loopback' && !fromLoopback(req) ? Promise.resolve(false) : web.handleHttp(req, res)) : undefined,
      sandboxState: sandbox ? () => sandbox.publicState() : undefined,
      sandboxKubeconfig: sandbox ? (clusterId) => sandbox.kubeconfig(clusterId) : undefined,
      metrics: metrics.registry,
      readiness,
      logger,
    },
    options.host,
  );

  // What this process (or a crashed one) left unfinished continues now, and whenever it is found later.
  void bot.resume({ startUp: true }).catch((error: unknown) => logger.warn({ err: error }, 'resume at start-up failed'));
  const stopHousekeeping = bot.startHousekeeping({
    ...(options.sweepEveryMs ? { sweepEveryMs: options.sweepEveryMs } : {}),
    ...(options.resumeEveryMs ? { resumeEveryMs: options.resumeEveryMs } : {}),
  });

  let stopped = false;
  return {
    url: server.url,
    sandbox,
    logger,
    async stop() {
      if (stopped) return;
      stopped = true;
      stopHousekeeping();
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
 * A request made on this machine, not through a proxy: the web chat beside a real chat platform answers
 * only those, so nobody who merely reaches the port can act as the sandbox's approver.
 */
function fromLoopback(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? '';
  const loopback = address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  return loopback && req.headers['x-forwarded-for'] === undefined && req.headers.forwarded === undefined;
}

/**
 * ALIBABA_CLOUD_*_ENDPOINT overrides: RAM, CS, ECS, HBR and OSS_ADMIN take `host[:port]`; a value written as a URL
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
  const endpoints = {
    ram: hostOf(cloud.ramEndpoint), cs: hostOf(cloud.csEndpoint), oss: cloud.ossEndpoint ?? null,
    ecs: hostOf(cloud.ecsEndpoint), hbr: hostOf(cloud.hbrEndpoint), ossAdmin: hostOf(cloud.ossAdminEndpoint),
  };
  return { endpoints, protocol };
}
