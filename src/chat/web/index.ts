// The sandbox's local chat page: a third chat platform, "web", served by the bot's one HTTP server.
// GET / is the page, GET /chat/events streams the channel (Server-Sent Events), and POST /chat/command,
// /chat/click and /chat/reply turn what people do on the page into neutral chat events.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../observability/logger.ts';
import { parseCommand } from '../grammar.ts';
import type { Actor, ChatEvent, ChatEventHandler, ChatPort, Conversation } from '../model.ts';
import { WebChannel } from './channel.ts';
import { ChannelHistory } from './history.ts';
import { pageAsset, renderPage, type GuideCluster } from './page.ts';

export interface WebUser {
  /** Platform-qualified, e.g. "web:approver" (what APPROVERS lists). */
  id: string;
  name: string;
  role: string;
}

export const DEFAULT_WEB_USERS: readonly WebUser[] = [
  { id: 'web:requester', name: 'Riley (requester)', role: 'requester' },
  { id: 'web:approver', name: 'Avery (approver)', role: 'approver' },
  // A second approver: a setup Avery requests needs someone else to approve it.
  { id: 'web:approver-2', name: 'Casey (second approver)', role: 'approver' },
  { id: 'web:bystander', name: 'Blake (not an approver)', role: 'bystander' },
];

/** The one channel of the page. */
export const WEB_CHANNEL: Conversation = { platform: 'web', channelId: 'sandbox' };

export interface WebChatOptions {
  handler: ChatEventHandler;
  logger: Logger;
  users?: WebUser[];
  now?: () => Date;
  /** The clusters the empty channel suggests (the sandbox's seeded ones). */
  guide?: readonly GuideCluster[];
  /** APPROVERS: the identities the page calls approvers. */
  approvers?: readonly string[];
  /** Keeps the channel's history in this file (under STATE_DIR), so a restart shows the same threads. */
  historyFile?: string;
}

