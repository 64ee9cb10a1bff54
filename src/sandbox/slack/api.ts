// A strict local Slack Web API: the methods the bot calls, with Slack's token checks, argument errors,
// Block Kit validation (`invalid_blocks`), 429 + Retry-After on demand, and response_url endpoints.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { listen, readBody, sendJson } from '../http.ts';
import { blockProblems } from './block-kit.ts';

export interface SlackApiOptions {
  token: string;
  /** Channels the bot is a member of. */
  channels?: { id: string; name: string }[];
  users?: { id: string; name: string }[];
  userGroups?: { id: string; handle: string; users: string[] }[];
}

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** The Slack error code when the call failed, or "ratelimited" for an injected 429. */
  error?: string;
}

export interface EmulatedMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: unknown[];
  /** How many times chat.update replaced it. */
  edits: number;
}

export interface EmulatedEphemeral {
  channel: string;
  user: string;
  threadTs?: string;
  text?: string;
  /** "chat.postEphemeral" or "response_url". */
  via: 'chat.postEphemeral' | 'response_url';
}

export interface SlackApi {
  /** Base URL for WebClient's slackApiUrl; ends with /api/. */
  url: string;
  botUserId: string;
  botId: string;
  teamId: string;
  calls: RecordedCall[];
  messages: EmulatedMessage[];
  ephemerals: EmulatedEphemeral[];
  /** A response_url as Slack puts in a slash command or interaction payload, for this user and channel. */
  responseUrl(user: string, channel: string): string;
  inject429(method: string, times: number, retryAfterSeconds: number): void;
  close(): Promise<void>;
}

const DEFAULT_CHANNELS = [{ id: 'C0BACKUPS', name: 'backups' }];
const DEFAULT_USERS = [
  { id: 'U0ALICE', name: 'alice' },
  { id: 'U0BOB', name: 'bob' },
];
/** Slack discards anything past this; longer texts are refused. */
const MAX_TEXT = 40_000;
/** A response_url accepts five posts within 30 minutes. */
const RESPONSE_URL_USES = 5;

type Args = Record<string, unknown>;
class SlackError extends Error {}

