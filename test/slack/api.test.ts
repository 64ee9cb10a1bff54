// The Slack Web API emulator is strict: bad tokens, missing arguments and malformed Block Kit are
// refused with Slack's error codes, through the real WebClient.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DEFAULT_SCOPES, startSlackApi, type SlackApi } from '../../src/sandbox/slack/api.ts';
import { pino } from 'pino';
import { UserGroupDirectory } from '../../src/chat/slack/user-groups.ts';
import { BOT_TOKEN, CHANNEL } from './harness.ts';

let api: SlackApi;
let client: webApi.WebClient;
beforeAll(async () => {
  api = await startSlackApi({ token: BOT_TOKEN, userGroups: [{ id: 'S0APPROVERS', handle: 'backup-approvers', users: ['U0BOB'] }] });
  client = new webApi.WebClient(BOT_TOKEN, { slackApiUrl: api.url, retryConfig: { retries: 0 } });
});
afterAll(() => api.close());

async function slackError(call: Promise<unknown>): Promise<{ error: string; messages: string[] }> {
  try {
    await call;
  } catch (error) {
    const data = (error as { data: { error: string; response_metadata?: { messages?: string[] } } }).data;
    return { error: data.error, messages: data.response_metadata?.messages ?? [] };
  }
  throw new Error('the call succeeded');
}

const button = (action_id: string, text = 'OK', extra: Record<string, unknown> = {}) => ({
  type: 'button',
  action_id,
  text: { type: 'plain_text', text },
  ...extra,
});
const post = (blocks: unknown[]) => client.chat.postMessage({ channel: CHANNEL, text: 'fallback', blocks: blocks as never });

