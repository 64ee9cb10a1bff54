// The DingTalk adapter: robot messages and card clicks arrive over the Stream mode WebSocket
// (dingtalk-stream's DWClient); replies go out as interactive cards through the OpenAPI.
import { randomUUID } from 'node:crypto';
import { DWClient, GATEWAY_URL, TOPIC_CARD, TOPIC_ROBOT, type DWClientDownStream } from 'dingtalk-stream';
import type { DingTalkConfig } from '../../config/index.ts';
import type { Logger } from '../../observability/logger.ts';
import { HELP_TEXT } from '../grammar.ts';
import { DENY_REASON_MINUTES, type ChatEvent, type ChatEventHandler, type ChatPort, type Conversation, type PostedMessage, type Reply, type TellActor } from '../model.ts';
import { cardParams, localTime, MARKDOWN_BUTTON_TEMPLATE_ID, renderCards, renderDecidedCard, type Card, type CardStyle } from './cards.ts';
import { plainText } from '../../../flows/domain/inline.js';
import { People } from './people.ts';
import { cardCallback, parseJson, robotMessage } from './inbound.ts';
import { createDingTalkApi, DEFAULT_API_URL, DingTalkApiError, type DingTalkApi, type RetryOptions } from './openapi.ts';

export type { RetryOptions };

export type DingTalkAdapterOptions = Omit<DingTalkConfig, 'cardTemplateId' | 'timeZone'> & {
  /** Default: DingTalk's public MarkdownButton template (cards.ts). */
  cardTemplateId?: string | undefined;
  /** The group's time zone for times on cards. Default Asia/Shanghai. */
  timeZone?: string | undefined;
  handler: ChatEventHandler;
  logger: Logger;
  /** APPROVERS: the `dingtalk:` ones are @-mentioned on approval cards. */
  approvers?: readonly string[];
  /** Retries of failed OpenAPI calls (throttling, 5xx, network errors). */
  retry?: RetryOptions;
  /** Keep-alive of the stream: a ping this often; a socket that misses a pong is replaced. Default 10 s. */
  keepAliveMs?: number;
};

export interface DingTalkAdapter {
  port: ChatPort;
  /** Checks the credentials (one clear error when DingTalk refuses them), then opens the stream. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The stream's WebSocket is open (it reconnects by itself when dropped). */
  connected(): boolean;
  /** Keep-alive timers running: one while connected, none once stopped (none leak across reconnects). */
  watchdogs(): number;
}

/** Approval cards kept so their decided version can repeat what was approved. */
const REMEMBERED_APPROVALS = 500;
const CONNECTIONS_OPEN_PATH = '/v1.0/gateway/connections/open';
/**
 * DingTalk's robot messages and card callbacks carry no time zone (createAt is epoch milliseconds), and
 * DingTalk is run on China Standard Time; a group elsewhere sets DINGTALK_TIME_ZONE.
 */
const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
const KEEP_ALIVE_MS = 10_000;
/** How long a card callback waits for the clicker's name before it is stored with the staff id. */
const NAME_LOOKUP_WAIT_MS = 1_500;
const RECONNECT_MS = 1_000;

