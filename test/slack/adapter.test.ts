import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatEvent, PostedMessage } from '../../src/chat/model.ts';
import { CHANNEL, startSlackHarness, type SlackHarness } from './harness.ts';
import { approval, everyKind, question, status } from './replies.ts';
import { blockActions, FORM, JSON_TYPE, messageEvent, send, signed, slashCommand, type ClickedMessage } from './slack-requests.ts';

let h: SlackHarness;
beforeEach(async () => {
  h = await startSlackHarness();
});
afterEach(async () => {
  await h.close();
});

const command = (text: string, user = 'U0ALICE') =>
  signed(slashCommand({ text, user, channel: CHANNEL, responseUrl: h.api.responseUrl(user, CHANNEL) }), FORM);

const clicked = (posted: PostedMessage): ClickedMessage => {
  const message = h.api.messages.find((m) => m.ts === posted.messageId)!;
  return { ts: message.ts, threadTs: message.threadTs, blocks: message.blocks, text: message.text };
};

type Element = { type: string; action_id: string; value?: string; options?: { text: unknown; value: string }[] };
const elementsOf = (message: ClickedMessage): Element[] =>
  (message.blocks as { type: string; block_id?: string; elements?: Element[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => (b.elements ?? []).map((e) => ({ ...e, block_id: b.block_id })));

const click = (posted: PostedMessage, actionId: string, user: string, select?: string) => {
  const message = clicked(posted);
  const element = elementsOf(message).find((e) => e.action_id === actionId)!;
  const action =
    element.type === 'static_select'
      ? { ...element, selected_option: element.options!.find((o) => o.value === select) }
      : element;
  return signed(blockActions({ user, channel: CHANNEL, message, action, responseUrl: h.api.responseUrl(user, CHANNEL) }), FORM);
};

describe('slash command /backup-setup', () => {
  it('is acknowledged only once the handler has accepted it, and the handler gets the parsed command', async () => {
    let release!: () => void;
    const accepting = new Promise<void>((resolve) => (release = resolve));
    h.behave(() => accepting);

    let answered = false;
    const responded = send(h.eventsUrl, command('c-sandbox-dedicated')).finally(() => (answered = true));
    const event = await h.nextEvent();
    // Slack sends nothing twice: an ack before the event is stored could lose it in a crash.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    release();
    expect(await responded).toEqual({ status: 200, body: '' });
    expect(event).toEqual({
      kind: 'command',
      eventId: expect.stringMatching(/^slack:trigger:/) as string,
      command: { verb: 'setup', clusterIds: ['c-sandbox-dedicated'] },
      text: 'c-sandbox-dedicated',
      actor: { id: 'slack:U0ALICE', name: '<@U0ALICE>' },
      conversation: { platform: 'slack', channelId: CHANNEL },
    });
  });

  it('answers a parse error privately with the reason and a pointer to help, without calling the handler', async () => {
    const response = await send(h.eventsUrl, command('c-Bad_Id'));
    expect(response.status).toBe(200);
    const body = JSON.parse(response.body) as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('`c-Bad_Id` is not a cluster id');
    expect(body.text).toContain('/backup-setup help');

    await send(h.eventsUrl, command('help'));
    expect((await h.nextEvent()).kind).toBe('command');
    expect(h.events).toHaveLength(1);
  });

  it("sends the handler's private answer to the person only, through the response_url", async () => {
    h.behave((_event, tell) => tell('Only approvers may cancel <this> setup.'));
    await send(h.eventsUrl, command('cancel c-sandbox-dedicated', 'U0BOB'));
    await h.nextEvent();
    await waitFor(() => h.api.ephemerals.length === 1);
    expect(h.api.ephemerals[0]).toEqual({
      channel: CHANNEL,
      user: 'U0BOB',
      text: 'Only approvers may cancel &lt;this&gt; setup.',
      via: 'response_url',
    });
    expect(h.api.messages).toHaveLength(0);
  });
});

describe('request signatures', () => {
  const body = () => slashCommand({ text: 'c-sandbox-dedicated', user: 'U0ALICE', channel: CHANNEL, responseUrl: 'http://127.0.0.1:1/x' });

  it.each([
    ['forged (wrong secret)', () => signed(body(), FORM, { secret: '0123456789abcdef0123456789abcdef' })],
    ['missing', () => ({ body: body(), headers: { 'content-type': FORM } })],
    ['six minutes old', () => signed(body(), FORM, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })],
    ['six minutes in the future', () => signed(body(), FORM, { timestamp: Math.floor(Date.now() / 1000) + 6 * 60 })],
    [
      'for another body',
      () => {
        const request = signed(body(), FORM);
        return { ...request, body: request.body.replace('c-sandbox-dedicated', 'c-sandbox-managed') };
      },
    ],
  ])('%s: 401 and the handler is never called', async (_name, request) => {
    const response = await send(h.eventsUrl, request());
    expect(response).toEqual({ status: 401, body: '' });

    await send(h.eventsUrl, command('help'));
    expect(await h.nextEvent()).toMatchObject({ kind: 'command', command: { verb: 'help' } });
    expect(h.events).toHaveLength(1);
  });

  it('answers a signed url_verification with its challenge', async () => {
    const response = await send(h.eventsUrl, signed(JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 't' }), JSON_TYPE));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ challenge: 'abc123' });
  });
});

