// The Slack adapter (Bolt 5): slash command, clicks and thread messages in, Block Kit messages out.
// HTTP mode is served by the app's one HTTP server (handleHttp); Socket Mode when an app token is set.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  App,
  LogLevel,
  type BlockAction,
  type Logger as BoltLogger,
  type RespondFn,
  type SlackActionMiddlewareArgs,
  type webApi,
} from '@slack/bolt';
import type { Command } from '../grammar.ts';
import type { ChatEvent, ChatEventHandler, ChatPort, Conversation, PostCheck, PostedMessage, Reply, TellActor } from '../model.ts';
import type { Logger } from '../../observability/logger.ts';
import { denyModal, renderDecidedApproval, renderNote, renderReply, type SlackMessage, ACTION, ANSWER_BLOCK_PREFIX, DENY_VIEW } from './blocks.ts';
import { SlackEventsReceiver } from './http-receiver.ts';
import { actionEvent, commandEvent, denySubmission, SLASH_COMMAND, stepOfApprovalMessage, threadTextEvent } from './inbound.ts';
import { truncate } from './mrkdwn.ts';
import { SlackSocketReceiver } from './socket-receiver.ts';
import { UserGroupDirectory } from './user-groups.ts';

export interface SlackAdapterOptions {
  botToken: string;
  /** HTTP mode (required unless appToken is set). */
  signingSecret?: string;
  /** Socket Mode when set. */
  appToken?: string;
  /** Web API base URL override (the emulator's, ending in /api/). */
  apiUrl?: string;
  handler: ChatEventHandler;
  logger: Logger;
  /** Retries of failed Web API calls (network errors, 5xx); 429s are always waited out. */
  retryConfig?: webApi.RetryOptions;
  /** APPROVERS: the `slack:S…` user groups among them are looked up with usergroups.users.list. */
  approvers?: readonly string[];
  /** Socket Mode reconnection backoff (tests shorten it). */
  socketBackoff?: { minMs: number; maxMs: number };
}

export interface SlackAdapter {
  port: ChatPort;
  /** POST /slack/events of the app's HTTP server (HTTP mode). */
  handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** HTTP mode is always ready; Socket Mode is ready while its WebSocket is connected. */
  connected(): boolean;
}

/** About a minute of backoff (1 s, 2 s, 4 s, 8 s, 16 s, 30 s) before a post is given up. */
const DEFAULT_RETRY: webApi.RetryOptions = { retries: 6, factor: 2, minTimeout: 1_000, maxTimeout: 30_000, randomize: true };
const NOT_TAKEN = "The bot could not take this right now (its database is unavailable), so nothing changed. Please try again in a minute.";
/** Approval messages kept so their decided version can repeat what was approved. */
const REMEMBERED_APPROVALS = 500;
/** A channel where posting worked is not asked about again for this long. */
const POSTABLE_TTL_MS = 60_000;
/** Commands whose answer is posted in the channel (the others answer the person only). */
const POSTING_VERBS = new Set<Command['verb']>(['setup', 'setup-region', 'status', 'verify', 'audit']);
/** Slack's answers to a post in a conversation the bot may not write to. */
const NOT_POSTABLE = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);

