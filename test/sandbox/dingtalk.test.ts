import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DWClient, type DWClientDownStream } from 'dingtalk-stream';
import { MARKDOWN_BUTTON_TEMPLATE_ID } from '../../src/sandbox/dingtalk/cards.ts';
import { startDingTalkEmulator, TOPIC_CARD, TOPIC_ROBOT, type DingTalkEmulator } from '../../src/sandbox/dingtalk/server.ts';

const app = { clientId: 'dingsandboxapp', clientSecret: 'sandbox-client-secret', robotCode: 'dingsandboxapp', cardTemplateId: MARKDOWN_BUTTON_TEMPLATE_ID };
const approveButton = { text: 'Approve', color: 'blue', id: 'approve', request: true, params: { decision: 'yes' } };
const withButtons = (markdown: string, buttons: unknown[]) => ({ title: 'Approve scale-up?', markdown, sys_full_json_obj: JSON.stringify({ msgButtons: buttons }) });

/**
 * The real client with one override: DWClient POSTs to the hard-coded GATEWAY_URL constant, so the
 * sandbox replaces getEndpoint() with the same request sent to the emulator's gatewayUrl.
 */
class SandboxDWClient extends DWClient {
  readonly gatewayUrl: string;
  constructor(opts: { clientId: string; clientSecret: string; autoReconnect?: boolean }, gatewayUrl: string) {
    super(opts);
    this.gatewayUrl = gatewayUrl;
  }
  override async getEndpoint(): Promise<this> {
    const res = await fetch(this.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ clientId: this.config.clientId, clientSecret: this.config.clientSecret, ua: this.config.ua, subscriptions: this.config.subscriptions }),
    });
    const data = (await res.json()) as { endpoint?: string; ticket?: string; code?: string };
    if (!res.ok || !data.endpoint || !data.ticket) throw new Error(`gateway refused the connection: ${res.status} ${data.code ?? ''}`);
    Object.assign(this, { dw_url: `${data.endpoint}?ticket=${data.ticket}` });
    return this;
  }
}

let dt: DingTalkEmulator;
const clients: DWClient[] = [];
beforeAll(async () => {
  dt = await startDingTalkEmulator(app);
});
afterAll(() => dt.close());
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

function connectedClient(onMessage: (msg: DWClientDownStream, client: DWClient) => void, onCard?: (msg: DWClientDownStream, client: DWClient) => void): SandboxDWClient {
  const client = new SandboxDWClient({ clientId: app.clientId, clientSecret: app.clientSecret }, dt.gatewayUrl);
  client.registerCallbackListener(TOPIC_ROBOT, (msg) => onMessage(msg, client));
  if (onCard) client.registerCallbackListener(TOPIC_CARD, (msg) => onCard(msg, client));
  clients.push(client);
  return client;
}

async function api(method: string, path: string, body: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return call(dt.apiUrl, method, path, body, token);
}