describe('clicks', () => {
  it('Approve becomes a decision event in the thread of the approval message', async () => {
    const parent = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, { kind: 'text', text: 'Setup started' }))!;
    const posted = (await h.adapter.port.post(parent.conversation, approval({ approvalId: 'ap-7' })))!;

    const response = await send(h.eventsUrl, click(posted, 'approve', 'U0BOB'));
    expect(response).toEqual({ status: 200, body: '' });
    expect(await h.nextEvent()).toEqual({
      kind: 'decision',
      eventId: expect.stringMatching(/^slack:trigger:\d+\.[0-9a-f]{8}$/) as string,
      sessionId: approval().sessionId,
      approvalId: 'ap-7',
      decision: 'approve',
      actor: { id: 'slack:U0BOB', name: '<@U0BOB>' },
      conversation: { platform: 'slack', channelId: CHANNEL, threadId: parent.messageId },
      messageId: posted.messageId,
    } satisfies ChatEvent);
  });

  it('Deny whose reason modal cannot open (a trigger Slack did not issue) becomes a plain deny decision', async () => {
    const posted = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, approval()))!;
    await send(h.eventsUrl, click(posted, 'deny', 'U0BOB'));
    expect(await h.nextEvent()).toMatchObject({ kind: 'decision', decision: 'deny', approvalId: 'ap-1' });
    expect(h.api.calls.filter((c) => c.method === 'views.open').map((c) => c.error)).toEqual(['invalid_trigger_id']);
  });

  it('the top message has a Cancel button (with a confirmation) that becomes a cancel event of its session', async () => {
    const posted = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, status(true)))!;
    const [cancel] = elementsOf(clicked(posted)) as (Element & { confirm?: unknown; accessibility_label?: string })[];
    expect(cancel).toMatchObject({ action_id: 'cancel_session', accessibility_label: 'Cancel the backup center setup of c-sandbox-dedicated' });
    expect(cancel!.confirm).toBeDefined();
    await send(h.eventsUrl, click(posted, 'cancel_session', 'U0ALICE'));
    expect(await h.nextEvent()).toMatchObject({ kind: 'cancel', sessionId: status(true).sessionId, actor: { id: 'slack:U0ALICE' } });
    const ended = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, status(false)))!;
    expect(elementsOf(clicked(ended))).toEqual([]);
  });

  it('Request again on an expired approval becomes a new setup of its cluster, in the channel', async () => {
    const expired = { kind: 'decided' as const, approvalId: 'ap-3', title: 'Create RAM user', decision: 'expired' as const, by: '', at: '2026-11-24T14:20:00.000Z', again: { clusterId: 'c-sandbox-dedicated' } };
    const parent = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, { kind: 'text', text: 'Setup' }))!;
    const posted = (await h.adapter.port.post(parent.conversation, expired))!;
    await send(h.eventsUrl, click(posted, 'request_again', 'U0ALICE'));
    expect(await h.nextEvent()).toMatchObject({
      kind: 'command',
      command: { verb: 'setup', clusterIds: ['c-sandbox-dedicated'] },
      actor: { id: 'slack:U0ALICE' },
      conversation: { platform: 'slack', channelId: CHANNEL },
    });
  });

  it('an answer button and a static select become answer events with the chosen value', async () => {
    const parent = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, { kind: 'text', text: 'Setup' }))!;
    const buttons = (await h.adapter.port.post(parent.conversation, question(3)))!;
    const select = (await h.adapter.port.post(parent.conversation, question(12)))!;

    await send(h.eventsUrl, click(buttons, 'answer:bucket:1', 'U0ALICE'));
    await send(h.eventsUrl, click(select, 'answer:bucket:1', 'U0ALICE', 'bucket-7'));
    const expected = (value: string, messageId: string) => ({
      kind: 'answer',
      eventId: expect.stringMatching(/^slack:trigger:/) as string,
      sessionId: question(1).sessionId,
      questionId: 'bucket',
      value,
      messageId,
      actor: { id: 'slack:U0ALICE', name: '<@U0ALICE>' },
      conversation: { platform: 'slack', channelId: CHANNEL, threadId: parent.messageId },
    });
    expect(await h.nextEvent()).toEqual(expected('bucket-1', buttons.messageId));
    expect(await h.nextEvent()).toEqual(expected('bucket-7', select.messageId));
  });

  it('a refusal goes to the clicker only', async () => {
    const posted = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, approval()))!;
    h.behave((_event, tell) => tell('You cannot approve your own request.'));
    await send(h.eventsUrl, click(posted, 'approve', 'U0ALICE'));
    await h.nextEvent();
    await waitFor(() => h.api.ephemerals.length === 1);
    expect(h.api.ephemerals).toEqual([
      { channel: CHANNEL, user: 'U0ALICE', text: 'You cannot approve your own request.', via: 'response_url' },
    ]);
    const original = h.api.messages.find((m) => m.ts === posted.messageId)!;
    expect(original.edits).toBe(0);
    expect(h.api.messages).toHaveLength(1);
  });
});