export function createDingTalkAdapter(options: DingTalkAdapterOptions): DingTalkAdapter {
  const logger = options.logger.child({ component: 'dingtalk' });
  const apiUrl = options.apiUrl ?? DEFAULT_API_URL;
  const api = createDingTalkApi({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    apiUrl,
    retry: options.retry,
    onRetry: (info) => logger.warn(info, 'DingTalk call failed; retrying'),
  });
  const people = new People(api, logger);
  const port = createPort(api, options, people, logger);
  const client = new StreamClient(options.clientId, options.clientSecret, gatewayEndpoint(options.gatewayUrl), logger, options.keepAliveMs ?? KEEP_ALIVE_MS);

  const tellOf = (event: ChatEvent): TellActor => (text) => port.tell(event.conversation, event.actor.id, text);

  /**
   * Acknowledges only what was handled: an event is stored (the handler resolves) before its ack, so
   * DingTalk redelivers one that never reached the store. Repeated deliveries are stored once.
   */
  const listen = (topic: string, onData: (data: Record<string, unknown>, messageId: string) => Promise<void>) => {
    client.registerCallbackListener(topic, (message: DWClientDownStream) => {
      const messageId = message.headers.messageId;
      const ack = () => {
        try {
          client.socketCallBackResponse(messageId, {});
        } catch (error) {
          logger.warn({ err: error, topic }, 'could not acknowledge a DingTalk callback');
        }
      };
      const data = parseJson(message.data);
      if (!data) {
        ack();
        return logger.warn({ topic }, 'ignored a DingTalk callback whose data is not a JSON object');
      }
      onData(data, messageId).then(ack, (error: unknown) =>
        logger.error({ err: error, topic }, 'a DingTalk callback was not stored; it is left unacknowledged for redelivery'),
      );
    });
  };

  listen(TOPIC_ROBOT, async (data, messageId) => {
    const translated = robotMessage(data, messageId);
    switch (translated.kind) {
      case 'event':
        people.saw(translated.event.actor);
        return options.handler(translated.event, tellOf(translated.event));
      case 'notCommand': {
        people.saw(translated.actor);
        const help: Reply = { kind: 'help', text: `${translated.error}\n\n${HELP_TEXT}` };
        void port.post(translated.conversation, help);
        return;
      }
      case 'private':
        // A private message is the reason for a denial just made, when there is one (the runtime says otherwise).
        people.saw(translated.event.actor);
        return options.handler(translated.event, tellOf(translated.event));
      case 'ignored':
        return logger.debug({ reason: translated.reason }, 'ignored a robot message');
    }
  });

  listen(TOPIC_CARD, async (data, messageId) => {
    // The clicker's name goes into the decision ("Approved by …"); a slow lookup must not hold the ack.
    const clicker = typeof data.userId === 'string' ? data.userId : '';
    if (clicker) await people.resolve([`dingtalk:${clicker}`], NAME_LOOKUP_WAIT_MS);
    const event = cardCallback(data, messageId, (staffId) => people.known(staffId));
    if (!event) return logger.warn({ outTrackId: data.outTrackId }, 'ignored a card callback that is not ours');
    return options.handler(event, tellOf(event));
  });

  return {
    port,
    async start() {
      try {
        await api.accessToken();
      } catch (error) {
        throw startError(error, apiUrl);
      }
      await client.open();
    },
    async stop() {
      await client.close();
    },
    connected: () => client.connected,
    watchdogs: () => client.watchdogs,
  };
}

/** DingTalk's answer to the token request, in one line that names the settings and never the secret. */
function startError(error: unknown, apiUrl: string): Error {
  if (error instanceof DingTalkApiError && error.status !== null && error.status < 500) {
    return new Error(`DingTalk refused DINGTALK_CLIENT_ID/DINGTALK_CLIENT_SECRET: ${error.code}`);
  }
  const code = error instanceof DingTalkApiError ? error.code : 'unexpected error';
  return new Error(`DingTalk OpenAPI at ${apiUrl} did not issue an access token (check DINGTALK_API_URL): ${code}`);
}

/** DINGTALK_GATEWAY_URL may be the service's base URL or the full connections/open URL. */
function gatewayEndpoint(gatewayUrl: string | undefined): string {
  if (!gatewayUrl) return GATEWAY_URL;
  const url = gatewayUrl.replace(/\/+$/, '');
  return url.endsWith(CONNECTIONS_OPEN_PATH) ? url : `${url}${CONNECTIONS_OPEN_PATH}`;
}

/**
 * DWClient with the gateway URL made configurable: dingtalk-stream 2.1 has no option for it (its
 * `endpoint` option is overwritten by the gateway's answer, and GATEWAY_URL is a constant), so the
 * endpoint request is made here. The first connection is made with errors surfacing; after it the
 * SDK's own reconnection (1 s after every close) takes over until close(). Two things the SDK lacks:
 * - A SYSTEM `disconnect` frame (the gateway is about to close this connection, and delivers nothing on
 *   it meanwhile) only clears the SDK's flags; here the socket is replaced at once.
 * - The SDK's keepAlive starts a ping timer per connection and clears it only on disconnect(), so
 *   timers pile up across reconnects; here each socket has its own watchdog, cleared when it closes. A
 *   socket that misses a pong (open, but silent) is terminated, and the SDK reconnects.
 */
