import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buttonsOf, cardParams, renderCards, toMarkdown, type CardSet } from '../../src/chat/dingtalk/cards.ts';
import { createDingTalkAdapter, type DingTalkAdapter } from '../../src/chat/dingtalk/index.ts';
import type { ChatEvent, Conversation, Reply, TellActor } from '../../src/chat/model.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startDingTalkEmulator, type DingTalkEmulator } from '../../src/sandbox/dingtalk/server.ts';

const APP = {
  clientId: 'dingsandboxclient',
  clientSecret: 'sandbox-client-secret-0123456789',
  robotCode: 'dingsandboxrobot',
};
const GROUP = 'cidSandboxOpsGroup==';
const CONVERSATION: Conversation = { platform: 'dingtalk', channelId: GROUP };
const SESSION_ID = '5b1f0c8e-2d7a-4c55-9a5e-0c1d2e3f4a5b';
const FAST_RETRY = { attempts: 3, minDelayMs: 5, maxDelayMs: 20, throttleDelayMs: 20 };

const question: Reply = {
  kind: 'question',
  sessionId: SESSION_ID,
  prompt: {
    kind: 'question',
    questionId: 'region',
    text: 'Which region does the cluster run in?',
    choices: [
      { label: 'cn-hangzhou', value: 'cn-hangzhou' },
      { label: 'cn-beijing', value: 'cn-beijing' },
    ],
    freeText: false,
  },
};

const approval: Extract<Reply, { kind: 'approval' }> = {
  kind: 'approval',
  sessionId: SESSION_ID,
  title: 'Create RAM user',
  prompt: {
    kind: 'approval',
    approvalId: 'ap-1',
    request: { step: 'createRamUser', params: { userName: 'ack-backup-c-sandbox-dedicated' } },
    preview: { step: 'createRamUser', upToDate: false, changes: ['create RAM user ack-backup-c-sandbox-dedicated'] },
  },
  risk: 'medium',
  apis: ['ram:CreateUser'],
  expiresAt: '2026-11-24T14:15:00.000Z',
  requester: 'dingtalk:manager123',
};

interface Harness {
  emulator: DingTalkEmulator;
  adapter: DingTalkAdapter;
  events: ChatEvent[];
  nextEvent(): Promise<ChatEvent>;
  /** What the handler does with each event (default: nothing). */
  behave(fn: (event: ChatEvent, tell: TellActor) => Promise<void>): void;
}

async function startHarness(
  options: { secret?: string; apiUrl?: (emulator: DingTalkEmulator) => Promise<string>; approvers?: string[]; keepAliveMs?: number; retry?: typeof FAST_RETRY } = {},
): Promise<Harness> {
  const emulator = await startDingTalkEmulator({ ...APP, users: [{ staffId: 'manager123', name: '王经理' }], disconnectGraceMs: 60_000 });
  const apiUrl = options.apiUrl ? await options.apiUrl(emulator) : emulator.apiUrl;
  const events: ChatEvent[] = [];
  const waiting: ((event: ChatEvent) => void)[] = [];
  let behaviour: (event: ChatEvent, tell: TellActor) => Promise<void> = async () => undefined;
  const adapter = createDingTalkAdapter({
    ...APP,
    clientSecret: options.secret ?? APP.clientSecret,
    apiUrl,
    gatewayUrl: emulator.gatewayUrl,
    logger: createLogger('silent'),
    retry: options.retry ?? FAST_RETRY,
    ...(options.approvers ? { approvers: options.approvers } : {}),
    ...(options.keepAliveMs ? { keepAliveMs: options.keepAliveMs } : {}),
    handler: async (event, tell) => {
      events.push(event);
      waiting.shift()?.(event);
      await behaviour(event, tell);
    },
  });
  return {
    emulator,
    adapter,
    events,
    nextEvent: () => {
      const seen = events.length;
      return new Promise((resolve) => {
        if (events.length > seen) resolve(events[seen]!);
        else waiting.push(resolve);
      });
    },
    behave: (fn) => {
      behaviour = fn;
    },
  };
}