export function createSlackAdapter(options: SlackAdapterOptions): SlackAdapter {
  const logger = options.logger.child({ component: 'slack' });
  const boltLogger = toBoltLogger(logger);
  const clientOptions: webApi.WebClientOptions = {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    retryConfig: options.retryConfig ?? DEFAULT_RETRY,
    rejectRateLimitedCalls: false,
  };
  if (!options.appToken && !options.signingSecret) {
    throw new Error('Slack needs SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)');
  }
  const httpReceiver = options.appToken
    ? null
    : new SlackEventsReceiver({ signingSecret: options.signingSecret!, logger: boltLogger });
  // The socket has its own reconnection policy: the Web API retry config above is for posts only.
  const socketReceiver = options.appToken
    ? new SlackSocketReceiver({
        appToken: options.appToken,
        logger: boltLogger,
        ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
        ...(options.socketBackoff ? { backoff: options.socketBackoff } : {}),
      })
    : null;
  const app = new App({
    token: options.botToken,
    receiver: httpReceiver ?? socketReceiver!,
    logger: boltLogger,
    clientOptions,
    deferInitialization: true,
    // Sessions live in the store; Bolt's per-conversation state store would only cost time on every request.
    convoStore: false,
  });
  const client = app.client;
  const groups = new UserGroupDirectory({ client, groups: options.approvers ?? [], logger });
  const port = createPort(client, logger, groups);
  // Every event is stored (the handler resolves once it is) before Slack gets its acknowledgement, so
  // an acknowledged command or click survives a crash; the work goes on after the ack.
  // A command or click that cannot be stored is answered as not taken (Slack sends neither again).
  const accept = async (event: ChatEvent, tell: TellActor): Promise<boolean> => {
    try {
      await options.handler(event, tell);
      return true;
    } catch (error) {
      logger.error({ err: error, kind: event.kind }, 'a Slack event could not be stored');
      return false;
    }
  };

  app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
    const translated = commandEvent(command);
    if (!translated.ok) return ack({ response_type: 'ephemeral', ...renderNote(translated.error) });
    const { event } = translated;
    // A command works in any channel, but the bot can post only where it is a member: say so at once
    // instead of starting what nobody could see.
    if (event.kind === 'command' && POSTING_VERBS.has(event.command.verb)) {
      const check = await port.canPost!(event.conversation);
      if (!check.ok) return ack({ response_type: 'ephemeral', ...renderNote(check.reason) });
    }
    if (!(await accept(event, teller(port, logger, event.conversation, command.user_id, respond)))) {
      return ack({ response_type: 'ephemeral', text: NOT_TAKEN });
    }
    await ack();
  });

  const onAction = async ({ ack, body, action, respond }: SlackActionMiddlewareArgs<BlockAction>) => {
    const event = actionEvent(body, action);
    if (!event) {
      await ack();
      return logger.warn({ actionId: action.action_id }, 'ignored a click on an action that is not ours');
    }
    // Deny first asks for an optional reason in a modal; the decision comes with its submission. A
    // modal that cannot open (the trigger expired, Slack refused it) leaves the plain deny, as clicked.
    if (event.kind === 'decision' && event.decision === 'deny' && (await openDenyModal(body, event))) return ack();
    const taken = await accept(event, teller(port, logger, event.conversation, body.user.id, respond));
    await ack();
    if (!taken) await respond({ response_type: 'ephemeral', replace_original: false, text: NOT_TAKEN }).catch(() => undefined);
  };

  const openDenyModal = async (body: BlockAction, event: Extract<ChatEvent, { kind: 'decision' }>): Promise<boolean> => {
    const target = {
      sessionId: event.sessionId,
      approvalId: event.approvalId,
      channelId: event.conversation.channelId,
      threadTs: event.conversation.threadId ?? event.messageId,
      messageTs: event.messageId,
    };
    try {
      await client.views.open({ trigger_id: body.trigger_id, view: denyModal(target, stepOfApprovalMessage(body.message?.blocks)) });
      return true;
    } catch (error) {
      logger.warn({ err: error }, 'the deny reason modal did not open; the click denies without a reason');
      return false;
    }
  };

  app.view(DENY_VIEW.callbackId, async ({ ack, body, view }) => {
    const event = denySubmission(body.user.id, view);
    if (!event) {
      await ack();
      return logger.warn({ viewId: view.id }, 'ignored a deny modal submission that is not ours');
    }
    const taken = await accept(event, teller(port, logger, event.conversation, body.user.id, undefined));
    // response_action "errors" keeps the modal open with the message under the block (https://api.slack.com/surfaces/modals#displaying_errors).
    if (!taken) return ack({ response_action: 'errors', errors: { [DENY_VIEW.block]: NOT_TAKEN } });
    await ack();
  });
  app.action({ type: 'block_actions', action_id: new RegExp(`^(${ACTION.approve}|${ACTION.deny}|${ACTION.cancel}|${ACTION.again})$`) }, onAction);
  app.action({ type: 'block_actions', block_id: new RegExp(`^${ANSWER_BLOCK_PREFIX}`) }, onAction);

  // Bolt acknowledges Events API deliveries before the listener runs; both receivers hold the
  // acknowledgement until the listener is done, so the message is stored first.
  app.event('message', async ({ event }) => {
    if (event.subtype !== undefined) return;
    const translated = threadTextEvent(event);
    if (!translated) return;
    // Not caught: the Events API answer is then an error, and Slack delivers the message again.
    await options.handler(translated, teller(port, logger, translated.conversation, event.user, undefined));
  });

  // A listener that failed did not store its event: rethrown, so the receiver leaves it unacknowledged
  // (HTTP 500 / no envelope ack) and Slack delivers it again.
  app.error(async (error) => {
    logger.error({ err: error }, 'slack listener failed; the event is left for Slack to deliver again');
    throw error;
  });

  return {
    port,
    handleHttp: async (req, res) => {
      if (!httpReceiver) {
        res.writeHead(404).end();
        return;
      }
      await httpReceiver.handle(req, res);
    },
    start: async () => {
      await app.init();
      await app.start();
    },
    stop: async () => {
      await app.stop();
    },
    connected: () => socketReceiver?.connected() ?? true,
  };
}