class StreamClient extends DWClient {
  readonly #gatewayUrl: string;
  readonly #logger: Logger;
  readonly #keepAliveMs: number;
  readonly #watchdogs = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(clientId: string, clientSecret: string, gatewayUrl: string, logger: Logger, keepAliveMs: number) {
    super({ clientId, clientSecret, keepAlive: false, debug: false, ua: 'backup-setup-bot' });
    this.#gatewayUrl = gatewayUrl;
    this.#logger = logger;
    this.#keepAliveMs = keepAliveMs;
    // A fresh list (the SDK's default one is shared between clients) with only our callback topics.
    this.config.subscriptions = [];
    this.config.autoReconnect = false;
  }

  /** The SDK's own fields this class works with (private in its typings). */
  get #sdk(): { socket?: WebSocketLike; reconnectInterval: number } {
    return this as unknown as { socket?: WebSocketLike; reconnectInterval: number };
  }

  get watchdogs(): number {
    return this.#watchdogs.size;
  }

  async open(): Promise<void> {
    this.#stopped = false;
    try {
      await this.getEndpoint();
      await this._connect();
    } catch (error) {
      this.disconnect();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`DingTalk stream gateway ${this.#gatewayUrl} did not connect: ${reason}`);
    }
    this.config.autoReconnect = true;
    this.#logger.info('DingTalk stream connected');
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.config.autoReconnect = false;
    const socket = this.#sdk.socket;
    const closed = socket && socket.readyState !== 3 ? new Promise<void>((resolve) => socket.once('close', resolve)) : null;
    this.disconnect();
    if (closed) await closed;
    for (const timer of this.#watchdogs) clearInterval(timer);
    this.#watchdogs.clear();
  }

  override async connect(): Promise<void> {
    this.#sdk.reconnectInterval = RECONNECT_MS;
    if (this.#stopped) return;
    this.#logger.info('DingTalk stream reconnecting');
    await super.connect();
    if (this.connected) this.#logger.info('DingTalk stream reconnected');
    else if (!this.#stopped) this.#logger.warn('DingTalk stream reconnection failed; retrying');
  }

  /** A reconnection already under way when close() was called must not open a socket. */
  override async _connect(): Promise<void> {
    if (this.#stopped) throw new Error('the adapter is stopped');
    await super._connect();
    this.#watch(this.#sdk.socket!);
  }

  override onSystem(downstream: DWClientDownStream): void {
    if (downstream.headers.topic === 'disconnect') {
      this.#logger.warn('DingTalk stream gateway sent disconnect; reconnecting at once');
      this.#sdk.reconnectInterval = 0;
      this.#sdk.socket?.terminate();
      return;
    }
    super.onSystem(downstream);
  }

  /** Pings the socket every interval; one that did not answer the previous ping is terminated. */
  #watch(socket: WebSocketLike): void {
    let answered = true;
    socket.on('pong', () => {
      answered = true;
    });
    const timer = setInterval(() => {
      if (!answered) {
        this.#logger.warn('DingTalk stream socket missed a pong; replacing it');
        socket.terminate();
        return;
      }
      answered = false;
      socket.ping();
    }, this.#keepAliveMs);
    timer.unref();
    this.#watchdogs.add(timer);
    socket.once('close', () => {
      clearInterval(timer);
      this.#watchdogs.delete(timer);
    });
  }

  override async getEndpoint(): Promise<this> {
    if (this.#stopped) throw new Error('the adapter is stopped');
    const response = await fetch(this.#gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        clientId: this.config.clientId,
        clientSecret: this.config.clientSecret,
        ua: this.config.ua,
        subscriptions: this.config.subscriptions,
      }),
    });
    const text = await response.text();
    const body = parseJson(text) ?? {};
    const { endpoint, ticket } = body;
    if (!response.ok || typeof endpoint !== 'string' || typeof ticket !== 'string') {
      const code = typeof body.code === 'string' ? body.code : `HTTP ${response.status}`;
      throw new Error(`the gateway answered ${code}`);
    }
    (this as unknown as { dw_url: string }).dw_url = `${endpoint}?ticket=${encodeURIComponent(ticket)}`;
    return this;
  }
}

interface WebSocketLike {
  readyState: number;
  once(event: 'close', listener: () => void): void;
  on(event: 'pong', listener: () => void): void;
  ping(): void;
  terminate(): void;
}