const cardOf = (emulator: DingTalkEmulator, outTrackId: string) => emulator.rendered(outTrackId);
const buttons = (emulator: DingTalkEmulator, outTrackId: string) => emulator.rendered(outTrackId).buttons;
const sets = (reply: Reply, place = { conversationId: GROUP, threadId: 'root' }): CardSet =>
  renderCards(reply, place, { nameOf: (u) => u.replace(/^dingtalk:/, ''), timeZone: 'Asia/Shanghai' });

describe('DingTalk adapter against the emulator', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await h.adapter.start();
  });
  afterEach(async () => {
    await h.adapter.stop();
    await h.emulator.close();
  });

  it('acknowledges a group command only once the handler has accepted it, and the handler gets the parsed command', async () => {
    let release!: () => void;
    const accepting = new Promise<void>((resolve) => (release = resolve));
    h.behave(() => accepting);
    const next = h.nextEvent();

    let acked = false;
    const ack = h.emulator
      .sendGroupMessage({ conversationId: GROUP, userId: 'manager123', nick: 'Mei', text: '@bot backup-setup c-sandbox-managed' })
      .finally(() => (acked = true));
    const event = await next;
    // DingTalk redelivers what was never acknowledged; an ack before the event is stored could lose it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(acked).toBe(false);
    release();
    expect(await ack).toEqual({ acked: true });
    expect(event).toEqual({
      kind: 'command',
      eventId: expect.stringMatching(/^dingtalk:msg:/) as string,
      command: { verb: 'setup', clusterIds: ['c-sandbox-managed'] },
      text: 'c-sandbox-managed',
      actor: { id: 'dingtalk:manager123', name: 'Mei' },
      conversation: { platform: 'dingtalk', channelId: GROUP },
    });
    expect(h.adapter.connected()).toBe(true);
  });

  it('accepts the slash form and other verbs', async () => {
    const next = h.nextEvent();
    await h.emulator.sendGroupMessage({ conversationId: GROUP, userId: 'u2', text: '/backup-setup status c-sandbox-edge' });
    expect(await next).toMatchObject({ kind: 'command', command: { verb: 'status', clusterId: 'c-sandbox-edge' }, actor: { id: 'dingtalk:u2', name: 'u2' } });
  });

  it('answers words that are not a command with the reason and the help text, without calling the handler', async () => {
    const ack = await h.emulator.sendGroupMessage({ conversationId: GROUP, userId: 'manager123', text: 'backup-setup frobnicate' });
    expect(ack.acked).toBe(true);
    await vi.waitFor(() => expect(h.emulator.cards()).toHaveLength(1));
    const [card] = h.emulator.cards();
    expect(card!.conversationId).toBe(GROUP);
    const shown = h.emulator.rendered(card!.outTrackId);
    expect(shown.title).toBe('backup-setup help');
    expect(shown.markdown).toContain('Unknown word `frobnicate`');
    expect(shown.markdown).toContain('`backup-setup` turns on the ACK backup center');
    expect(shown.markdown).toContain('@bot backup-setup status');
    expect(shown.buttons).toEqual([]);
    expect(h.events).toEqual([]);
  });

  it('posts a question as a card with one button per choice, and a click becomes an answer in the thread', async () => {
    const posted = await h.adapter.port.post(CONVERSATION, question);
    expect(posted).not.toBeNull();
    expect(posted!.conversation).toEqual({ ...CONVERSATION, threadId: posted!.messageId });
    expect(h.emulator.cards().find((c) => c.outTrackId === posted!.messageId)!.conversationId).toBe(GROUP);
    expect(cardOf(h.emulator, posted!.messageId).markdown).toContain('Which region does the cluster run in?');
    const choices = buttons(h.emulator, posted!.messageId);
    expect(choices.map((b) => b.text)).toEqual(['cn-hangzhou (suggested)', 'cn-beijing']);

    const next = h.nextEvent();
    const ack = await h.emulator.clickCard({ outTrackId: posted!.messageId, userId: 'manager123', button: 1 });
    expect(ack.acked).toBe(true);
    expect(await next).toEqual({
      kind: 'answer',
      eventId: expect.stringMatching(/^dingtalk:callback:/) as string,
      sessionId: SESSION_ID,
      questionId: 'region',
      value: 'cn-beijing',
      messageId: posted!.messageId,
      // Not seen writing yet: DingTalk's user details API names them.
      actor: { id: 'dingtalk:manager123', name: '王经理' },
      conversation: { platform: 'dingtalk', channelId: GROUP, threadId: posted!.messageId },
    });
  });

  it('posts an approval with everything to check and Approve/Deny; a click is a decision; the update shows who and removes the buttons', async () => {
    const first = await h.adapter.port.post(CONVERSATION, { kind: 'text', text: 'Setup of `c-sandbox-dedicated` started.' });
    const thread = first!.conversation;
    const posted = await h.adapter.port.post(thread, approval);
    expect(posted!.conversation.threadId).toBe(first!.messageId);

    const card = cardOf(h.emulator, posted!.messageId);
    expect(card.title).toBe('Approval needed: Create RAM user');
    // Times in the group's local time (Asia/Shanghai), people by name.
    for (const fact of ['create RAM user ack-backup-c-sandbox-dedicated', '**userName**: `ack-backup-c-sandbox-dedicated`', '**Risk**: medium', 'ram:CreateUser', '**Expires**: 2026-11-24 22:15 (GMT+8)', '**Requested by**: 王经理']) {
      expect(card.markdown).toContain(fact);
    }
    const [approve, deny] = buttons(h.emulator, posted!.messageId);
    expect(approve).toMatchObject({ id: 'approve', text: 'Approve', params: { kind: 'decision', sessionId: SESSION_ID, approvalId: 'ap-1', decision: 'approve' } });
    expect(deny).toMatchObject({ id: 'deny', text: 'Deny', params: { kind: 'decision', decision: 'deny' } });

    // The name the approver wrote with is remembered for the click.
    const command = h.nextEvent();
    await h.emulator.sendGroupMessage({ conversationId: GROUP, userId: 'boss42', nick: 'Boss', text: 'backup-setup help' });
    await command;

    const next = h.nextEvent();
    await h.emulator.clickCard({ outTrackId: posted!.messageId, userId: 'boss42', button: 'approve' });
    expect(await next).toEqual({
      kind: 'decision',
      eventId: expect.stringMatching(/^dingtalk:callback:/) as string,
      sessionId: SESSION_ID,
      approvalId: 'ap-1',
      decision: 'approve',
      actor: { id: 'dingtalk:boss42', name: 'Boss' },
      conversation: { platform: 'dingtalk', channelId: GROUP, threadId: first!.messageId },
      messageId: posted!.messageId,
    });

    await h.adapter.port.update(posted!, {
      kind: 'decided',
      approvalId: 'ap-1',
      title: 'Create RAM user',
      decision: 'approved',
      by: 'dingtalk:boss42',
      at: '2026-11-24T14:05:00.000Z',
    });
    expect(h.emulator.cards().find((c) => c.outTrackId === posted!.messageId)!.updates).toBe(1);
    const updated = cardOf(h.emulator, posted!.messageId);
    expect(updated.title).toBe('Create RAM user');
    expect(updated.markdown).toContain('create RAM user ack-backup-c-sandbox-dedicated');
    expect(updated.markdown).toContain('✅ Approved by Boss at 2026-11-24 22:05 (GMT+8)');
    expect(updated.buttons).toEqual([]);
  });

  it('an expired approval card offers Request again, whose click is a new setup of the cluster in the group; the reminder names the approvers', async () => {
    const root = (await h.adapter.port.post(CONVERSATION, { kind: 'text', text: 'Setup' }))!;
    const expired = { kind: 'decided' as const, approvalId: 'ap-3', title: 'Create RAM user', decision: 'expired' as const, by: '', at: '2026-11-24T14:20:00.000Z', again: { clusterId: 'c-sandbox-dedicated' } };
    const posted = (await h.adapter.port.post(root.conversation, expired))!;
    expect(buttons(h.emulator, posted.messageId).map((b) => [b.id, b.text])).toEqual([['again', 'Request again']]);
    const next = h.nextEvent();
    expect((await h.emulator.clickCard({ outTrackId: posted.messageId, userId: 'manager123', button: 'again' })).acked).toBe(true);
    expect(await next).toMatchObject({
      kind: 'command',
      command: { verb: 'setup', clusterIds: ['c-sandbox-dedicated'] },
      conversation: { platform: 'dingtalk', channelId: GROUP },
    });
    const reminder = sets({ kind: 'reminder', title: 'Create RAM user', expiresAt: '2026-11-24T14:20:00.000Z', approvers: ['dingtalk:manager123'] }).card;
    expect(reminder.markdown).toBe(
      '⏰ manager123: the approval of Create RAM user expires at 2026-11-24 22:20 (GMT+8). Approve or deny it above; once it has expired, it can be requested again.',
    );
  });

  it('tells one person privately, from the port and from the handler', async () => {
    await h.adapter.port.tell(CONVERSATION, 'dingtalk:manager123', 'Only approvers can approve.');
    h.behave(async (_event, tell) => tell('You asked for help.'));
    await h.emulator.sendGroupMessage({ conversationId: GROUP, userId: 'u7', text: 'backup-setup help' });
    await vi.waitFor(() => expect(h.emulator.messages()).toHaveLength(2));
    expect(h.emulator.messages()).toEqual([
      { userIds: ['manager123'], msgKey: 'sampleText', msgParam: { content: 'Only approvers can approve.' }, via: 'oto' },
      { userIds: ['u7'], msgKey: 'sampleText', msgParam: { content: 'You asked for help.' }, via: 'oto' },
    ]);
  });

  it('fetches the access token once and sends it with every call', async () => {
    await h.adapter.port.post(CONVERSATION, { kind: 'progress', text: 'Installing migrate-controller' });
    await h.adapter.port.post(CONVERSATION, { kind: 'done', ok: true, text: '✅ Backup center setup complete' });
    await h.adapter.port.tell(CONVERSATION, 'dingtalk:manager123', 'hi');
    const calls = h.emulator.calls().filter((c) => c.path !== '/connect');
    expect(calls.filter((c) => c.path === '/v1.0/oauth2/accessToken')).toHaveLength(1);
    expect(calls.every((c) => c.status === 200)).toBe(true);
  });

  it('never throws when DingTalk refuses or is gone: post returns null, update and tell log', async () => {
    const gone = { conversation: { ...CONVERSATION, threadId: 'nope' }, messageId: 'no-such-card' };
    await expect(h.adapter.port.update(gone, { kind: 'text', text: 'x' })).resolves.toBeUndefined();
    await expect(h.adapter.port.tell(CONVERSATION, 'slack:U0ALICE', 'not ours')).resolves.toBeUndefined();
    await h.emulator.close();
    await expect(h.adapter.port.post(CONVERSATION, { kind: 'text', text: 'x' })).resolves.toBeNull();
    await expect(h.adapter.port.tell(CONVERSATION, 'dingtalk:manager123', 'x')).resolves.toBeUndefined();
  });

  it('reconnects after the connection drops, and the next message arrives', async () => {
    expect(h.emulator.connectionCount()).toBe(1);
    h.emulator.dropConnections();
    await h.emulator.waitForConnection();
    const next = h.nextEvent();
    const ack = await h.emulator.sendGroupMessage({ conversationId: GROUP, userId: 'manager123', text: 'backup-setup verify c-sandbox-dedicated' });
    expect(ack.acked).toBe(true);
    expect(await next).toMatchObject({ kind: 'command', command: { verb: 'verify', clusterId: 'c-sandbox-dedicated' } });
    expect(h.adapter.connected()).toBe(true);
  });
});

