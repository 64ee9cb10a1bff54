// A strict local Slack Web API: the methods the bot calls, with Slack's token checks, argument errors,
// Block Kit validation (`invalid_blocks`, `msg_blocks_too_long`), channel membership (`not_in_channel`),
// granted scopes, 429 + Retry-After on demand, response_url endpoints and Socket Mode.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readBody, sendJson } from '../http.ts';
import { blockProblems, blocksTextLength, LIMITS, viewProblems } from './block-kit.ts';
import { SocketModeServer, type EnvelopeAck, type EnvelopeType } from './socket-mode.ts';

export interface EmulatedChannel {
  id: string;
  name: string;
  /** A private channel: a bot that is not a member cannot even see it (channel_not_found). */
  isPrivate?: boolean;
  /** Whether the bot is a member (invited with /invite @backup-setup). Default true. */
  botIsMember?: boolean;
}

export interface SlackApiOptions {
  token: string;
  /** The app-level token (xapp-…) that opens Socket Mode connections. */
  appToken?: string;
  /** Channels of the workspace; the bot is a member unless `botIsMember: false`. */
  channels?: EmulatedChannel[];
  users?: { id: string; name: string }[];
  userGroups?: { id: string; handle: string; users: string[] }[];
  /** The bot token's scopes (Slack reports them in the x-oauth-scopes header of every answer). */
  scopes?: string[];
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

/** A modal the app opened with views.open, for the person whose click gave the trigger. */
export interface EmulatedView {
  id: string;
  user: string;
  view: Record<string, unknown>;
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
  views: EmulatedView[];
  /** A trigger_id as Slack puts in an interaction payload of this user: exchangeable once, for 3 seconds. */
  issueTrigger(user: string): string;
  /** A response_url as Slack puts in a slash command or interaction payload, for this user and channel. */
  responseUrl(user: string, channel: string): string;
  inject429(method: string, times: number, retryAfterSeconds: number): void;
  /** Makes the next `times` calls of `method` fail with this Slack error code (e.g. "internal_error"). */
  injectError(method: string, error: string, times: number): void;
  /** Makes the whole Web API unreachable (connections refused by answering 503) until restored. */
  setOutage(down: boolean): void;
  /** Adds or removes the bot from a channel (as /invite or /kick would). */
  setMembership(channel: string, member: boolean): void;
  /** Socket Mode: deliver envelopes, ask for a refresh, drop sockets. */
  socket: SocketModeServer;
  /** Delivers an envelope over Socket Mode and resolves with the app's acknowledgement. */
  deliver(type: EnvelopeType, payload: Record<string, unknown>): Promise<EnvelopeAck>;
  close(): Promise<void>;
}

const DEFAULT_CHANNELS: EmulatedChannel[] = [{ id: 'C0BACKUPS', name: 'backups' }];
/** What the app's manifest (slack/manifest.yaml) grants the bot token. */
export const DEFAULT_SCOPES = ['chat:write', 'commands', 'channels:history', 'groups:history', 'channels:read', 'groups:read', 'usergroups:read'];
const DEFAULT_USERS = [
  { id: 'U0ALICE', name: 'alice' },
  { id: 'U0BOB', name: 'bob' },
];
/** Slack discards anything past this; longer texts are refused. */
const MAX_TEXT = 40_000;
/**
 * "trigger_id … expires in 3 seconds" and is exchanged once (https://api.slack.com/interactivity/handling#modal_responses;
 * views.open errors expired_trigger_id, exchanged_trigger_id, invalid_trigger_id with the format "132456.7890123.abcdef",
 * https://api.slack.com/methods/views.open#errors).
 */
const TRIGGER_TTL_MS = 3_000;
const TRIGGER_FORMAT = /^\d+\.\d+\.[0-9a-f]+$/;
/** "view_too_large: … greater than 250kb" (views.open#errors). */
const MAX_VIEW_BYTES = 250 * 1024;
/** A response_url accepts five posts within 30 minutes. */
const RESPONSE_URL_USES = 5;

type Args = Record<string, unknown>;
class SlackError extends Error {}

export async function startSlackApi(options: SlackApiOptions): Promise<SlackApi> {
  const channels = (options.channels ?? DEFAULT_CHANNELS).map((c) => ({ ...c, botIsMember: c.botIsMember ?? true }));
  const users = options.users ?? DEFAULT_USERS;
  const scopes = options.scopes ?? DEFAULT_SCOPES;
  const injected = new Map<string, { error: string; times: number }>();
  let outage = false;
  const userGroups = options.userGroups ?? [];
  const botUserId = 'U0BACKUPBOT';
  const botId = 'B0BACKUPBOT';
  const teamId = 'T0SANDBOX';
  const calls: RecordedCall[] = [];
  const messages: EmulatedMessage[] = [];
  const ephemerals: EmulatedEphemeral[] = [];
  const rateLimits = new Map<string, { times: number; retryAfter: number }>();
  const responseUrls = new Map<string, { user: string; channel: string; uses: number }>();
  const triggers = new Map<string, { user: string; issuedAt: number; exchanged: boolean }>();
  const views: EmulatedView[] = [];
  let tsCounter = 0;

  /** A method whose scope the token lacks answers missing_scope (https://api.slack.com/web#errors). */
  const requireScope = (scope: string): void => {
    if (!scopes.includes(scope)) throw Object.assign(new SlackError('missing_scope'), { needed: scope });
  };

  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++tsCounter).padStart(6, '0')}`;

  /** A channel the bot can see: any public one, or a private one it is a member of. */
  const channelOf = (args: Args): string => {
    const id = args.channel;
    const channel = channels.find((c) => c.id === id);
    if (typeof id !== 'string' || !channel || (channel.isPrivate && !channel.botIsMember)) throw new SlackError('channel_not_found');
    return id;
  };

  /**
   * Where the bot may write. chat.postMessage: "not_in_channel — Cannot post user messages to a channel
   * they are not in"; with the chat:write.public scope a bot may post in public channels it is not in
   * (https://api.slack.com/methods/chat.postMessage#errors, https://api.slack.com/scopes/chat:write.public).
   * Private channels and DMs without the bot answer channel_not_found (channelOf).
   */
  const writableChannelOf = (args: Args, method: string): string => {
    const id = channelOf(args);
    const channel = channels.find((c) => c.id === id)!;
    if (channel.botIsMember) return id;
    if (method === 'chat.postMessage' && !channel.isPrivate && scopes.includes('chat:write.public')) return id;
    throw new SlackError('not_in_channel');
  };

  const userOf = (args: Args): string => {
    const id = args.user;
    if (typeof id !== 'string' || !users.some((u) => u.id === id)) throw new SlackError('user_not_found');
    return id;
  };

  /** Text and blocks as chat.* validates them: one of the two, blocks valid, text not too long. */
  const content = (args: Args, via: 'chat' | 'response_url' = 'chat'): { text?: string; blocks?: unknown[] } => {
    const text = typeof args.text === 'string' && args.text !== '' ? args.text : undefined;
    let blocks: unknown;
    if (args.blocks !== undefined) {
      blocks = typeof args.blocks === 'string' ? parseJson(args.blocks, 'invalid_blocks_format') : args.blocks;
      const problems = blockProblems(blocks);
      if (problems.length > 0) throw Object.assign(new SlackError('invalid_blocks'), { messages: problems });
    }
    if (text === undefined && (blocks === undefined || (blocks as unknown[]).length === 0)) throw new SlackError('no_text');
    if (text !== undefined && text.length > MAX_TEXT) throw new SlackError('msg_too_long');
    // Undocumented cumulative limit: blocks whose texts add up to more than about 12,000 characters are
    // refused with msg_blocks_too_long (slackapi/bolt-js #2509: "12,000 text characters with a buffer for
    // block containers"; #2867: 11,341 characters of .text was refused). Stricter reading: 11,000.
    // The same blocks sent through a response_url are accepted (#2867), so only chat.* checks it.
    if (via === 'chat' && blocks !== undefined && blocksTextLength(blocks) > LIMITS.messageText) throw new SlackError('msg_blocks_too_long');
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
      const channel = writableChannelOf(args, 'chat.postMessage');
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
      const channel = writableChannelOf(args, 'chat.update');
      const message = messages.find((m) => m.channel === channel && m.ts === args.ts);
      if (!message) throw new SlackError('message_not_found');
      const body = content(args);
      message.text = body.text;
      message.blocks = body.blocks;
      message.edits += 1;
      return { channel, ts: message.ts, text: message.text ?? '', message: asMessage(message) };
    },
    'chat.postEphemeral': (args) => {
      const channel = writableChannelOf(args, 'chat.postEphemeral');
      const user = userOf(args);
      const { text } = content(args);
      const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
      ephemerals.push({ channel, user, threadTs, text, via: 'chat.postEphemeral' });
      return { message_ts: nextTs() };
    },
    'views.open': (args) => {
      const trigger = typeof args.trigger_id === 'string' ? args.trigger_id : '';
      if (!TRIGGER_FORMAT.test(trigger)) throw new SlackError('invalid_trigger_id');
      const issued = triggers.get(trigger);
      if (!issued) throw new SlackError('invalid_trigger_id');
      if (issued.exchanged) throw new SlackError('exchanged_trigger_id');
      if (Date.now() - issued.issuedAt > TRIGGER_TTL_MS) throw new SlackError('expired_trigger_id');
      const raw = typeof args.view === 'string' ? args.view : JSON.stringify(args.view ?? null);
      if (Buffer.byteLength(raw) > MAX_VIEW_BYTES) throw new SlackError('view_too_large');
      const view = parseJson(raw, 'invalid_arguments');
      const problems = viewProblems(view);
      if (problems.length > 0) throw Object.assign(new SlackError('invalid_arguments'), { messages: problems });
      issued.exchanged = true;
      const opened: EmulatedView = { id: `V${randomBytes(5).toString('hex').toUpperCase()}`, user: issued.user, view: view as Record<string, unknown> };
      views.push(opened);
      return { view: { ...opened.view, id: opened.id, team_id: teamId, state: { values: {} }, hash: `${Date.now()}.${randomBytes(4).toString('hex')}` } };
    },
    'users.info': (args) => {
      const user = users.find((u) => u.id === userOf(args))!;
      return { user: { id: user.id, team_id: teamId, name: user.name, real_name: user.name, is_bot: false, profile: { display_name: user.name } } };
    },
    // https://api.slack.com/methods/conversations.info: needs channels:read (public) or groups:read
    // (private); `is_member` says whether the bot is in it; a private channel without the bot is channel_not_found.
    'conversations.info': (args) => {
      const channel = channels.find((c) => c.id === channelOf(args))!;
      requireScope(channel.isPrivate ? 'groups:read' : 'channels:read');
      return {
        channel: {
          id: channel.id,
          name: channel.name,
          is_channel: !channel.isPrivate,
          is_group: Boolean(channel.isPrivate),
          is_private: Boolean(channel.isPrivate),
          is_member: channel.botIsMember,
          is_archived: false,
        },
      };
    },
    // https://api.slack.com/methods/usergroups.users.list: needs usergroups:read; `usergroup` is required;
    // an unknown group is no_such_subteam; answers {users: [user ids]}.
    'usergroups.users.list': (args) => {
      requireScope('usergroups:read');
      if (typeof args.usergroup !== 'string' || args.usergroup === '') throw new SlackError('invalid_arguments');
      const group = userGroups.find((g) => g.id === args.usergroup);
      if (!group) throw new SlackError('no_such_subteam');
      return { users: [...group.users] };
    },
    'usergroups.list': (args) => (requireScope('usergroups:read'), {
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
    if (outage) {
      call.error = 'outage';
      return sendJson(res, 503, { ok: false, error: 'service_unavailable' });
    }
    const limit = rateLimits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      call.error = 'ratelimited';
      return sendJson(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit.retryAfter) });
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : args.token;
    if (method === 'apps.connections.open') return connectionsOpen(res, call, token);
    const handler = methods[method];
    if (!handler) return fail(res, call, 'unknown_method');
    if (token === undefined || token === '') return fail(res, call, 'not_authed');
    if (token === options.appToken) return fail(res, call, 'not_allowed_token_type');
    if (token !== options.token) return fail(res, call, 'invalid_auth');
    const failure = injected.get(method);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      return fail(res, call, failure.error);
    }
    // Slack names the token's scopes in every answer (read by WebClient into response_metadata.scopes).
    const scopeHeader = { 'x-oauth-scopes': scopes.join(',') };
    try {
      sendJson(res, 200, { ok: true, ...handler(args) }, scopeHeader);
    } catch (error) {
      if (!(error instanceof SlackError)) throw error;
      const messages = (error as SlackError & { messages?: string[] }).messages;
      const needed = (error as SlackError & { needed?: string }).needed;
      call.error = error.message;
      sendJson(res, 200, { ok: false, error: error.message, ...(needed ? { needed } : {}), ...(messages ? { response_metadata: { messages } } : {}) }, scopeHeader);
    }
  }

  /**
   * apps.connections.open (https://api.slack.com/methods/apps.connections.open): only an app-level token
   * opens a connection; a bot token gets not_allowed_token_type, an unknown one invalid_auth.
   */
  function connectionsOpen(res: ServerResponse, call: RecordedCall, token: unknown) {
    if (token === undefined || token === '') return fail(res, call, 'not_authed');
    if (token === options.token) return fail(res, call, 'not_allowed_token_type');
    if (options.appToken === undefined || token !== options.appToken) return fail(res, call, 'invalid_auth');
    sendJson(res, 200, { ok: true, url: socket.issueUrl(`ws://127.0.0.1:${port}`) });
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
      text = content(body, 'response_url').text;
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

  const socket = new SocketModeServer({ appId: 'A0BACKUPSETUP' });
  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: 'method_not_allowed' });
    if (path.startsWith('/api/')) return handleApi(path.slice('/api/'.length), req, res);
    if (path.startsWith('/response/')) return handleResponseUrl(path.slice('/response/'.length), req, res);
    sendJson(res, 404, { ok: false, error: 'not_found' });
  };
  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'emulator_error', detail: String(error) });
      else res.destroy();
    });
  });
  server.on('upgrade', (req, sock, head) => socket.handleUpgrade(req, sock, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;

  return {
    url: `${base}/api/`,
    botUserId,
    botId,
    teamId,
    calls,
    messages,
    ephemerals,
    views,
    issueTrigger(user) {
      const id = `${Date.now()}.${Math.floor(Math.random() * 1e9)}.${randomBytes(8).toString('hex')}`;
      triggers.set(id, { user, issuedAt: Date.now(), exchanged: false });
      return id;
    },
    responseUrl(user, channel) {
      const id = randomBytes(12).toString('hex');
      responseUrls.set(id, { user, channel, uses: 0 });
      return `${base}/response/${id}`;
    },
    inject429(method, times, retryAfterSeconds) {
      rateLimits.set(method, { times, retryAfter: retryAfterSeconds });
    },
    injectError(method, error, times) {
      injected.set(method, { error, times });
    },
    setOutage(down) {
      outage = down;
    },
    setMembership(channel, member) {
      const found = channels.find((c) => c.id === channel);
      if (!found) throw new Error(`no channel ${channel}`);
      found.botIsMember = member;
    },
    socket,
    deliver: (type, payload) => socket.deliver(type, payload),
    async close() {
      await socket.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
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
