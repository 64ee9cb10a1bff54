// Local DingTalk: the Stream gateway (connections/open + WebSocket), the OpenAPI routes the bot uses
// (access token, interactive cards, robot group / one-to-one messages) and session webhooks.
//
// The real `dingtalk-stream` DWClient reaches it unchanged except for the gateway URL: the client
// POSTs to a hard-coded GATEWAY_URL constant (no constructor option overrides it; `config.endpoint`
// is overwritten with the gateway's answer), so a sandbox client overrides getEndpoint() to POST the
// same body to `gatewayUrl` and set `dw_url = endpoint + '?ticket=' + ticket` (see the test).
// OpenAPI calls go to `apiUrl` + the usual paths, e.g. `${apiUrl}/v1.0/oauth2/accessToken`.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, sendJson } from '../http.ts';
import { buttonsOf, CardStore, OpenApiError, invalid, requireString, type Body, type RenderedButton, type RenderedCard } from './cards.ts';
import { StreamGateway, type Subscription } from './gateway.ts';

export interface DingTalkEmulatorOptions {
  clientId: string;
  clientSecret: string;
  robotCode: string;
  corpId?: string;
  /** How long a pushed frame waits for the client's ack before it counts as not acked (default 10 s). */
  ackTimeoutMs?: number;
  /** The organisation's people, for the user details API. */
  users?: { staffId: string; name: string }[];
  /** Whether the app holds the contact permission the user details API needs (default true). */
  contactPermission?: boolean;
  /** After a SYSTEM disconnect, how long the gateway keeps the old connection open, delivering nothing (default 10 s). */
  disconnectGraceMs?: number;
}

export interface SentMessage {
  conversationId?: string;
  userIds?: string[];
  msgKey: string;
  msgParam: unknown;
  via: 'group' | 'oto' | 'webhook';
}