describe('DingTalk adapter start-up', () => {
  it('rejects bad credentials with one line that names the settings and not the secret, before opening the stream', async () => {
    const secret = 'wrong-secret-that-must-not-leak';
    const h = await startHarness({ secret });
    try {
      const error = await h.adapter.start().then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toBe('DingTalk refused DINGTALK_CLIENT_ID/DINGTALK_CLIENT_SECRET: invalidClientIdOrSecret');
      expect(error?.message).not.toContain(secret);
      expect(h.emulator.connectionCount()).toBe(0);
      expect(h.emulator.calls().map((c) => c.path)).toEqual(['/v1.0/oauth2/accessToken']);
      expect(h.adapter.connected()).toBe(false);
    } finally {
      await h.adapter.stop();
      await h.emulator.close();
    }
  });

  it('stops without reconnecting', async () => {
    const h = await startHarness();
    await h.adapter.start();
    expect(h.emulator.connectionCount()).toBe(1);
    await h.adapter.stop();
    expect(h.adapter.connected()).toBe(false);
    await vi.waitFor(() => expect(h.emulator.connectionCount()).toBe(0));
    await h.emulator.close();
  });
});

describe('DingTalk cards', () => {
  const place = { conversationId: GROUP, threadId: 'root' };

  it('renders results, errors with their correlation id, plans and done as the template variables without buttons', () => {
    const result = cardParams(sets({ kind: 'result', outcome: { step: 'createRamUser', outcome: 'created', detail: 'RAM user ack-backup created.' } }, place).card);
    expect(result.markdown).toBe('✅ **createRamUser**: created. RAM user ack-backup created.');
    const error = cardParams(sets({ kind: 'error', text: 'CS refused the add-on', correlationId: 'corr-123' }, place).card);
    expect(error.markdown).toBe('❌ CS refused the add-on\n\nCorrelation id: `corr-123`');
    const plan = cardParams(sets({ kind: 'plan', title: 'Plan for c-sandbox-dedicated', lines: ['create RAM user', 'attach policy'] }, place).card);
    expect(plan).toMatchObject({ title: 'Plan for c-sandbox-dedicated', markdown: '**Plan for c-sandbox-dedicated**\n- create RAM user\n- attach policy' });
    const done = cardParams(sets({ kind: 'done', ok: true, text: '✅ Backup center setup complete for `c-1`' }, place).card);
    expect(done.markdown).toBe('✅ Backup center setup complete for `c-1`');
    for (const card of [result, error, plan, done]) {
      expect(Object.keys(card).sort()).toEqual(['markdown', 'sys_full_json_obj', 'tips', 'title']);
      expect(buttonsOf(card)).toEqual([]);
    }
  });

  it("turns the bot's inline marks into DingTalk markdown: code spans keep wildcards, plain text is escaped", () => {
    const style = { nameOf: (id: string) => (id === 'dingtalk:manager123' ? '王经理' : id), timeZone: 'Asia/Shanghai' };
    expect(toMarkdown('grant on `acs:oss:*:*:cnfs-oss-*` by <@dingtalk:manager123> at <!time:2026-11-24T14:15:00.000Z>, A & *B*', style)).toBe(
      'grant on `acs:oss:*:*:cnfs-oss-*` by 王经理 at 2026-11-24 22:15 (GMT+8), A \\& \\*B\\*',
    );
    expect(toMarkdown('``a`b``', style)).toBe('``a`b``');
    // Bare links become links, without their closing punctuation.
    expect(toMarkdown('log on to the Cloud Backup console (https://hbr.console.aliyun.com/), then see https://help.aliyun.com/x.html.', style)).toBe(
      'log on to the Cloud Backup console ([https://hbr.console.aliyun.com/](https://hbr.console.aliyun.com/)), then see [https://help.aliyun.com/x.html](https://help.aliyun.com/x.html).',
    );
  });

  it('shows a policy document, fleet clusters, and every choice past the tenth on a further card', () => {
    const policy = sets(
      {
        ...approval,
        prompt: {
          ...approval.prompt,
          request: { step: 'ensurePolicy', params: { policyName: 'p', document: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['oss:GetObject'], Resource: '*' }] } } },
        },
      },
      place,
    ).card;
    expect(policy.markdown).toContain('**Policy document**\n```json\n{\n  "Version": "1"');
    const fleet = sets({ ...approval, covers: ['c-1', 'c-2'] }, place).card;
    expect(fleet.markdown).toContain('**Clusters** (2): `c-1`, `c-2`');
    expect(fleet.markdown).not.toContain('**userName**');
    const many = sets(
      {
        kind: 'question',
        sessionId: SESSION_ID,
        prompt: { kind: 'question', questionId: 'bucket', text: 'Which bucket? Pick one or type a name.', choices: Array.from({ length: 25 }, (_, i) => ({ label: `b-${i}`, value: `b-${i}` })), freeText: true },
      },
      place,
    );
    expect([many.card, ...many.after].map((c) => c.buttons.length)).toEqual([10, 10, 5]);
    expect([many.card, ...many.after].flatMap((c) => c.buttons.map((b) => b.params.kind === 'answer' && b.params.value))).toEqual(
      Array.from({ length: 25 }, (_, i) => `b-${i}`),
    );
    // DingTalk has no thread to type in: the card says only what works there.
    expect(many.card.markdown).not.toMatch(/type/i);
    expect(many.card.markdown).toContain('Which bucket? Pick one.');
  });
});