/** Answers the one person who acted: through the response_url when there is one, else an ephemeral message. */
function teller(port: ChatPort, logger: Logger, conversation: Conversation, userId: string, respond: RespondFn | undefined): TellActor {
  return async (text) => {
    if (respond) {
      try {
        await respond({ response_type: 'ephemeral', replace_original: false, ...renderNote(text) });
        return;
      } catch (error) {
        logger.warn({ err: error }, 'response_url failed; falling back to an ephemeral message');
      }
    }
    await port.tell(conversation, `slack:${userId}`, text);
  };
}

type PostArgs = { channel: string; thread_ts?: string | undefined; unfurl_links: false; unfurl_media: false };
type Posted = { ok: true; ts: string } | { ok: false; code: string | undefined; error: unknown };

function createPort(client: webApi.WebClient, logger: Logger, groups: UserGroupDirectory): ChatPort {
  const approvals = new Map<string, SlackMessage>();
  const postable = new Map<string, number>();
  const remember = (ts: string, message: SlackMessage) => {
    approvals.set(ts, message);
    if (approvals.size > REMEMBERED_APPROVALS) approvals.delete(approvals.keys().next().value!);
  };

  const render = (messageId: string, reply: Reply): SlackMessage => {
    // The store's copy of what was shown comes first; this process's copy serves replies without one.
    const approval = reply.kind === 'decided' && !reply.shown ? approvals.get(messageId) : undefined;
    return approval && reply.kind === 'decided' ? renderDecidedApproval(approval, reply) : renderReply(reply).main;
  };

  /** One chat.postMessage; a message without blocks is plain text. */
  const postOne = async (args: PostArgs, message: { text: string; blocks?: SlackMessage['blocks'] }): Promise<Posted> => {
    try {
      const content = message.blocks && message.blocks.length > 0 ? message : { text: message.text };
      const result = await client.chat.postMessage({ ...args, ...content });
      return { ok: true, ts: result.ts! };
    } catch (error) {
      return { ok: false, code: slackErrorCode(error), error };
    }
  };

  /**
   * The reply's message, or a smaller form of it when Slack refuses its blocks: the approval's compact
   * form (still with its buttons), then plain text. A rendering problem must not silence the bot.
   */
  const postMain = async (args: PostArgs, reply: Reply, rendered: ReturnType<typeof renderReply>): Promise<Posted & { sent?: SlackMessage }> => {
    const forms: SlackMessage[] = [rendered.main, ...(rendered.compact ? [rendered.compact] : []), { text: rendered.main.text, blocks: [] }];
    let last: Posted = { ok: false, code: undefined, error: undefined };
    for (const form of forms) {
      last = await postOne(args, form);
      if (last.ok) return { ...last, sent: form };
      if (last.code !== 'invalid_blocks' && last.code !== 'msg_blocks_too_long') return last;
      logger.error({ err: last.error, kind: reply.kind, code: last.code }, 'Slack refused the blocks; posting a smaller form');
    }
    return last;
  };

  const port: ChatPort = {
    platform: 'slack',

    async post(conversation, reply): Promise<PostedMessage | null> {
      const rendered = renderReply(reply);
      const args: PostArgs = { channel: conversation.channelId, thread_ts: conversation.threadId, unfurl_links: false, unfurl_media: false };
      const main = await postMain(args, reply, rendered);
      if (!main.ok) return notice(conversation, reply, main.code);
      if (main.sent && reply.kind === 'approval') remember(main.ts, main.sent);
      postable.set(conversation.channelId, Date.now());
      const threadTs = conversation.threadId ?? main.ts;
      for (const [i, followUp] of rendered.followUps.entries()) {
        const sent = await postOne({ ...args, thread_ts: threadTs }, followUp);
        if (!sent.ok) {
          logger.error({ err: sent.error, kind: reply.kind, code: sent.code, part: i + 1 }, 'Slack refused a follow-up message');
          await postOne({ ...args, thread_ts: threadTs }, {
            text: `⚠️ Part ${i + 2} of this ${reply.kind} could not be posted (${sent.code ?? 'no answer'}); the bot's logs have it.`,
          });
        }
      }
      return { conversation: { ...conversation, threadId: threadTs }, messageId: main.ts };
    },

    async update(message, reply) {
      const rendered = render(message.messageId, reply);
      try {
        await client.chat.update({ channel: message.conversation.channelId, ts: message.messageId, ...rendered });
        if (reply.kind === 'decided') approvals.delete(message.messageId);
      } catch (error) {
        logger.warn({ err: error, kind: reply.kind, code: slackErrorCode(error) }, 'Slack update failed');
      }
    },

    async tell(conversation, userId, text) {
      const user = /^slack:(.+)$/.exec(userId)?.[1];
      if (!user) return logger.warn({ userId }, 'cannot tell a non-Slack user in Slack');
      try {
        await client.chat.postEphemeral({
          channel: conversation.channelId,
          user,
          ...renderNote(text),
          ...(conversation.threadId ? { thread_ts: conversation.threadId } : {}),
        });
      } catch (error) {
        logger.warn({ err: error, code: slackErrorCode(error) }, 'Slack ephemeral message failed');
      }
    },

    /**
     * Whether the bot can post in the channel: a member, or a public channel with chat:write.public
     * (conversations.info, scopes channels:read / groups:read). A failed probe does not block: the post
     * itself then says what is wrong.
     */
    async canPost(conversation): Promise<PostCheck> {
      const checkedAt = postable.get(conversation.channelId);
      if (checkedAt !== undefined && Date.now() - checkedAt < POSTABLE_TTL_MS) return { ok: true };
      try {
        const info = await client.conversations.info({ channel: conversation.channelId });
        const channel = info.channel;
        const publicWrite = !channel?.is_private && (info.response_metadata?.scopes ?? []).includes('chat:write.public');
        if (channel?.is_archived) return { ok: false, reason: 'This channel is archived, so the bot cannot post in it. Nothing was started.' };
        if (channel?.is_member || publicWrite) {
          postable.set(conversation.channelId, Date.now());
          return { ok: true };
        }
        return { ok: false, reason: notMemberReason(Boolean(channel?.is_private)) };
      } catch (error) {
        const code = slackErrorCode(error);
        if (code === 'channel_not_found') return { ok: false, reason: notMemberReason(true) };
        logger.warn({ err: error, code }, 'could not check whether the bot may post in a channel; trying anyway');
        return { ok: true };
      }
    },

    groupsOf: (userId) => groups.groupsOf(userId),
  };
  return port;

  /**
   * The reply could not be posted even in plain text. A short notice in its place says so (and is
   * returned in its stead, so a thread still has a parent); null only when nothing at all could be
   * posted. An approval's requester is also told privately.
   */
  async function notice(conversation: Conversation, reply: Reply, code: string | undefined): Promise<PostedMessage | null> {
    logger.error({ kind: reply.kind, code, channel: conversation.channelId }, 'Slack refused a message and its plain-text form');
    if (code !== undefined && NOT_POSTABLE.has(code)) postable.delete(conversation.channelId);
    const what = reply.kind === 'approval' ? `the approval of "${reply.title ?? reply.prompt.request.step}"` : `a ${reply.kind} message`;
    const text = `⚠️ The bot could not post ${what} here (Slack answered ${code ?? 'nothing'}). The bot's logs have the details.`;
    const args: PostArgs = { channel: conversation.channelId, thread_ts: conversation.threadId, unfurl_links: false, unfurl_media: false };
    const sent = await postOne(args, { text: truncate(text, 3000) });
    if (reply.kind === 'approval') await port.tell({ ...conversation, threadId: undefined }, reply.requester, text);
    return sent.ok ? { conversation: { ...conversation, threadId: conversation.threadId ?? sent.ts }, messageId: sent.ts } : null;
  }
}

function notMemberReason(privateOrDirect: boolean): string {
  const publicHint = privateOrDirect ? '' : ' (or give the app the `chat:write.public` scope, which lets it post in any public channel)';
  return (
    "I can't post in this conversation: the backup-setup app is not a member of it, so nobody would see the setup. " +
    `Invite it with \`/invite @backup-setup\`${publicHint}, then run the command again. Nothing was started.`
  );
}

function slackErrorCode(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

function toBoltLogger(logger: Logger): BoltLogger {
  const line = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : String(m))).join(' ');
  // Bolt logs on every request; its messages are only formatted when the level is on.
  return {
    debug: (...msg) => logger.isLevelEnabled('debug') && logger.debug(line(msg)),
    info: (...msg) => logger.isLevelEnabled('info') && logger.info(line(msg)),
    warn: (...msg) => logger.warn(line(msg)),
    error: (...msg) => logger.error(line(msg)),
    setLevel: () => undefined,
    getLevel: () => (logger.isLevelEnabled('debug') ? LogLevel.DEBUG : LogLevel.INFO),
    setName: () => undefined,
  };
}