describe('Slack Web API emulator', () => {
  it('views.open exchanges a trigger once, within 3 seconds, for a valid modal', async () => {
    const view = (extra: Record<string, unknown> = {}) => ({
      type: 'modal',
      callback_id: 'deny_reason',
      title: { type: 'plain_text', text: 'Deny this step' },
      submit: { type: 'plain_text', text: 'Deny' },
      blocks: [{ type: 'input', block_id: 'reason', optional: true, label: { type: 'plain_text', text: 'Reason' }, element: { type: 'plain_text_input', action_id: 'reason', max_length: 500 } }],
      ...extra,
    });
    const open = (trigger_id: string, v: unknown = view()) => client.views.open({ trigger_id, view: v as never });
    expect((await slackError(open('12345.abc'))).error).toBe('invalid_trigger_id');
    expect((await slackError(open('12345.98765.abcd2358fdea'))).error).toBe('invalid_trigger_id'); // never issued
    const trigger = api.issueTrigger('U0BOB');
    const refused = await slackError(open(trigger, view({ title: { type: 'plain_text', text: 'A title longer than twenty-four' }, submit: undefined })));
    expect(refused.error).toBe('invalid_arguments');
    expect(refused.messages).toEqual([
      '[ERROR] must be less than 25 characters [json-pointer:/view/title/text]',
      '[ERROR] must provide a submit property when using input blocks [json-pointer:/view]',
    ]);
    const opened = await open(trigger);
    expect(opened).toMatchObject({ ok: true, view: { callback_id: 'deny_reason', state: { values: {} } } });
    expect(api.views.at(-1)).toMatchObject({ user: 'U0BOB', id: (opened.view as { id: string }).id });
    expect((await slackError(open(trigger))).error).toBe('exchanged_trigger_id');
    const late = api.issueTrigger('U0BOB');
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    expect((await slackError(open(late))).error).toBe('expired_trigger_id');
  });


  it('answers auth.test and chat.postMessage with Slack response shapes', async () => {
    expect(await client.auth.test()).toMatchObject({ ok: true, user_id: api.botUserId, bot_id: api.botId, team_id: api.teamId });
    const result = await client.chat.postMessage({ channel: CHANNEL, text: 'hello' });
    expect(result).toMatchObject({ ok: true, channel: CHANNEL, message: { text: 'hello', bot_id: api.botId } });
    expect(result.ts).toMatch(/^\d{10}\.\d{6}$/);
  });

  it('refuses a wrong or missing token', async () => {
    const wrong = new webApi.WebClient('xoxb-wrong', { slackApiUrl: api.url, retryConfig: { retries: 0 } });
    expect((await slackError(wrong.auth.test())).error).toBe('invalid_auth');
    const none = new webApi.WebClient(undefined, { slackApiUrl: api.url, retryConfig: { retries: 0 } });
    expect((await slackError(none.auth.test())).error).toBe('not_authed');
  });

  it('refuses missing text, unknown channels, unknown threads and unknown users', async () => {
    expect((await slackError(client.chat.postMessage({ channel: CHANNEL } as never))).error).toBe('no_text');
    expect((await slackError(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' }))).error).toBe('channel_not_found');
    expect((await slackError(client.chat.postMessage({ channel: CHANNEL, text: 'x', thread_ts: '1.000001' }))).error).toBe(
      'thread_not_found',
    );
    expect((await slackError(client.chat.update({ channel: CHANNEL, ts: '1.000001', text: 'x' }))).error).toBe('message_not_found');
    expect((await slackError(client.chat.postEphemeral({ channel: CHANNEL, user: 'U0NOBODY', text: 'x' }))).error).toBe(
      'user_not_found',
    );
  });

  it.each([
    ['an unknown block type', [{ type: 'fancy', text: { type: 'mrkdwn', text: 'x' } }], 'unsupported type'],
    ['an unknown element type', [{ type: 'actions', elements: [{ type: 'slider', action_id: 'a' }] }], 'unsupported type'],
    ['duplicate action_ids', [{ type: 'actions', elements: [button('approve'), button('approve')] }], 'duplicate action_id'],
    ['a section without text or fields', [{ type: 'section' }], 'must provide either text or fields'],
    ['a button without text', [{ type: 'actions', elements: [{ type: 'button', action_id: 'a' }] }], 'missing required field: text'],
    ['section text over 3000', [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }], 'less than 3001'],
    ['button text over 75', [{ type: 'actions', elements: [button('a', 'x'.repeat(76))] }], 'less than 76'],
    ['a header over 150', [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }], 'less than 151'],
    ['a mrkdwn header', [{ type: 'header', text: { type: 'mrkdwn', text: 'x' } }], 'must be one of "plain_text"'],
    ['a button value over 2000', [{ type: 'actions', elements: [button('a', 'OK', { value: 'x'.repeat(2001) })] }], 'less than 2001'],
    ['an action_id over 255', [{ type: 'actions', elements: [button('a'.repeat(256))] }], 'less than 256'],
    ['a bad button style', [{ type: 'actions', elements: [button('a', 'OK', { style: 'green' })] }], '"primary", "danger"'],
    ['51 blocks', Array.from({ length: 51 }, () => ({ type: 'divider' })), 'no more than 50 items'],
    ['26 elements in actions', [{ type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button(`a${i}`)) }], '1 to 25 elements'],
    [
      '101 select options',
      [{ type: 'actions', elements: [{ type: 'static_select', action_id: 's', options: options(101) }] }],
      '1 to 100 options',
    ],
    [
      'select option text over 75',
      [{ type: 'actions', elements: [{ type: 'static_select', action_id: 's', options: [{ text: { type: 'plain_text', text: 'x'.repeat(76) }, value: 'v' }] }] }],
      'less than 76',
    ],
    [
      'an initial option that is not an option',
      [{ type: 'actions', elements: [{ type: 'static_select', action_id: 's', options: options(2), initial_option: options(3)[2] }] }],
      'must match one of the provided options',
    ],
  ])('rejects %s with invalid_blocks', async (_name, blocks, reason) => {
    const refused = await slackError(post(blocks));
    expect(refused.error).toBe('invalid_blocks');
    expect(refused.messages.join('\n')).toContain(reason);
  });

  it('accepts well-formed blocks, and chat.update validates them too', async () => {
    const posted = await post([
      { type: 'header', text: { type: 'plain_text', text: 'Approve' } },
      { type: 'actions', elements: [button('approve', 'Approve', { style: 'primary', value: '{}' }), button('deny', 'Deny')] },
    ]);
    const bad = await slackError(
      client.chat.update({ channel: CHANNEL, ts: posted.ts!, text: 'x', blocks: [{ type: 'section' }] as never }),
    );
    expect(bad.error).toBe('invalid_blocks');
    await client.chat.update({ channel: CHANNEL, ts: posted.ts!, text: 'decided', blocks: [] });
    expect(api.messages.find((m) => m.ts === posted.ts)).toMatchObject({ text: 'decided', edits: 1 });
  });

  it('answers 429 with Retry-After as many times as injected', async () => {
    api.inject429('auth.test', 1, 7);
    const response = await fetch(`${api.url}auth.test`, { method: 'POST', headers: { authorization: `Bearer ${BOT_TOKEN}` } });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    const next = await fetch(`${api.url}auth.test`, { method: 'POST', headers: { authorization: `Bearer ${BOT_TOKEN}` } });
    expect(next.status).toBe(200);
  });

  it('lists user groups with their members, which makes group approvers', async () => {
    const result = await client.usergroups.list({ include_users: true });
    expect(result.usergroups).toEqual([expect.objectContaining({ id: 'S0APPROVERS', users: ['U0BOB'] })]);
    expect((await client.usergroups.users.list({ usergroup: 'S0APPROVERS' })).users).toEqual(['U0BOB']);
    expect((await slackError(client.usergroups.users.list({ usergroup: 'S0NOSUCH' }))).error).toBe('no_such_subteam');
  });

  it("grants the bot token exactly the manifest's scopes, and a method outside them answers missing_scope", async () => {
    const manifest = parse(readFileSync(new URL('../../slack/manifest.yaml', import.meta.url), 'utf8')) as { oauth_config: { scopes: { bot: string[] } } };
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...DEFAULT_SCOPES].sort());
    const narrow = await startSlackApi({ token: BOT_TOKEN, scopes: ['chat:write', 'commands'] });
    try {
      const narrowClient = new webApi.WebClient(BOT_TOKEN, { slackApiUrl: narrow.url, retryConfig: { retries: 0 } });
      expect((await slackError(narrowClient.usergroups.users.list({ usergroup: 'S0APPROVERS' }))).error).toBe('missing_scope');
      expect((await slackError(narrowClient.conversations.info({ channel: CHANNEL }))).error).toBe('missing_scope');
    } finally {
      await narrow.close();
    }
  });

  it('posts only where the bot is a member, or in public channels with chat:write.public', async () => {
    const channels = [
      { id: CHANNEL, name: 'backups' },
      { id: 'C0PUBLIC', name: 'public', botIsMember: false },
      { id: 'G0PRIVATE', name: 'private', isPrivate: true, botIsMember: false },
    ];
    for (const scopes of [DEFAULT_SCOPES, [...DEFAULT_SCOPES, 'chat:write.public']]) {
      const own = await startSlackApi({ token: BOT_TOKEN, channels, scopes });
      try {
        const c = new webApi.WebClient(BOT_TOKEN, { slackApiUrl: own.url, retryConfig: { retries: 0 } });
        const publicPost = c.chat.postMessage({ channel: 'C0PUBLIC', text: 'hi' });
        if (scopes.includes('chat:write.public')) expect((await publicPost).ok).toBe(true);
        else expect((await slackError(publicPost)).error).toBe('not_in_channel');
        expect((await slackError(c.chat.postMessage({ channel: 'G0PRIVATE', text: 'hi' }))).error).toBe('channel_not_found');
        expect((await c.conversations.info({ channel: 'C0PUBLIC' })).channel).toMatchObject({ is_member: false, is_private: false });
      } finally {
        await own.close();
      }
    }
  });

  it('refuses blocks whose texts add up to more than the cumulative limit (msg_blocks_too_long)', async () => {
    const section = (n: number) => ({ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(n) } });
    expect((await slackError(post([section(2_900), section(2_900), section(2_900), section(2_900)]))).error).toBe('msg_blocks_too_long');
    expect((await post([section(2_900), section(2_900), section(2_900)])).ok).toBe(true);
  });

  it('a group approver is found with usergroups.users.list, and the members are cached briefly', async () => {
    let now = 1_000_000;
    const groups = new UserGroupDirectory({ client, groups: ['slack:S0APPROVERS', 'slack:U0BOB'], logger: pino({ level: 'silent' }), ttlMs: 60_000, now: () => now });
    const lookups = () => api.calls.filter((c) => c.method === 'usergroups.users.list' && c.args.usergroup === 'S0APPROVERS').length;
    const before = lookups();
    expect(await groups.groupsOf('slack:U0BOB')).toEqual(['slack:S0APPROVERS']);
    expect(await groups.groupsOf('slack:U0ALICE')).toEqual([]);
    expect(await groups.groupsOf('dingtalk:manager1')).toEqual([]);
    expect(lookups() - before).toBe(1);
    now += 61_000;
    expect(await groups.groupsOf('slack:U0BOB')).toEqual(['slack:S0APPROVERS']);
    expect(lookups() - before).toBe(2);
  });

  it('a response_url accepts five posts, then refuses', async () => {
    const url = api.responseUrl('U0ALICE', CHANNEL);
    const respond = () =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hi', response_type: 'ephemeral' }) });
    for (let i = 0; i < 5; i += 1) expect((await respond()).status).toBe(200);
    expect((await respond()).status).toBe(404);
  });
});

function options(n: number) {
  return Array.from({ length: n }, (_, i) => ({ text: { type: 'plain_text', text: `option ${i}` }, value: `v${i}` }));
}