describe('thread messages', () => {
  it('a person typing in a thread is a threadText event; top-level and bot messages are ignored', async () => {
    const parent = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, { kind: 'text', text: 'Setup' }))!;
    const ts = (n: number) => `${Math.floor(Date.now() / 1000)}.00010${n}`;
    const post = (event: Record<string, unknown>) => send(h.eventsUrl, signed(messageEvent(event), JSON_TYPE));

    expect((await post({ channel: CHANNEL, user: 'U0ALICE', text: 'top level', ts: ts(1) })).status).toBe(200);
    await post({ channel: CHANNEL, bot_id: 'B0OTHER', user: 'U0OTHERBOT', text: 'bot', ts: ts(2), thread_ts: parent.messageId });
    await post({ channel: CHANNEL, user: 'U0ALICE', text: 'my-backups-bucket', ts: ts(3), thread_ts: parent.messageId });

    expect(await h.nextEvent()).toEqual({
      kind: 'threadText',
      eventId: `slack:message:${CHANNEL}:${ts(3)}`,
      text: 'my-backups-bucket',
      actor: { id: 'slack:U0ALICE', name: '<@U0ALICE>' },
      conversation: { platform: 'slack', channelId: CHANNEL, threadId: parent.messageId },
    });
    expect(h.events).toHaveLength(1);
  });

  it('a private answer to a typed message is an ephemeral message in the thread', async () => {
    const parent = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, { kind: 'text', text: 'Setup' }))!;
    h.behave((_event, tell) => tell('That answer is not one of the choices.'));
    await send(
      h.eventsUrl,
      signed(messageEvent({ channel: CHANNEL, user: 'U0BOB', text: 'nope', ts: `${Date.now() / 1000}`, thread_ts: parent.messageId }), JSON_TYPE),
    );
    await h.nextEvent();
    await waitFor(() => h.api.ephemerals.length === 1);
    expect(h.api.ephemerals[0]).toEqual({
      channel: CHANNEL,
      user: 'U0BOB',
      threadTs: parent.messageId,
      text: 'That answer is not one of the choices.',
      via: 'chat.postEphemeral',
    });
  });
});