export interface DingTalkEmulator {
  /** Base URL for the OpenAPI (stands for https://api.dingtalk.com). */
  apiUrl: string;
  /** Full URL of the Stream gateway's connections/open (stands for https://api.dingtalk.com/v1.0/gateway/connections/open). */
  gatewayUrl: string;
  /** A user sends "@bot <text>" in a group: delivered as a robot message callback; resolves when the client acked. */
  sendGroupMessage(input: { conversationId: string; userId: string; nick?: string; text: string; title?: string }): Promise<{ acked: boolean }>;
  /**
   * A user writes to the robot in a one-to-one chat: a robot message with conversationType "1" (单聊; "2" is
   * a group), its own conversationId, and no @mention to strip (https://open.dingtalk.com/document/orgapp/receive-message).
   */
  sendPrivateMessage(input: { userId: string; nick?: string; text: string }): Promise<{ acked: boolean }>;
  /**
   * A user clicks a button the card shows (by its id, or its position): delivered as a card callback
   * carrying what the template sends, the button's id and params; resolves with the ack.
   */
  clickCard(input: {
    outTrackId: string;
    userId: string;
    button: string | number;
    /** The buttons as this person's client still shows them (a card updated since, not yet refreshed there). */
    seen?: RenderedButton[];
  }): Promise<{ acked: boolean; response?: unknown }>;
  /** A card as the template shows it: title, markdown, buttons and who it @-mentioned. */
  rendered(outTrackId: string): RenderedCard;
  /** Makes the next `times` calls of an OpenAPI path answer 403 QpsLimitForAppkeyAndApi. */
  throttle(path: string, times: number): void;
  /** SYSTEM disconnect to every connection: the gateway delivers nothing more on them and closes them after the grace time. */
  sendDisconnect(): void;
  /** Every open connection stays open but goes silent: no deliveries, no pongs. */
  silence(): void;
  /** Pings each connection received from its client (the keep-alive), by connection, newest last. */
  pingsReceived(): number[];
  /** SYSTEM ping to every connected client; each must echo it. */
  ping(): Promise<{ acked: boolean }[]>;
  cards(): { outTrackId: string; conversationId: string; cardParamMap: Record<string, string>; mentions: Record<string, string>; updates: number }[];
  messages(): SentMessage[];
  /** Every HTTP call with path (no query string) and status, never with secrets. */
  calls(): { method: string; path: string; status: number }[];
  /** Drops every open WebSocket (as a network failure would). */
  dropConnections(): void;
  connectionCount(): number;
  /** Resolves once a client is connected (connection count > 0). */
  waitForConnection(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';
export const TOPIC_CARD = '/v1.0/card/instances/callback';
const TOKEN_LIFETIME_S = 7200;
/**
 * "Each app may call each API at most 20 times per second"; past it the call answers HTTP 403
 * Forbidden.AccessDenied.QpsLimitForAppkeyAndApi (open.dingtalk.com, "API call frequency limit" /
 * "如何处理API调用被限流").
 */
const QPS_PER_APP_AND_API = 20;
const SESSION_LIFETIME_MS = 90 * 60_000;

/** Template keys the robot message APIs accept and the msgParam fields each needs. */
const MSG_KEYS: Record<string, string[]> = {
  sampleText: ['content'],
  sampleMarkdown: ['title', 'text'],
  sampleActionCard: ['title', 'text'],
  sampleLink: ['text', 'title', 'picUrl', 'messageUrl'],
  sampleImageMsg: ['photoURL'],
};
/** Session webhook msgtypes and the fields of their payload object. */
const WEBHOOK_TYPES: Record<string, string[]> = { text: ['content'], markdown: ['title', 'text'], actionCard: ['title', 'text'] };

export async function startDingTalkEmulator(o: DingTalkEmulatorOptions): Promise<DingTalkEmulator> {
  const corpId = o.corpId ?? `ding${randomBytes(8).toString('hex')}`;
  const chatbotUserId = `$:LWCP_v1:$${randomBytes(12).toString('base64')}`;
  const gateway = new StreamGateway(o.ackTimeoutMs ?? 10_000, o.disconnectGraceMs ?? 10_000);
  const calledAt = new Map<string, number[]>();
  const forcedThrottles = new Map<string, number>();
  const people = new Map((o.users ?? []).map((u) => [u.staffId, u.name]));

  /** The 20 QPS rule, per API (this emulator serves one app), counted over the last second. */
  const throttled = (path: string): boolean => {
    const forced = forcedThrottles.get(path) ?? 0;
    if (forced > 0) {
      forcedThrottles.set(path, forced - 1);
      return true;
    }
    const now = Date.now();
    const recent = (calledAt.get(path) ?? []).filter((t) => now - t < 1_000);
    if (recent.length >= QPS_PER_APP_AND_API) {
      calledAt.set(path, recent);
      return true;
    }
    recent.push(now);
    calledAt.set(path, recent);
    return false;
  };
  const cardStore = new CardStore(o);
  const tokens = new Map<string, number>();
  const sessions = new Map<string, { conversationId: string; expiresAt: number }>();
  const sent: SentMessage[] = [];
  const callLog: { method: string; path: string; status: number }[] = [];
  let base = '';

  const authorize = (req: IncomingMessage): void => {
    const token = req.headers['x-acs-dingtalk-access-token'];
    const expiresAt = typeof token === 'string' ? tokens.get(token) : undefined;
    if (expiresAt === undefined || expiresAt < Date.now()) throw new OpenApiError(401, 'InvalidAuthentication', '不合法的access_token');
  };

  const checkRobot = (body: Body): void => {
    const robotCode = requireString(body, 'robotCode');
    if (robotCode !== o.robotCode) throw new OpenApiError(400, 'resource.not.found', `robot ${robotCode} does not exist`);
  };

  const messageParam = (body: Body): { msgKey: string; msgParam: Body } => {
    const msgKey = requireString(body, 'msgKey');
    const fields = MSG_KEYS[msgKey];
    if (!fields) throw invalid('msgKey', `${msgKey} is not a supported message template`);
    const text = requireString(body, 'msgParam');
    let msgParam: unknown;
    try {
      msgParam = JSON.parse(text);
    } catch {
      throw invalid('msgParam', 'must be a JSON string');
    }
    if (typeof msgParam !== 'object' || msgParam === null) throw invalid('msgParam', 'must be a JSON object');
    for (const field of fields) requireString(msgParam as Body, field, `msgParam.${field}`);
    return { msgKey, msgParam: msgParam as Body };
  };

  const openApi = async (method: string, path: string, req: IncomingMessage, body: Body, url: URL): Promise<[number, unknown]> => {
    const route = `${method} ${path}`;
    if (path !== '/v1.0/oauth2/accessToken' && path !== '/v1.0/gateway/connections/open' && throttled(path)) {
      throw new OpenApiError(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', 'Current request frequency exceeds the limit of this api for this app.');
    }
    switch (route) {
      case 'POST /v1.0/gateway/connections/open': {
        const clientId = requireString(body, 'clientId');
        const clientSecret = requireString(body, 'clientSecret');
        if (clientId !== o.clientId || clientSecret !== o.clientSecret) throw new OpenApiError(401, 'InvalidAuthentication', 'clientId or clientSecret is invalid');
        const ticket = gateway.issueTicket(subscriptions(body));
        return [200, { endpoint: `${base.replace(/^http/, 'ws')}/connect`, ticket }];
      }
      case 'POST /v1.0/oauth2/accessToken': {
        const appKey = requireString(body, 'appKey');
        const appSecret = requireString(body, 'appSecret');
        if (appKey !== o.clientId || appSecret !== o.clientSecret) throw new OpenApiError(400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
        const accessToken = randomBytes(16).toString('hex');
        tokens.set(accessToken, Date.now() + TOKEN_LIFETIME_S * 1000);
        return [200, { accessToken, expireIn: TOKEN_LIFETIME_S }];
      }
      case 'POST /v1.0/card/instances/createAndDeliver':
        authorize(req);
        return [200, cardStore.createAndDeliver(body)];
      case 'PUT /v1.0/card/instances':
        authorize(req);
        return [200, cardStore.update(body)];
      case 'POST /v1.0/robot/groupMessages/send': {
        authorize(req);
        const { msgKey, msgParam } = messageParam(body);
        const openConversationId = requireString(body, 'openConversationId');
        checkRobot(body);
        sent.push({ conversationId: openConversationId, msgKey, msgParam, via: 'group' });
        return [200, { processQueryKey: randomUUID() }];
      }
      case 'POST /v1.0/robot/oToMessages/batchSend': {
        authorize(req);
        const { msgKey, msgParam } = messageParam(body);
        const userIds = body['userIds'];
        if (userIds === undefined) throw new OpenApiError(400, 'MissinguserIds', 'userIds is mandatory for this action.');
        if (!Array.isArray(userIds) || userIds.length === 0 || userIds.length > 20 || !userIds.every((u) => typeof u === 'string' && u !== '')) {
          throw invalid('userIds', 'must be 1 to 20 user ids');
        }
        checkRobot(body);
        sent.push({ userIds: userIds as string[], msgKey, msgParam, via: 'oto' });
        return [200, { processQueryKey: randomUUID(), invalidStaffIdList: [], flowControlledStaffIdList: [] }];
      }
      // https://open.dingtalk.com/document/orgapp/query-user-details: oapi style, HTTP 200 with errcode;
      // needs the access token as a query parameter and the app's contact read permission.
      case 'POST /topapi/v2/user/get': {
        const token = url.searchParams.get('access_token') ?? '';
        const expiresAt = tokens.get(token);
        if (expiresAt === undefined || expiresAt < Date.now()) return [200, { errcode: 40014, errmsg: '不合法的access_token', request_id: randomUUID() }];
        if (o.contactPermission === false) return [200, { errcode: 60011, errmsg: '没有调用该接口的权限', request_id: randomUUID() }];
        const userid = body['userid'];
        if (typeof userid !== 'string' || userid === '') return [200, { errcode: 40035, errmsg: '缺少参数 userid', request_id: randomUUID() }];
        const name = people.get(userid);
        if (name === undefined) return [200, { errcode: 60121, errmsg: '找不到该用户', request_id: randomUUID() }];
        return [200, { errcode: 0, errmsg: 'ok', result: { userid, name, active: true }, request_id: randomUUID() }];
      }
      default:
        throw new OpenApiError(404, 'InvalidAction.NotFound', `${route} is not an API of this service`);
    }
  };

  /** oapi-style answers: HTTP 200 with errcode/errmsg. */
  const sessionWebhook = (url: URL, body: Body): unknown => {
    const session = sessions.get(url.searchParams.get('session') ?? '');
    if (!session || session.expiresAt < Date.now()) return { errcode: 300001, errmsg: 'session is invalid or expired' };
    const msgtype = body['msgtype'];
    const fields = typeof msgtype === 'string' ? WEBHOOK_TYPES[msgtype] : undefined;
    const payload = typeof msgtype === 'string' ? body[msgtype] : undefined;
    if (!fields || typeof payload !== 'object' || payload === null) return { errcode: 40035, errmsg: '缺少参数 msgtype' };
    const missing = fields.find((f) => typeof (payload as Body)[f] !== 'string' || (payload as Body)[f] === '');
    if (missing) return { errcode: 40035, errmsg: `缺少参数 ${msgtype}.${missing}` };
    sent.push({ conversationId: session.conversationId, msgKey: msgtype as string, msgParam: payload, via: 'webhook' });
    return { errcode: 0, errmsg: 'ok' };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', base);
    const raw = await readBody(req);
    const isJson = (req.headers['content-type'] ?? '').includes('application/json');
    let body: Body = {};
    try {
      if (raw.length > 0 || method !== 'GET') {
        if (!isJson || raw.length === 0) throw new OpenApiError(400, 'Missingbody', 'body is mandatory for this action.');
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('body', 'must be a JSON object');
        body = parsed as Body;
      }
      if (method === 'POST' && url.pathname === '/robot/sendBySession') {
        sendJson(res, 200, sessionWebhook(url, body));
        return 200;
      }
      const [status, answer] = await openApi(method, url.pathname, req, body, url);
      sendJson(res, status, answer);
      return status;
    } catch (error) {
      const e = error instanceof OpenApiError ? error : error instanceof SyntaxError ? invalid('body', 'is not valid JSON') : undefined;
      if (!e) throw error;
      sendJson(res, e.status, { code: e.code, message: e.message, requestid: randomUUID().toUpperCase() });
      return e.status;
    }
  };

  const server = createServer((req, res) => {
    const entry = { method: req.method ?? 'GET', path: new URL(req.url ?? '/', 'http://x').pathname, status: 0 };
    callLog.push(entry);
    handle(req, res)
      .then((status) => {
        entry.status = status;
      })
      .catch((error: unknown) => {
        entry.status = 500;
        if (!res.headersSent) sendJson(res, 500, { code: 'InternalError', message: error instanceof Error ? error.message : String(error) });
        else res.destroy();
      });
  });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    callLog.push({ method: 'GET', path, status: gateway.handleUpgrade(req, socket, head) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** A robot message from a person, as the Stream gateway delivers it, with a session webhook to answer on. */
  const deliverText = (conversationId: string, from: { userId: string; nick?: string }, fields: Record<string, unknown>) => {
    const now = Date.now();
    const session = randomBytes(16).toString('hex');
    sessions.set(session, { conversationId, expiresAt: now + SESSION_LIFETIME_MS });
    return gateway.callback(TOPIC_ROBOT, {
      conversationId,
      chatbotCorpId: corpId,
      chatbotUserId,
      msgId: `msg${randomBytes(12).toString('base64url')}`,
      senderNick: from.nick ?? from.userId,
      isAdmin: false,
      senderStaffId: from.userId,
      sessionWebhookExpiredTime: now + SESSION_LIFETIME_MS,
      createAt: now,
      senderCorpId: corpId,
      senderId: `$:LWCP_v1:$${Buffer.from(from.userId).toString('base64')}`,
      sessionWebhook: `${base}/robot/sendBySession?session=${session}`,
      robotCode: o.robotCode,
      msgtype: 'text',
      ...fields,
    });
  };

  return {
    apiUrl: base,
    gatewayUrl: `${base}/v1.0/gateway/connections/open`,
    async sendGroupMessage(input) {
      const ack = await deliverText(input.conversationId, input, {
        atUsers: [{ dingtalkId: chatbotUserId }],
        conversationType: '2',
        conversationTitle: input.title ?? 'Sandbox group',
        isInAtList: true,
        // DingTalk strips the @mention and keeps the space after it.
        text: { content: ` ${input.text}` },
      });
      return { acked: ack.acked };
    },
    async sendPrivateMessage(input) {
      const ack = await deliverText(`cidOto${Buffer.from(input.userId).toString('base64url')}==`, input, { conversationType: '1', text: { content: input.text } });
      return { acked: ack.acked };
    },
    async clickCard(input) {
      const card = cardStore.get(input.outTrackId);
      if (card.callbackType !== 'STREAM') throw new Error(`card ${input.outTrackId} was delivered with callbackType ${card.callbackType}, not STREAM`);
      // Only a button the card shows can be clicked, and it sends what the template puts in a callback.
      const buttons = input.seen ?? (card.cardParamMap.sys_full_json_obj ? buttonsOf(card.cardParamMap.sys_full_json_obj) : []);
      const button = typeof input.button === 'number' ? buttons[input.button] : buttons.find((b) => b.id === input.button);
      if (!button) throw new Error(`card ${input.outTrackId} shows no button ${String(input.button)} (it shows: ${buttons.map((b) => b.id).join(', ') || 'none'})`);
      const ack = await gateway.callback(TOPIC_CARD, {
        extension: '{}',
        corpId,
        userId: input.userId,
        userIdType: 1,
        content: JSON.stringify({ cardPrivateData: { actionIds: [button.id], params: button.params } }),
        type: 'actionCallback',
        outTrackId: input.outTrackId,
        spaceType: 'IM',
        spaceId: card.conversationId,
      });
      const response = typeof ack.data === 'object' && ack.data !== null ? (ack.data as Body)['response'] : undefined;
      if (ack.acked) cardStore.applyCallbackResponse(input.outTrackId, response);
      return response === undefined ? { acked: ack.acked } : { acked: ack.acked, response };
    },
    async ping() {
      return (await gateway.ping()).map((ack) => ({ acked: ack.acked }));
    },
    rendered: (outTrackId) => cardStore.rendered(outTrackId),
    throttle(path, times) {
      forcedThrottles.set(path, times);
    },
    sendDisconnect: () => gateway.sendDisconnect(),
    silence: () => gateway.silence(),
    pingsReceived: () => gateway.pingsReceived(),
    cards: () => cardStore.list().map(({ outTrackId, conversationId, cardParamMap, mentions, updates }) => ({ outTrackId, conversationId, cardParamMap, mentions, updates })),
    messages: () => sent.map((m) => ({ ...m })),
    calls: () => callLog.map((c) => ({ ...c })),
    dropConnections: () => gateway.dropConnections(),
    connectionCount: () => gateway.connectionCount(),
    waitForConnection: (timeoutMs = 10_000) => gateway.waitForConnection(timeoutMs),
    async close() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** connections/open needs at least one {type, topic} with type EVENT, CALLBACK or SYSTEM. */
function subscriptions(body: Body): Subscription[] {
  const list = body['subscriptions'];
  if (list === undefined) throw new OpenApiError(400, 'Missingsubscriptions', 'subscriptions is mandatory for this action.');
  if (!Array.isArray(list) || list.length === 0) throw invalid('subscriptions', 'must be a non-empty array');
  return list.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null) throw invalid(`subscriptions[${i}]`, 'must be an object');
    const type = requireString(item as Body, 'type', `subscriptions[${i}].type`);
    const topic = requireString(item as Body, 'topic', `subscriptions[${i}].topic`);
    if (!['EVENT', 'CALLBACK', 'SYSTEM'].includes(type)) throw invalid(`subscriptions[${i}].type`, 'must be EVENT, CALLBACK or SYSTEM');
    return { type, topic };
  });
}