export async function startSlackApi(options: SlackApiOptions): Promise<SlackApi> {
  const channels = options.channels ?? DEFAULT_CHANNELS;
  const users = options.users ?? DEFAULT_USERS;
  const userGroups = options.userGroups ?? [];
  const botUserId = 'U0BACKUPBOT';
  const botId = 'B0BACKUPBOT';
  const teamId = 'T0SANDBOX';
  const calls: RecordedCall[] = [];
  const messages: EmulatedMessage[] = [];
  const ephemerals: EmulatedEphemeral[] = [];
  const rateLimits = new Map<string, { times: number; retryAfter: number }>();
  const responseUrls = new Map<string, { user: string; channel: string; uses: number }>();
  let tsCounter = 0;

  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++tsCounter).padStart(6, '0')}`;

  const channelOf = (args: Args): string => {
    const id = args.channel;
    if (typeof id !== 'string' || !channels.some((c) => c.id === id)) throw new SlackError('channel_not_found');
    return id;
  };

  const userOf = (args: Args): string => {
    const id = args.user;
    if (typeof id !== 'string' || !users.some((u) => u.id === id)) throw new SlackError('user_not_found');
    return id;
  };

  /** Text and blocks as chat.* validates them: one of the two, blocks valid, text not too long. */
  const content = (args: Args): { text?: string; blocks?: unknown[] } => {
    const text = typeof args.text === 'string' && args.text !== '' ? args.text : undefined;
    let blocks: unknown;
    if (args.blocks !== undefined) {
      blocks = typeof args.blocks === 'string' ? parseJson(args.blocks, 'invalid_blocks_format') : args.blocks;
      const problems = blockProblems(blocks);
      if (problems.length > 0) throw Object.assign(new SlackError('invalid_blocks'), { messages: problems });
    }
    if (text === undefined && (blocks === undefined || (blocks as unknown[]).length === 0)) throw new SlackError('no_text');
    if (text !== undefined && text.length > MAX_TEXT) throw new SlackError('msg_too_long');
    return { text, blocks: blocks as unknown[] | undefined };
  };

  const asMessage = (m: EmulatedMessage) => ({
    type: 'message',
    user: botUserId,
    bot_id: botId,
    text: m.text ?? '',
    ts: m.ts,
    ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    ...(m.blocks ? { blocks: m.blocks } : {}),
    team: teamId,
  });

  const methods: Record<string, (args: Args) => Record<string, unknown>> = {
    'auth.test': () => ({
      url: 'https://sandbox.slack.com/',
      team: 'Sandbox',
      user: 'backup-setup',
      team_id: teamId,
      user_id: botUserId,
      bot_id: botId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (args) => {
      const channel = channelOf(args);
      const body = content(args);
      const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
      if (threadTs !== undefined && !messages.some((m) => m.channel === channel && m.ts === threadTs)) {
        throw new SlackError('thread_not_found');
      }
      const message: EmulatedMessage = { channel, ts: nextTs(), threadTs, ...body, edits: 0 };
      messages.push(message);
      return { channel, ts: message.ts, message: asMessage(message) };
    },
    'chat.update': (args) => {
      const channel = channelOf(args);
      const message = messages.find((m) => m.channel === channel && m.ts === args.ts);
      if (!message) throw new SlackError('message_not_found');
      const body = content(args);
      message.text = body.text;
      message.blocks = body.blocks;
      message.edits += 1;
      return { channel, ts: message.ts, text: message.text ?? '', message: asMessage(message) };
    },
    'chat.postEphemeral': (args) => {
      const channel = channelOf(args);
      const user = userOf(args);
      const { text } = content(args);
      const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
      ephemerals.push({ channel, user, threadTs, text, via: 'chat.postEphemeral' });
      return { message_ts: nextTs() };
    },
    'users.info': (args) => {
      const user = users.find((u) => u.id === userOf(args))!;
      return { user: { id: user.id, team_id: teamId, name: user.name, real_name: user.name, is_bot: false, profile: { display_name: user.name } } };
    },
    'conversations.info': (args) => {
      const channel = channels.find((c) => c.id === channelOf(args))!;
      return { channel: { id: channel.id, name: channel.name, is_channel: true, is_member: true, is_archived: false } };
    },
    'usergroups.list': (args) => ({
      usergroups: userGroups.map((g) => ({
        id: g.id,
        team_id: teamId,
        handle: g.handle,
        name: g.handle,
        ...(args.include_users === 'true' || args.include_users === true ? { users: g.users, user_count: g.users.length } : {}),
      })),
    }),
  };

  async function handleApi(method: string, req: IncomingMessage, res: ServerResponse) {
    let args: Args;
    try {
      args = await readArgs(req);
    } catch (error) {
      if (!(error instanceof SlackError)) throw error;
      return fail(res, { method, args: {} }, error.message);
    }
    const call: RecordedCall = { method, args: withoutToken(args) };
    calls.push(call);
    const limit = rateLimits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      call.error = 'ratelimited';
      return sendJson(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit.retryAfter) });
    }
    const handler = methods[method];
    if (!handler) return fail(res, call, 'unknown_method');
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : args.token;
    if (token === undefined || token === '') return fail(res, call, 'not_authed');
    if (token !== options.token) return fail(res, call, 'invalid_auth');
    try {
      sendJson(res, 200, { ok: true, ...handler(args) });
    } catch (error) {
      if (!(error instanceof SlackError)) throw error;
      const messages = (error as SlackError & { messages?: string[] }).messages;
      fail(res, call, error.message, messages);
    }
  }

  async function handleResponseUrl(id: string, req: IncomingMessage, res: ServerResponse) {
    const target = responseUrls.get(id);
    if (!target) return sendJson(res, 404, { ok: false, error: 'expired_url' });
    if (target.uses >= RESPONSE_URL_USES) return sendJson(res, 404, { ok: false, error: 'used_url' });
    if (!String(req.headers['content-type']).startsWith('application/json')) {
      return sendJson(res, 400, { ok: false, error: 'invalid_payload' });
    }
    let body: Args;
    try {
      body = parseJson((await readBody(req)).toString('utf8'), 'invalid_payload') as Args;
    } catch {
      return sendJson(res, 400, { ok: false, error: 'invalid_payload' });
    }
    calls.push({ method: 'response_url', args: body });
    if (body.response_type !== undefined && body.response_type !== 'ephemeral' && body.response_type !== 'in_channel') {
      return sendJson(res, 400, { ok: false, error: 'invalid_response_type' });
    }
    let text: string | undefined;
    try {
      text = content(body).text;
    } catch (error) {
      return sendJson(res, 400, { ok: false, error: (error as Error).message });
    }
    target.uses += 1;
    if (body.response_type === 'in_channel') {
      const message: EmulatedMessage = { channel: target.channel, ts: nextTs(), text, edits: 0 };
      messages.push(message);
    } else {
      ephemerals.push({ channel: target.channel, user: target.user, text, via: 'response_url' });
    }
    sendJson(res, 200, { ok: true });
  }

  const server = await listen(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: 'method_not_allowed' });
    if (path.startsWith('/api/')) return handleApi(path.slice('/api/'.length), req, res);
    if (path.startsWith('/response/')) return handleResponseUrl(path.slice('/response/'.length), req, res);
    sendJson(res, 404, { ok: false, error: 'not_found' });
  });
  const base = `http://127.0.0.1:${server.port}`;

  return {
    url: `${base}/api/`,
    botUserId,
    botId,
    teamId,
    calls,
    messages,
    ephemerals,
    responseUrl(user, channel) {
      const id = randomBytes(12).toString('hex');
      responseUrls.set(id, { user, channel, uses: 0 });
      return `${base}/response/${id}`;
    },
    inject429(method, times, retryAfterSeconds) {
      rateLimits.set(method, { times, retryAfter: retryAfterSeconds });
    },
    close: () => server.close(),
  };
}

function fail(res: ServerResponse, call: RecordedCall, error: string, messages?: string[]) {
  call.error = error;
  sendJson(res, 200, { ok: false, error, ...(messages ? { response_metadata: { messages } } : {}) });
}

async function readArgs(req: IncomingMessage): Promise<Args> {
  const raw = (await readBody(req)).toString('utf8');
  const type = String(req.headers['content-type'] ?? '');
  if (type.startsWith('application/json')) {
    const body = parseJson(raw, 'invalid_json');
    // Slack ignores a token in a JSON body: JSON callers must use the Authorization header.
    const { token: _ignored, ...rest } = body as Args;
    return rest;
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

function parseJson(text: string, error: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new SlackError(error);
  }
}

function withoutToken(args: Args): Args {
  const { token: _token, ...rest } = args;
  return rest;
}