describe('posting', () => {
  it('the first post becomes the thread parent; later posts go in its thread', async () => {
    const first = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, { kind: 'progress', text: 'Reading the cluster…' }))!;
    expect(first.conversation.threadId).toBe(first.messageId);
    const second = (await h.adapter.port.post(first.conversation, { kind: 'text', text: 'next' }))!;
    expect(h.api.messages.find((m) => m.ts === second.messageId)!.threadTs).toBe(first.messageId);
  });

  it('every reply kind, including oversized ones, is accepted by the strict Web API', async () => {
    for (const reply of everyKind()) {
      const posted = await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, reply);
      expect(posted, reply.kind).not.toBeNull();
    }
    // Oversized replies continue in follow-up messages of their thread; Slack refuses none of them.
    const posts = h.api.calls.filter((c) => c.method === 'chat.postMessage');
    expect(posts.length).toBeGreaterThan(everyKind().length);
    expect(posts.map((c) => c.error).filter(Boolean)).toEqual([]);
    expect(JSON.stringify(h.api.messages.slice(-3).map((m) => m.blocks))).toContain('bucket-number-119');
  });

  it('an approval shows what will change, the policy, risk, APIs, expiry, requester and both buttons', async () => {
    const posted = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, approval()))!;
    const message = h.api.messages.find((m) => m.ts === posted.messageId)!;
    const shown = JSON.stringify(message.blocks);
    for (const part of [
      'Approval needed: Create or update RAM policy',
      'create custom policy ack-backup-c-sandbox-dedicated',
      'acs:oss:*:*:cnfs-oss-*',
      'medium',
      'ram:CreatePolicyVersion',
      '<!date^',
      '<@U0ALICE>',
    ]) {
      expect(shown).toContain(part);
    }
    expect(elementsOf(clicked(posted)).map((e) => [e.action_id, (e as { style?: string }).style])).toEqual([
      ['approve', 'primary'],
      ['deny', 'danger'],
    ]);
  });

  it('after the decision the approval says who and when, keeps what was approved, and has no buttons', async () => {
    const posted = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, approval()))!;
    await h.adapter.port.update(posted, {
      kind: 'decided',
      approvalId: 'ap-1',
      title: 'Create or update RAM policy',
      decision: 'approved',
      by: 'slack:U0BOB',
      at: '2026-11-24T14:01:00.000Z',
    });
    const message = h.api.messages.find((m) => m.ts === posted.messageId)!;
    expect(message.edits).toBe(1);
    const blocks = message.blocks as { type: string }[];
    expect(blocks.some((b) => b.type === 'actions')).toBe(false);
    const shown = JSON.stringify(blocks);
    expect(shown).not.toContain('Approval needed');
    expect(shown).toContain('Approved by <@U0BOB> at <!date^1795528860^');
    expect(shown).toContain('acs:oss:*:*:cnfs-oss-*');
  });

  it('waits out a 429 (Retry-After) and the message still arrives', async () => {
    h.api.inject429('chat.postMessage', 1, 1);
    const posted = await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, { kind: 'progress', text: 'Installing…' });
    expect(posted).not.toBeNull();
    expect(h.api.calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.error)).toEqual(['ratelimited', undefined]);
    expect(h.api.messages.map((m) => m.text)).toEqual(['Installing…']);
  });

  it('a post the Web API refuses returns null instead of throwing', async () => {
    const posted = await h.adapter.port.post({ platform: 'slack', channelId: 'C0UNKNOWN' }, { kind: 'text', text: 'hello' });
    expect(posted).toBeNull();
    expect(h.api.calls.at(-1)?.error).toBe('channel_not_found');
  });

  it('an approval whose full form Slack refuses is posted in its compact form, still with both buttons', async () => {
    h.api.injectError('chat.postMessage', 'msg_blocks_too_long', 1);
    const posted = await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, approval());
    expect(posted).not.toBeNull();
    expect(elementsOf(clicked(posted!)).map((e) => e.action_id)).toEqual(['approve', 'deny']);
    expect(JSON.stringify(h.api.messages.at(-1)!.blocks)).toContain('the details could not be shown here');
  });

  it('a message Slack refuses in every form is replaced by a notice, and the requester is told', async () => {
    h.api.injectError('chat.postMessage', 'msg_blocks_too_long', 3);
    const posted = await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, approval());
    expect(posted).not.toBeNull();
    expect(h.api.messages.map((m) => m.text)).toEqual([
      expect.stringMatching(/^⚠️ The bot could not post the approval of "Create or update RAM policy" here \(Slack answered msg_blocks_too_long\)/) as string,
    ]);
    expect(h.api.ephemerals).toEqual([expect.objectContaining({ user: 'U0ALICE', text: expect.stringContaining('could not post the approval') as string })]);
  });

  it('returns null only when nothing at all could be posted', async () => {
    h.api.setMembership(CHANNEL, false);
    expect(await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, { kind: 'text', text: 'hello' })).toBeNull();
    expect(h.api.calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.error)).toEqual(['not_in_channel', 'not_in_channel']);
  });

  it('a long fenced text keeps every section a whole code block, across messages when needed', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => `c-sandbox-fleet-${String(i).padStart(3, '0')}  done`);
    const posted = await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, { kind: 'done', ok: true, text: ['Fleet setup finished.', '```', ...rows, '```'].join('\n') });
    expect(posted).not.toBeNull();
    const sections = h.api.messages.flatMap((m) => (m.blocks ?? []) as { type: string; text?: { text: string } }[]).filter((b) => b.type === 'section');
    expect(sections.length).toBeGreaterThan(3);
    for (const section of sections) expect((section.text!.text.match(/```/g) ?? []).length % 2).toBe(0);
    const shown = sections.map((b) => b.text!.text).join('\n');
    for (const row of rows) expect(shown).toContain(row);
  });

  it('a question with many choices offers its suggestion as a button: a select sends nothing for the option it already shows', async () => {
    const posted = (await h.adapter.port.post({ platform: 'slack', channelId: CHANNEL }, question(8)))!;
    const elements = elementsOf(clicked(posted));
    expect(elements.map((e) => e.type)).toEqual(['button', 'static_select']);
    expect(elements[0]).toMatchObject({ value: 'cnfs-oss-backups-cn-hangzhou' });
    expect(elements[1]).not.toHaveProperty('initial_option');
    await send(h.eventsUrl, click(posted, elements[0]!.action_id, 'U0ALICE'));
    expect(await h.nextEvent()).toMatchObject({ kind: 'answer', value: 'cnfs-oss-backups-cn-hangzhou' });
  });

  it('tell() is an ephemeral message to that one user', async () => {
    await h.adapter.port.tell({ platform: 'slack', channelId: CHANNEL, threadId: undefined }, 'slack:U0BOB', 'approval expired');
    expect(h.api.ephemerals).toEqual([{ channel: CHANNEL, user: 'U0BOB', text: 'approval expired', via: 'chat.postEphemeral' }]);
  });
});

/** Polls a condition that an in-flight request will make true (no time-based assertion). */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
