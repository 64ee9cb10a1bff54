// A Bolt receiver for Slack's Socket Mode that keeps the bot's two promises Bolt's own
// SocketModeReceiver does not:
// - An envelope is acknowledged only once its listener is done. Bolt acknowledges Events API
//   deliveries before the listener runs (App.processEvent: "Events API requests are acknowledged right
//   away"); here every acknowledgement is held until processEvent resolves, and a listener that fails
//   leaves the envelope unacknowledged so Slack delivers it again (Socket Mode retries an envelope that
//   is not acknowledged within 3 seconds: https://api.slack.com/apis/connections/socket-implement).
// - The connection is never given up. @slack/socket-mode 3.1 treats a network error or an HTTP error of
//   apps.connections.open as unrecoverable and rejects from its own reconnect timer, an unhandled
//   rejection that ends the process. Here the client's own reconnection is off; this receiver reopens the
//   connection after every close, with backoff, for as long as it runs.
import { SocketModeClient } from '@slack/socket-mode';
import type { App, Logger, Receiver, ReceiverEvent } from '@slack/bolt';

/** Backoff between connection attempts: 1 s, 2 s, 4 s, … up to 30 s, and again after each failure. */
const BACKOFF = { minMs: 1_000, maxMs: 30_000 } as const;
/** Errors after which retrying cannot help: the token is wrong, revoked, or of the wrong kind. */
const FATAL = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'not_allowed_token_type', 'missing_scope']);

export interface SocketReceiverOptions {
  appToken: string;
  logger: Logger;
  /** apps.connections.open base URL (the emulator's, ending in /api/). */
  apiUrl?: string;
  backoff?: { minMs: number; maxMs: number };
}

export class SlackSocketReceiver implements Receiver {
  private app: App | undefined;
  private readonly client: SocketModeClient;
  private readonly logger: Logger;
  private readonly backoff: { minMs: number; maxMs: number };
  private stopped = true;
  private isConnected = false;
  private reconnecting: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(options: SocketReceiverOptions) {
    this.logger = options.logger;
    this.backoff = options.backoff ?? BACKOFF;
    this.client = new SocketModeClient({
      appToken: options.appToken,
      logger: options.logger,
      autoReconnectEnabled: false,
      // One try per call: this receiver decides when to try again (the default is 100 retries).
      clientOptions: { retryConfig: { retries: 0 }, ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}) },
    });
    this.client.on('connected', () => {
      this.isConnected = true;
      this.logger.info('Slack Socket Mode connected');
    });
    this.client.on('disconnected', () => {
      this.isConnected = false;
      if (!this.stopped) void this.reconnect('the connection closed');
    });
    this.client.on('slack_event', (args: SocketEvent) => void this.onEnvelope(args));
  }

  init(app: App): void {
    this.app = app;
  }

  /** Opens the first connection; errors of the token surface here, anything else is retried. */
  async start(): Promise<void> {
    this.stopped = false;
    try {
      await this.client.start();
    } catch (error) {
      if (isFatal(error)) {
        this.stopped = true;
        throw new Error(`Slack refused SLACK_APP_TOKEN for Socket Mode: ${slackCode(error)}`);
      }
      this.logger.warn(`Slack Socket Mode did not connect (${describe(error)}); retrying in the background`);
      void this.reconnect('the first connection failed');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.reconnecting;
    await this.client.disconnect();
    this.isConnected = false;
  }

  connected(): boolean {
    return this.isConnected;
  }

  private reconnect(reason: string): Promise<void> {
    this.reconnecting ??= this.reconnectLoop(reason).finally(() => {
      this.reconnecting = null;
    });
    return this.reconnecting;
  }

  private async reconnectLoop(reason: string): Promise<void> {
    this.logger.warn(`Slack Socket Mode reconnecting: ${reason}`);
    for (let attempt = 0; !this.stopped; attempt++) {
      // The first attempt is immediate: a refresh_requested wants a new connection at once.
      if (attempt > 0) await this.sleep(Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** (attempt - 1)));
      if (this.stopped) return;
      try {
        await this.client.start();
        return;
      } catch (error) {
        this.logger.warn(`Slack Socket Mode reconnection attempt ${attempt + 1} failed: ${describe(error)}`);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async onEnvelope(args: SocketEvent): Promise<void> {
    let response: unknown;
    let acked = false;
    const event: ReceiverEvent = {
      body: args.body,
      // Held until the listener is done: see the top of this file.
      ack: async (payload?: unknown) => {
        if (acked) return;
        acked = true;
        response = payload;
      },
      retryNum: args.retry_num,
      retryReason: args.retry_reason,
    };
    try {
      await this.app?.processEvent(event);
    } catch (error) {
      this.logger.error(`Slack event failed; left unacknowledged for redelivery: ${describe(error)}`);
      return;
    }
    try {
      await args.ack(response === undefined ? undefined : (response as Record<string, unknown>));
    } catch (error) {
      this.logger.warn(`could not acknowledge a Slack envelope (Slack will deliver it again): ${describe(error)}`);
    }
  }
}

interface SocketEvent {
  body: Record<string, unknown>;
  ack(response?: Record<string, unknown>): Promise<void>;
  retry_num?: number;
  retry_reason?: string;
}

function slackCode(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

function isFatal(error: unknown): boolean {
  const code = slackCode(error);
  return code !== undefined && FATAL.has(code);
}

function describe(error: unknown): string {
  return slackCode(error) ?? (error instanceof Error ? error.message : String(error));
}