describe('DingTalk as it really behaves', () => {
  let h: Harness;
  afterEach(async () => {
    await h.adapter.stop();
    await h.emulator.close();
  });

  const fleetApproval = (clusters: number): Extract<Reply, { kind: 'approval' }> => {
    const ids = Array.from({ length: clusters }, (_, i) => `c-sandbox-fleet-${String(i + 1).padStart(3, '0')}`);
    return {
      ...approval,
      title: `Install migrate-controller on ${clusters} clusters`,
      covers: ids,
      prompt: {
        ...approval.prompt,
        preview: {
          step: 'installAddon',
          upToDate: false,
          changes: ids.flatMap((id) => [`${id}: install the migrate-controller add-on, version 1.8.7`, `${id}: restart migrate-controller in namespace csdr`]),
        },
      },
      risk: 'high',
      apis: ['cs:InstallClusterAddons', 'cs:DescribeClusterAddonsVersion'],
    };
  };

  it('a 50-cluster fleet approval stays complete: every card within 5,000 characters, the facts on the card with the buttons, the rest on detail cards', async () => {
    h = await startHarness({ approvers: ['dingtalk:manager123', 'slack:U0BOB'] });
    await h.adapter.start();
    const reply = fleetApproval(50);
    const posted = await h.adapter.port.post({ ...CONVERSATION, threadId: 'thread-1' }, reply);
    expect(posted).not.toBeNull();
    const cards = h.emulator.cards().map((c) => h.emulator.rendered(c.outTrackId));
    for (const card of cards) expect(card.markdown.length).toBeLessThanOrEqual(5_000);
    const own = cardOf(h.emulator, posted!.messageId);
    expect(own.buttons.map((b) => b.id)).toEqual(['approve', 'deny']);
    for (const fact of ['**Risk**: high', 'cs:InstallClusterAddons', '**Expires**: 2026-11-24 22:15 (GMT+8)', '**Requested by**: 王经理', '**Approvers**: @王经理']) {
      expect(own.markdown).toContain(fact);
    }
    // The approvers are @-mentioned by the delivery itself, by name.
    expect(own.mentions).toEqual({ manager123: '王经理' });
    const everything = cards.map((c) => c.markdown).join('\n');
    for (const change of reply.prompt.preview.changes) expect(everything).toContain(change);
    for (const id of reply.covers!) expect(everything).toContain(id);
    // The detail cards come first, so the card with the buttons is the last one the group sees.
    expect(h.emulator.cards().at(-1)!.outTrackId).toBe(posted!.messageId);
  });

  it('a policy document longer than a card is split without cutting its code block', async () => {
    h = await startHarness();
    await h.adapter.start();
    const statements = Array.from({ length: 120 }, (_, i) => ({ Effect: 'Allow' as const, Action: [`oss:Action${i}`], Resource: `acs:oss:*:*:bucket-number-${i}/*` }));
    const posted = await h.adapter.port.post(CONVERSATION, {
      ...approval,
      prompt: { ...approval.prompt, request: { step: 'ensurePolicy', params: { policyName: 'p', document: { Version: '1', Statement: statements } } } },
    });
    expect(posted).not.toBeNull();
    const cards = h.emulator.cards().map((c) => h.emulator.rendered(c.outTrackId));
    expect(cards.length).toBeGreaterThan(2);
    for (const card of cards) {
      expect(card.markdown.length).toBeLessThanOrEqual(5_000);
      expect((card.markdown.match(/```/g) ?? []).length % 2).toBe(0);
    }
    expect(cards.map((c) => c.markdown).join('\n')).toContain('bucket-number-119');
  });

  it('a throttled card (403 QpsLimitForAppkeyAndApi) is retried and arrives', async () => {
    h = await startHarness();
    await h.adapter.start();
    h.emulator.throttle('/v1.0/card/instances/createAndDeliver', 2);
    const posted = await h.adapter.port.post(CONVERSATION, approval);
    expect(posted).not.toBeNull();
    expect(h.emulator.calls().filter((c) => c.path === '/v1.0/card/instances/createAndDeliver').map((c) => c.status)).toEqual([403, 403, 200]);
  });

  it('SYSTEM disconnect: a new connection at once, and the next message arrives on it', async () => {
    h = await startHarness();
    await h.adapter.start();
    h.emulator.sendDisconnect();
    // The gateway keeps the old connection open, delivering nothing, for a minute: waiting for it to
    // close would lose that minute. A new connection is opened instead.
    await vi.waitFor(() => expect(h.emulator.calls().filter((c) => c.path === '/connect')).toHaveLength(2), { timeout: 20_000 });
    const next = h.nextEvent();
    expect((await h.emulator.sendGroupMessage({ conversationId: GROUP, userId: 'manager123', text: 'backup-setup help' })).acked).toBe(true);
    expect(await next).toMatchObject({ kind: 'command', command: { verb: 'help' } });
  });

  it('a silent socket (no deliveries, no pongs) is replaced by the keep-alive, without timers piling up', async () => {
    h = await startHarness({ keepAliveMs: 50 });
    await h.adapter.start();
    for (let round = 0; round < 3; round++) {
      const before = h.emulator.pingsReceived().length;
      h.emulator.silence();
      await vi.waitFor(() => expect(h.emulator.pingsReceived().length).toBe(before + 1), { timeout: 5_000 });
      await vi.waitFor(() => expect(h.adapter.connected()).toBe(true), { timeout: 5_000 });
    }
    expect(h.adapter.watchdogs()).toBe(1);
    const next = h.nextEvent();
    expect((await h.emulator.sendGroupMessage({ conversationId: GROUP, userId: 'manager123', text: 'backup-setup help' })).acked).toBe(true);
    await next;
    await h.adapter.stop();
    expect(h.adapter.watchdogs()).toBe(0);
  });

  it.each([
    ['a region id', '@bot cn-shanghai', 'is a region, not a cluster id'],
    ['a plain word', '@bot check', 'is not a cluster id'],
  ])('%s is not taken for a cluster id: the group gets help', async (_name, text, reason) => {
    h = await startHarness();
    await h.adapter.start();
    await h.emulator.sendGroupMessage({ conversationId: GROUP, userId: 'manager123', text });
    await vi.waitFor(() => expect(h.emulator.cards()).toHaveLength(1));
    expect(h.emulator.rendered(h.emulator.cards()[0]!.outTrackId).markdown).toContain(reason);
    expect(h.events).toEqual([]);
  });
});

/** What the proxy does with one OpenAPI request: pass it on, or answer `status` (after passing it on when `forward`). */
type Fault = { status: number; forward: boolean } | null;

/** An HTTP proxy in front of the emulator's OpenAPI that injects failures. */
async function startFaultyProxy(target: string, decide: (method: string, path: string) => Fault): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const fault = decide(req.method ?? 'GET', req.url ?? '/');
      const forward = () =>
        fetch(`${target}${req.url}`, {
          method: req.method ?? 'GET',
          headers: Object.fromEntries(
            ['content-type', 'accept', 'x-acs-dingtalk-access-token'].flatMap((name) => {
              const value = req.headers[name];
              return typeof value === 'string' ? [[name, value]] : [];
            }),
          ),
          ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
        });
      if (fault) {
        if (fault.forward) await forward();
        res.writeHead(fault.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: fault.status === 429 ? 'Forbidden.AccessDenied.QpsLimitForApi' : 'ServiceUnavailable', message: 'injected' }));
        return;
      }
      const upstream = await forward();
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('DingTalk adapter retries', () => {
  let h: Harness;
  let proxy: Server;
  const proxied: { method: string; path: string }[] = [];
  let decide: (method: string, path: string, seen: number) => Fault = () => null;

  beforeEach(async () => {
    proxied.length = 0;
    decide = () => null;
    h = await startHarness({
      apiUrl: async (emulator) => {
        const started = await startFaultyProxy(emulator.apiUrl, (method, path) => {
          proxied.push({ method, path });
          return decide(method, path, proxied.filter((p) => p.path === path).length);
        });
        proxy = started.server;
        return started.url;
      },
    });
    await h.adapter.start();
  });
  afterEach(async () => {
    await h.adapter.stop();
    await h.emulator.close();
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  });

  const CREATE = '/v1.0/card/instances/createAndDeliver';

  it('posts a card once when the answer to a delivery was lost and the retry finds it delivered', async () => {
    decide = (_method, path, seen) => (path === CREATE && seen === 1 ? { status: 502, forward: true } : null);
    const posted = await h.adapter.port.post(CONVERSATION, question);
    expect(posted).not.toBeNull();
    expect(h.emulator.cards().map((c) => c.outTrackId)).toEqual([posted!.messageId]);
    expect(proxied.filter((p) => p.path === CREATE)).toHaveLength(2);
  });

  it('waits out a 429 and delivers the private message', async () => {
    decide = (_method, path, seen) => (path === '/v1.0/robot/oToMessages/batchSend' && seen === 1 ? { status: 429, forward: false } : null);
    await h.adapter.port.tell(CONVERSATION, 'dingtalk:manager123', 'Only approvers can approve.');
    expect(h.emulator.messages()).toEqual([
      { userIds: ['manager123'], msgKey: 'sampleText', msgParam: { content: 'Only approvers can approve.' }, via: 'oto' },
    ]);
  });

  it('gives up after the configured attempts and returns null instead of throwing', async () => {
    decide = (_method, path) => (path === CREATE ? { status: 503, forward: false } : null);
    await expect(h.adapter.port.post(CONVERSATION, question)).resolves.toBeNull();
    expect(proxied.filter((p) => p.path === CREATE)).toHaveLength(FAST_RETRY.attempts);
    expect(h.emulator.cards()).toEqual([]);
  });

  it('does not retry what DingTalk refuses (4xx)', async () => {
    const gone = { conversation: CONVERSATION, messageId: 'no-such-card' };
    await h.adapter.port.update(gone, { kind: 'text', text: 'x' });
    expect(proxied.filter((p) => p.path === '/v1.0/card/instances')).toHaveLength(1);
  });
});