async function call(base: string, method: string, path: string, body: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['x-acs-dingtalk-access-token'] = token;
  const res = await fetch(`${base}${path}`, { method, headers, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function token(): Promise<string> {
  const { status, json } = await api('POST', '/v1.0/oauth2/accessToken', { appKey: app.clientId, appSecret: app.clientSecret });
  expect(status).toBe(200);
  expect(json['expireIn']).toBe(7200);
  return json['accessToken'] as string;
}

const groupCard = (outTrackId: string, cid: string, params: Record<string, unknown> = { title: 'Approve scale-up?', markdown: 'pending' }) => ({
  cardTemplateId: app.cardTemplateId,
  outTrackId,
  callbackType: 'STREAM',
  cardData: { cardParamMap: params },
  openSpaceId: `dtv1.card//IM_GROUP.${cid}`,
  imGroupOpenSpaceModel: { supportForward: false },
  imGroupOpenDeliverModel: { robotCode: app.robotCode },
});

describe('Stream gateway with the real DWClient', () => {
  it('delivers a group @message as a robot callback, the client acks it, and answers pings', async () => {
    const received: Record<string, unknown>[] = [];
    const client = connectedClient((msg, c) => {
      received.push(JSON.parse(msg.data) as Record<string, unknown>);
      c.socketCallBackResponse(msg.headers.messageId, { ok: true });
    });
    await client.connect();
    await dt.waitForConnection();
    expect(client.connected).toBe(true);

    const result = await dt.sendGroupMessage({ conversationId: 'cidGroupA==', userId: 'staff001', nick: 'Alice', text: 'scale web to 3' });
    expect(result).toEqual({ acked: true });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      conversationId: 'cidGroupA==',
      conversationType: '2',
      senderStaffId: 'staff001',
      senderNick: 'Alice',
      robotCode: app.robotCode,
      msgtype: 'text',
      isInAtList: true,
      text: { content: ' scale web to 3' },
    });
    expect(received[0]?.['sessionWebhook']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/robot\/sendBySession\?session=/);

    expect(await dt.ping()).toEqual([{ acked: true }]);
    expect(dt.calls()).toContainEqual({ method: 'POST', path: '/v1.0/gateway/connections/open', status: 200 });
  });

  it('reports a message the client did not ack', async () => {
    const slow = await startDingTalkEmulator({ ...app, ackTimeoutMs: 200 });
    try {
      const client = new SandboxDWClient({ clientId: app.clientId, clientSecret: app.clientSecret }, slow.gatewayUrl);
      client.registerCallbackListener(TOPIC_ROBOT, () => undefined);
      clients.push(client);
      await client.connect();
      expect(await slow.sendGroupMessage({ conversationId: 'cidX', userId: 'u1', text: 'hi' })).toEqual({ acked: false });
    } finally {
      await slow.close();
    }
  });

  it('refuses a wrong client secret at connections/open', async () => {
    const client = new SandboxDWClient({ clientId: app.clientId, clientSecret: 'wrong', autoReconnect: false }, dt.gatewayUrl);
    clients.push(client);
    await expect(client.getEndpoint()).rejects.toThrow('401 InvalidAuthentication');
    await client.connect();
    expect(client.connected).toBe(false);
    const res = await fetch(dt.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: app.clientId, clientSecret: 'wrong', subscriptions: [{ type: 'EVENT', topic: '*' }] }),
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'InvalidAuthentication' });
    expect(JSON.stringify(body)).not.toContain(app.clientSecret);
  });

  it('requires a fresh ticket for the WebSocket', async () => {
    const res = await fetch(dt.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: app.clientId, clientSecret: app.clientSecret, subscriptions: [{ type: 'EVENT', topic: '*' }] }),
    });
    const { endpoint, ticket } = (await res.json()) as { endpoint: string; ticket: string };
    const { WebSocket } = await import('ws');
    const open = (url: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url);
        ws.on('open', () => {
          ws.close();
          resolve('open');
        });
        ws.on('unexpected-response', (_req, r) => resolve(`refused ${r.statusCode}`));
        ws.on('error', () => undefined);
      });
    expect(await open(endpoint)).toBe('refused 401');
    expect(await open(`${endpoint}?ticket=${ticket}`)).toBe('open');
    expect(await open(`${endpoint}?ticket=${ticket}`)).toBe('refused 401');
  });

  it('reconnects after the connections drop and receives the next message', async () => {
    const texts: string[] = [];
    const client = connectedClient((msg, c) => {
      texts.push((JSON.parse(msg.data) as { text: { content: string } }).text.content);
      c.socketCallBackResponse(msg.headers.messageId, {});
    });
    await client.connect();
    await dt.waitForConnection();
    dt.dropConnections();
    expect(dt.connectionCount()).toBe(0);
    await dt.waitForConnection();
    expect(await dt.sendGroupMessage({ conversationId: 'cidGroupA==', userId: 'staff002', text: 'status' })).toEqual({ acked: true });
    expect(texts).toEqual([' status']);
  });
});