export interface WebChat {
  port: ChatPort;
  /** Serves the page and its API; resolves to false for any other request. */
  handleHttp(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Ends every open event stream (they would otherwise keep the HTTP server from closing). */
  close(): void;
}

const MAX_BODY_BYTES = 64 * 1024;

export function createWebChat(options: WebChatOptions): WebChat {
  const users = (options.users ?? [...DEFAULT_WEB_USERS]).map((u) =>
    options.approvers ? { ...u, role: options.approvers.includes(u.id) ? 'approver' : u.role === 'approver' ? 'member' : u.role } : u,
  );
  const channel = new WebChannel(options.now, options.historyFile ? new ChannelHistory(options.historyFile) : null);
  const { handler, logger } = options;
  const page = renderPage(users, options.guide ?? []);

  function actorOf(userId: unknown): Actor | null {
    const user = users.find((u) => u.id === userId);
    return user ? { id: user.id, name: user.name } : null;
  }

  /** Hands the event to the runtime and answers the page once it is stored: the page never waits for the work. */
  async function accept(event: ChatEvent, res: ServerResponse) {
    const tellActor = (text: string) => channel.tell(event.conversation, event.actor.id, text);
    try {
      await handler(event, tellActor);
    } catch (error) {
      logger.error({ err: error, kind: event.kind }, 'a web chat event could not be stored');
      return fail(res, 503, 'The bot could not take this right now (its database is unavailable), so nothing changed. Try again in a minute.');
    }
    accepted(res);
  }

  async function command(body: Record<string, unknown>, actor: Actor, res: ServerResponse) {
    const text = requiredString(body, 'text', res);
    if (text === null) return;
    const parsed = parseCommand(text);
    if (!parsed.ok) {
      accepted(res);
      return void channel.tell(WEB_CHANNEL, actor.id, parsed.error);
    }
    await accept({ kind: 'command', eventId: newEventId(), command: parsed.command, text, actor, conversation: WEB_CHANNEL }, res);
  }

  async function click(body: Record<string, unknown>, actor: Actor, res: ServerResponse) {
    const messageId = requiredString(body, 'messageId', res);
    if (messageId === null) return;
    const message = channel.message(messageId);
    const target = channel.clickTarget(messageId);
    if (!message || !target) return fail(res, 404, `Message ${messageId} has no buttons to click.`);
    const conversation: Conversation = { ...WEB_CHANNEL, threadId: message.threadId ?? message.id };
    const action = body.action;
    if ((action === 'approve' || action === 'deny') && target.kind === 'approval') {
      const { sessionId, approvalId } = target;
      const reason = action === 'deny' && typeof body.reason === 'string' && body.reason.trim() !== '' ? { reason: body.reason } : {};
      return accept({ kind: 'decision', eventId: newEventId(), sessionId, approvalId, decision: action, actor, conversation, messageId, ...reason }, res);
    }
    if (action === 'answer' && target.kind === 'question') {
      const value = requiredString(body, 'value', res);
      if (value === null) return;
      const { sessionId, questionId } = target;
      return accept({ kind: 'answer', eventId: newEventId(), sessionId, questionId, value, messageId, actor, conversation }, res);
    }
    if (action === 'cancel' && target.kind === 'status') {
      return accept({ kind: 'cancel', eventId: newEventId(), sessionId: target.sessionId, actor, conversation }, res);
    }
    if (action === 'again' && target.kind === 'again') {
      const command = { verb: 'setup' as const, clusterIds: [target.clusterId] };
      return accept({ kind: 'command', eventId: newEventId(), command, text: `/backup-setup ${target.clusterId}`, actor, conversation: WEB_CHANNEL }, res);
    }
    const expected = { approval: '"approve" or "deny"', question: '"answer"', status: '"cancel"', again: '"again"' }[target.kind];
    fail(res, 400, `"action" must be ${expected} for message ${messageId}.`);
  }

  async function reply(body: Record<string, unknown>, actor: Actor, res: ServerResponse) {
    const threadId = requiredString(body, 'threadId', res);
    if (threadId === null) return;
    const text = requiredString(body, 'text', res);
    if (text === null) return;
    if (!channel.message(threadId)) return fail(res, 404, `There is no thread ${threadId}.`);
    const posted = channel.addThreadText(threadId, actor, text);
    await accept({ kind: 'threadText', eventId: `web:message:${posted.id}`, text, actor, conversation: { ...WEB_CHANNEL, threadId: posted.threadId ?? threadId } }, res);
  }

  const actions = { '/chat/command': command, '/chat/click': click, '/chat/reply': reply } as const;

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/') {
      respond(res, 200, 'text/html; charset=utf-8', page);
      return true;
    }
    if (req.method === 'GET' && path === '/chat/events') {
      const actor = actorOf(url.searchParams.get('user'));
      if (!actor) fail(res, 400, unknownUser(url.searchParams.get('user'), users));
      else channel.watch(actor.id, res);
      return true;
    }
    const asset = req.method === 'GET' ? pageAsset(path) : undefined;
    if (asset) {
      respond(res, 200, asset.contentType, asset.body);
      return true;
    }
    if (req.method === 'POST' && Object.hasOwn(actions, path)) {
      await perform(actions[path as keyof typeof actions], req, res);
      return true;
    }
    return false;
  }

  async function perform(action: (typeof actions)[keyof typeof actions], req: IncomingMessage, res: ServerResponse) {
    const body = await readJson(req);
    if (typeof body === 'string') return fail(res, 400, body);
    const actor = actorOf(body.user);
    if (!actor) return fail(res, 400, unknownUser(body.user, users));
    await action(body, actor, res);
  }

  return { port: channel, handleHttp, close: () => channel.close() };
}

/** The parsed JSON object, or why the body is not one. */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return `The request body is larger than ${MAX_BODY_BYTES} bytes.`;
    chunks.push(chunk as Buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // falls through to the message below
  }
  return 'The request body must be a JSON object.';
}

function requiredString(body: Record<string, unknown>, field: string, res: ServerResponse): string | null {
  const value = body[field];
  if (typeof value === 'string' && value.trim() !== '') return value;
  fail(res, 400, `"${field}" must be a non-empty string.`);
  return null;
}

function unknownUser(value: unknown, users: WebUser[]): string {
  return `Unknown user ${JSON.stringify(value ?? null)}: use one of ${users.map((u) => u.id).join(', ')}.`;
}

/** The page sends each action once (no redelivery), so every POST is a new event. */
function newEventId(): string {
  return `web:${randomUUID()}`;
}

function accepted(res: ServerResponse) {
  respond(res, 202, 'application/json', JSON.stringify({ ok: true }));
}

function fail(res: ServerResponse, status: number, error: string) {
  respond(res, status, 'application/json', JSON.stringify({ ok: false, error }));
}

function respond(res: ServerResponse, status: number, contentType: string, body: string) {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