function createPort(api: DingTalkApi, options: DingTalkAdapterOptions, people: People, logger: Logger): ChatPort {
  const approvals = boundedMap<string, string>(REMEMBERED_APPROVALS);
  const templateId = options.cardTemplateId ?? MARKDOWN_BUTTON_TEMPLATE_ID;
  const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
  const approvers = (options.approvers ?? []).filter((a) => a.startsWith('dingtalk:'));
  const style = (extra: Partial<CardStyle> = {}): CardStyle => ({ nameOf: (user) => people.nameOf(user), timeZone, ...extra });

  /**
   * Delivers one card under a fresh outTrackId (so a retried delivery is never shown twice). A card that
   * opens a conversation is its own "thread": its buttons name its id, filled in once chosen.
   */
  const deliver = async (conversation: Conversation, c: Card, atUserIds?: Record<string, string>): Promise<string> => {
    const outTrackId = randomUUID();
    await api.createAndDeliverCard({
      cardTemplateId: templateId,
      outTrackId,
      openConversationId: conversation.channelId,
      robotCode: options.robotCode,
      cardParamMap: cardParams(withThread(c, conversation.threadId ?? outTrackId)),
      ...(atUserIds ? { atUserIds } : {}),
    });
    return outTrackId;
  };

  return {
    platform: 'dingtalk',
    denyReasonHint: `To say why, send the reason to the robot in a private chat within ${DENY_REASON_MINUTES} minutes: it is added to the denial in the group and to the audit log.`,

    async post(conversation: Conversation, reply: Reply): Promise<PostedMessage | null> {
      if (reply.kind === 'approval') await people.resolve([reply.requester, ...approvers]);
      const place = { conversationId: conversation.channelId, threadId: conversation.threadId ?? PENDING };
      const rendered = renderCards(reply, place, style(reply.kind === 'approval' ? { approvers } : {}));
      try {
        for (const detail of rendered.before) await deliver(conversation, detail);
        const mentions = reply.kind === 'approval' ? people.mentions(approvers) : undefined;
        const outTrackId = await deliver(conversation, rendered.card, mentions);
        const threadId = conversation.threadId ?? outTrackId;
        for (const more of rendered.after) await deliver({ ...conversation, threadId }, more);
        if (reply.kind === 'approval') approvals.set(outTrackId, rendered.card.markdown);
        return { conversation: { ...conversation, threadId }, messageId: outTrackId };
      } catch (error) {
        logger.warn({ err: error, kind: reply.kind, code: apiCode(error) }, 'DingTalk card post failed');
        return null;
      }
    },

    async update(message, reply) {
      const place = { conversationId: message.conversation.channelId, threadId: message.conversation.threadId ?? message.messageId };
      // The store's copy of what was shown comes first; this process's copy serves replies without one.
      const cardParamMap =
        reply.kind === 'decided'
          ? renderDecidedCard(reply, reply.shown ? renderCards(reply.shown, place, style()).card.markdown : approvals.get(message.messageId), style(), place)
          : cardParams(renderCards(reply, place, style()).card);
      try {
        await api.updateCard(message.messageId, cardParamMap);
        if (reply.kind === 'decided') approvals.delete(message.messageId);
      } catch (error) {
        logger.warn({ err: error, kind: reply.kind, code: apiCode(error) }, 'DingTalk card update failed');
      }
    },

    async tell(_conversation, userId, text) {
      const staffId = /^dingtalk:(.+)$/.exec(userId)?.[1];
      if (!staffId) return logger.warn({ userId }, 'cannot tell a non-DingTalk user in DingTalk');
      try {
        await api.sendPrivateText(options.robotCode, [staffId], plainText(text, (id) => people.nameOf(id), (iso) => localTime(iso, timeZone)));
      } catch (error) {
        logger.warn({ err: error, code: apiCode(error) }, 'DingTalk private message failed');
      }
    },
  };
}

/** Placeholder thread of a card that opens its conversation, filled in by withThread once known. */
const PENDING = '';

function withThread(c: Card, threadId: string): Card {
  return { ...c, buttons: c.buttons.map((b) => (b.params.threadId === PENDING ? { ...b, params: { ...b.params, threadId } } : b)) };
}

function apiCode(error: unknown): string | undefined {
  return error instanceof DingTalkApiError ? error.code : undefined;
}

/** A Map that forgets its oldest entries beyond `size`. */
function boundedMap<K, V>(size: number): Map<K, V> {
  const map = new Map<K, V>();
  const set = map.set.bind(map);
  map.set = (key, value) => {
    map.delete(key);
    set(key, value);
    if (map.size > size) map.delete(map.keys().next().value!);
    return map;
  };
  return map;
}