describe('OpenAPI', () => {
  it('issues tokens only for the app credentials', async () => {
    await token();
    const bad = await api('POST', '/v1.0/oauth2/accessToken', { appKey: app.clientId, appSecret: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'invalidClientIdOrSecret' });
    const missing = await api('POST', '/v1.0/oauth2/accessToken', { appKey: app.clientId });
    expect(missing).toMatchObject({ status: 400, json: { code: 'MissingappSecret', message: 'appSecret is mandatory for this action.' } });
  });

  it('creates, delivers and updates a card, and refuses unknown cards and missing tokens', async () => {
    const t = await token();
    const created = await api('POST', '/v1.0/card/instances/createAndDeliver', groupCard('req-1', 'cidGroupA=='), t);
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      success: true,
      result: { outTrackId: 'req-1', deliverResults: [{ spaceType: 'IM_GROUP', spaceId: 'cidGroupA==', success: true }] },
    });

    const updated = await api('PUT', '/v1.0/card/instances', { outTrackId: 'req-1', cardData: { cardParamMap: { markdown: 'approved' } }, cardUpdateOptions: { updateCardDataByKey: true } }, t);
    expect(updated).toMatchObject({ status: 200, json: { success: true } });
    expect(dt.cards()).toContainEqual({ outTrackId: 'req-1', conversationId: 'cidGroupA==', cardParamMap: { title: 'Approve scale-up?', markdown: 'approved' }, mentions: {}, updates: 1 });

    const unknown = await api('PUT', '/v1.0/card/instances', { outTrackId: 'nope', cardData: { cardParamMap: {} } }, t);
    expect(unknown.status).toBe(400);
    expect(unknown.json['code']).toBe('param.cardNotExist');

    const noToken = await api('POST', '/v1.0/card/instances/createAndDeliver', groupCard('req-2', 'cidGroupA=='));
    expect(noToken).toMatchObject({ status: 401, json: { code: 'InvalidAuthentication' } });
    const badToken = await api('PUT', '/v1.0/card/instances', { outTrackId: 'req-1', cardData: { cardParamMap: {} } }, 'forged');
    expect(badToken.status).toBe(401);
  });

  it('validates card requests strictly', async () => {
    const t = await token();
    const wrongTemplate = await api('POST', '/v1.0/card/instances/createAndDeliver', { ...groupCard('req-3', 'cidA'), cardTemplateId: 'other' }, t);
    expect(wrongTemplate.status).toBe(400);
    const wrongRobot = await api('POST', '/v1.0/card/instances/createAndDeliver', { ...groupCard('req-3', 'cidA'), imGroupOpenDeliverModel: { robotCode: 'other' } }, t);
    expect(wrongRobot.status).toBe(400);
    const nonString = await api('POST', '/v1.0/card/instances/createAndDeliver', groupCard('req-3', 'cidA', { count: 3 }), t);
    expect(nonString).toMatchObject({ status: 400, json: { code: 'param.invalid' } });
    const { outTrackId: _omitted, ...withoutId } = groupCard('req-3', 'cidA');
    const missing = await api('POST', '/v1.0/card/instances/createAndDeliver', withoutId, t);
    expect(missing).toMatchObject({ status: 400, json: { code: 'MissingoutTrackId' } });
    const badSpace = await api('POST', '/v1.0/card/instances/createAndDeliver', { ...groupCard('req-3', 'cidA'), openSpaceId: 'cidA' }, t);
    expect(badSpace.status).toBe(400);
    expect(dt.cards().map((c) => c.outTrackId)).not.toContain('req-3');
  });

  it('checks the MarkdownButton template: its variables only, markdown up to 5,000 characters, buttons that call back', async () => {
    const t = await token();
    const post = (params: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      api('POST', '/v1.0/card/instances/createAndDeliver', { ...groupCard(`req-${Math.random()}`, 'cidT'), cardData: { cardParamMap: params }, ...extra }, t);
    // Variables a hand-built template would have had are not the public template's.
    expect(await post({ title: 't', markdown: 'm', buttons: '[]', status: '' })).toMatchObject({ status: 400, json: { code: 'param.invalid' } });
    expect(await post({ title: 't' })).toMatchObject({ status: 400, json: { code: 'param.invalid' } });
    expect(await post({ markdown: 'x'.repeat(5_001) })).toMatchObject({ status: 400, json: { code: 'param.invalid' } });
    expect((await post({ markdown: 'x'.repeat(5_000) })).status).toBe(200);
    expect(await post(withButtons('m', [{ text: 'Approve', id: 'approve', params: {} }]))).toMatchObject({ status: 400, json: { code: 'param.invalid' } });
    expect(await post(withButtons('m', [{ ...approveButton, params: { n: 1 } }]))).toMatchObject({ status: 400, json: { code: 'param.invalid' } });
    expect(await post(withButtons('m', [approveButton]), { imGroupOpenDeliverModel: { robotCode: app.robotCode, atUserIds: ['boss'] } })).toMatchObject({ status: 400 });
    const ok = await post(withButtons('m', [approveButton]), { outTrackId: 'req-ok', imGroupOpenDeliverModel: { robotCode: app.robotCode, atUserIds: { boss42: 'Boss' } } });
    expect(ok.status).toBe(200);
    expect(dt.rendered('req-ok')).toEqual({ title: 'Approve scale-up?', markdown: 'm', buttons: [{ id: 'approve', text: 'Approve', params: { decision: 'yes' } }], mentions: { boss42: 'Boss' } });
  });

  it('throttles an app past 20 calls a second to one API with 403 QpsLimitForAppkeyAndApi', async () => {
    const own = await startDingTalkEmulator(app);
    try {
      const { json: tokenBody } = await call(own.apiUrl, 'POST', '/v1.0/oauth2/accessToken', { appKey: app.clientId, appSecret: app.clientSecret });
      const t = tokenBody['accessToken'] as string;
      const answers = await Promise.all(
        Array.from({ length: 25 }, (_, i) => call(own.apiUrl, 'POST', '/v1.0/card/instances/createAndDeliver', groupCard(`req-qps-${i}`, 'cidQ'), t)),
      );
      const throttled = answers.filter((a) => a.status === 403);
      expect(throttled.length).toBeGreaterThanOrEqual(5);
      expect(throttled[0]!.json['code']).toBe('Forbidden.AccessDenied.QpsLimitForAppkeyAndApi');
      own.throttle('/v1.0/robot/oToMessages/batchSend', 1);
      const body = { robotCode: app.robotCode, userIds: ['u1'], msgKey: 'sampleText', msgParam: JSON.stringify({ content: 'hi' }) };
      expect((await call(own.apiUrl, 'POST', '/v1.0/robot/oToMessages/batchSend', body, t)).status).toBe(403);
      expect((await call(own.apiUrl, 'POST', '/v1.0/robot/oToMessages/batchSend', body, t)).status).toBe(200);
    } finally {
      await own.close();
    }
  });

  it('names a person through the user details API, with the token and the contact permission', async () => {
    const named = await startDingTalkEmulator({ ...app, users: [{ staffId: 'boss42', name: '王经理' }] });
    try {
      const { json: tokenBody } = await call(named.apiUrl, 'POST', '/v1.0/oauth2/accessToken', { appKey: app.clientId, appSecret: app.clientSecret });
      const token = tokenBody['accessToken'] as string;
      const get = (userid: string, t = token) => call(named.apiUrl, 'POST', `/topapi/v2/user/get?access_token=${t}`, { userid });
      expect((await get('boss42')).json).toMatchObject({ errcode: 0, result: { userid: 'boss42', name: '王经理' } });
      expect((await get('nobody')).json).toMatchObject({ errcode: 60121 });
      expect((await get('boss42', 'forged')).json).toMatchObject({ errcode: 40014 });
    } finally {
      await named.close();
    }
  });

  it('delivers a card click through the stream and applies the card data the client answers with', async () => {
    const t = await token();
    await api('POST', '/v1.0/card/instances/createAndDeliver', groupCard('req-click', 'cidGroupB', withButtons('pending', [approveButton])), t);
    const clicks: Record<string, unknown>[] = [];
    const client = connectedClient(
      () => undefined,
      (msg, c) => {
        clicks.push(JSON.parse(msg.data) as Record<string, unknown>);
        c.socketCallBackResponse(msg.headers.messageId, { cardData: { cardParamMap: { markdown: 'approved by staff003' } }, cardUpdateOptions: { updateCardDataByKey: true } });
      },
    );
    await client.connect();
    await expect(dt.clickCard({ outTrackId: 'req-click', userId: 'staff003', button: 'deny' })).rejects.toThrow('shows no button deny');
    const ack = await dt.clickCard({ outTrackId: 'req-click', userId: 'staff003', button: 'approve' });
    expect(ack.acked).toBe(true);
    expect(ack.response).toMatchObject({ cardData: { cardParamMap: { markdown: 'approved by staff003' } } });
    expect(clicks[0]).toMatchObject({ outTrackId: 'req-click', userId: 'staff003', type: 'actionCallback' });
    expect(JSON.parse(clicks[0]?.['content'] as string)).toEqual({ cardPrivateData: { actionIds: ['approve'], params: { decision: 'yes' } } });
    expect(dt.cards().find((c) => c.outTrackId === 'req-click')?.cardParamMap['markdown']).toBe('approved by staff003');
    await expect(dt.clickCard({ outTrackId: 'missing', userId: 'u', button: 0 })).rejects.toThrow('does not exist');
  });

  it('sends robot group and one-to-one messages', async () => {
    const t = await token();
    const group = await api('POST', '/v1.0/robot/groupMessages/send', { robotCode: app.robotCode, openConversationId: 'cidGroupA==', msgKey: 'sampleMarkdown', msgParam: JSON.stringify({ title: 'Done', text: '**ok**' }) }, t);
    expect(group.status).toBe(200);
    expect(group.json['processQueryKey']).toEqual(expect.any(String));
    const oto = await api('POST', '/v1.0/robot/oToMessages/batchSend', { robotCode: app.robotCode, userIds: ['staff001'], msgKey: 'sampleText', msgParam: JSON.stringify({ content: 'private' }) }, t);
    expect(oto.status).toBe(200);
    expect(dt.messages()).toEqual(
      expect.arrayContaining([
        { conversationId: 'cidGroupA==', msgKey: 'sampleMarkdown', msgParam: { title: 'Done', text: '**ok**' }, via: 'group' },
        { userIds: ['staff001'], msgKey: 'sampleText', msgParam: { content: 'private' }, via: 'oto' },
      ]),
    );
    const badParam = await api('POST', '/v1.0/robot/groupMessages/send', { robotCode: app.robotCode, openConversationId: 'cidA', msgKey: 'sampleMarkdown', msgParam: JSON.stringify({ title: 'x' }) }, t);
    expect(badParam).toMatchObject({ status: 400, json: { code: 'MissingmsgParam.text' } });
    const wrongRobot = await api('POST', '/v1.0/robot/groupMessages/send', { robotCode: 'other', openConversationId: 'cidA', msgKey: 'sampleText', msgParam: JSON.stringify({ content: 'x' }) }, t);
    expect(wrongRobot.status).toBe(400);
    const noToken = await api('POST', '/v1.0/robot/oToMessages/batchSend', { robotCode: app.robotCode, userIds: ['u'], msgKey: 'sampleText', msgParam: '{"content":"x"}' });
    expect(noToken.status).toBe(401);
  });

  it('records replies through the session webhook of a received message', async () => {
    let webhook = '';
    const client = connectedClient((msg, c) => {
      webhook = (JSON.parse(msg.data) as { sessionWebhook: string }).sessionWebhook;
      c.socketCallBackResponse(msg.headers.messageId, {});
    });
    await client.connect();
    await dt.sendGroupMessage({ conversationId: 'cidGroupC', userId: 'staff004', text: 'help' });
    const post = async (url: string, body: unknown) => (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as Record<string, unknown>;
    expect(await post(webhook, { msgtype: 'markdown', markdown: { title: 'Help', text: '# commands' } })).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(dt.messages()).toContainEqual({ conversationId: 'cidGroupC', msgKey: 'markdown', msgParam: { title: 'Help', text: '# commands' }, via: 'webhook' });
    expect((await post(webhook, { msgtype: 'text', text: {} }))['errcode']).not.toBe(0);
    expect((await post(`${dt.apiUrl}/robot/sendBySession?session=forged`, { msgtype: 'text', text: { content: 'x' } }))['errcode']).not.toBe(0);
    expect(dt.calls().every((c) => !c.path.includes('session='))).toBe(true);
  });
});
