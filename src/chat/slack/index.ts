// The Slack adapter (Bolt 5): slash command, clicks and thread messages in, Block Kit messages out.
// HTTP mode is served by the app's one HTTP server (handleHttp); Socket Mode when an app token is set.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  App,
  LogLevel,
  SocketModeReceiver,
  type BlockAction,
  type Logger as BoltLogger,
  type RespondFn,
  type SlackActionMiddlewareArgs,
  type webApi,
} from '@slack/bolt';
import type { UserId } from '../../../flows/contract.ts';
import type { ChatEvent, ChatEventHandler, ChatPort, Conversation, PostedMessage, Reply, TellActor } from '../model.ts';
import type { Logger } from '../../observability/logger.ts';
import { renderDecidedApproval, renderReply, type SlackMessage, ACTION, ANSWER_BLOCK_PREFIX } from './blocks.ts';
import { SlackEventsReceiver } from './http-receiver.ts';
import { actionEvent, commandEvent, SLASH_COMMAND, threadTextEvent } from './inbound.ts';
import { escapeMrkdwn } from './mrkdwn.ts';
import { slackUserGroupsOf } from './user-groups.ts';

export { slackUserGroupsOf };

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
}

export interface SlackAdapter {
  port: ChatPort;
  /** POST /slack/events of the app's HTTP server (HTTP mode). */
  handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The Slack user groups of a person, as approver ids (`slack:S…`). */
  userGroupsOf(userId: UserId): Promise<UserId[]>;
}

/** About a minute of backoff (1 s, 2 s, 4 s, 8 s, 16 s, 30 s) before a post is given up. */
const DEFAULT_RETRY: webApi.RetryOptions = { retries: 6, factor: 2, minTimeout: 1_000, maxTimeout: 30_000, randomize: true };
const NOT_TAKEN = "The bot could not take this right now (its database is unavailable), so nothing changed. Please try again in a minute.";
/** Approval messages kept so their decided version can repeat what was approved. */
const REMEMBERED_APPROVALS = 500;

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
  const receiver =
    httpReceiver ??
    new SocketModeReceiver({
      appToken: options.appToken!,
      logger: boltLogger,
      installerOptions: { clientOptions },
    });
  const app = new App({
    token: options.botToken,
    receiver,
    logger: boltLogger,
    clientOptions,
    deferInitialization: true,
    // Sessions live in the store; Bolt's per-conversation state store would only cost time on every request.
    convoStore: false,
  });
  const client = app.client;
  const port = createPort(client, logger);
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
    if (!translated.ok) return ack({ response_type: 'ephemeral', text: escapeMrkdwn(translated.error) });
    if (!(await accept(translated.event, teller(port, logger, translated.event.conversation, command.user_id, respond)))) {
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
    const taken = await accept(event, teller(port, logger, event.conversation, body.user.id, respond));
    await ack();
    if (!taken) await respond({ response_type: 'ephemeral', replace_original: false, text: NOT_TAKEN }).catch(() => undefined);
  };
  app.action({ type: 'block_actions', action_id: new RegExp(`^(${ACTION.approve}|${ACTION.deny})$`) }, onAction);
  app.action({ type: 'block_actions', block_id: new RegExp(`^${ANSWER_BLOCK_PREFIX}`) }, onAction);

  // Bolt acknowledges Events API deliveries before the listener runs; the HTTP receiver holds the
  // response until the listener is done (processBeforeResponse), so the message is stored first.
  app.event('message', async ({ event }) => {
    if (event.subtype !== undefined) return;
    const translated = threadTextEvent(event);
    if (!translated) return;
    // Not caught: the Events API answer is then an error, and Slack delivers the message again.
    await options.handler(translated, teller(port, logger, translated.conversation, event.user, undefined));
  });

  app.error(async (error) => {
    logger.error({ err: error }, 'slack listener failed');
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
    userGroupsOf: (userId) => slackUserGroupsOf(client, userId),
  };
}

/** Answers the one person who acted: through the response_url when there is one, else an ephemeral message. */
function teller(port: ChatPort, logger: Logger, conversation: Conversation, userId: string, respond: RespondFn | undefined): TellActor {
  return async (text) => {
    if (respond) {
      try {
        await respond({ response_type: 'ephemeral', replace_original: false, text: escapeMrkdwn(text) });
        return;
      } catch (error) {
        logger.warn({ err: error }, 'response_url failed; falling back to an ephemeral message');
      }
    }
    await port.tell(conversation, `slack:${userId}`, text);
  };
}

function createPort(client: webApi.WebClient, logger: Logger): ChatPort {
  const approvals = new Map<string, SlackMessage>();
  const remember = (ts: string, message: SlackMessage) => {
    approvals.set(ts, message);
    if (approvals.size > REMEMBERED_APPROVALS) approvals.delete(approvals.keys().next().value!);
  };

  const render = (messageId: string, reply: Reply): SlackMessage => {
    const approval = reply.kind === 'decided' ? approvals.get(messageId) : undefined;
    return approval && reply.kind === 'decided' ? renderDecidedApproval(approval, reply) : renderReply(reply);
  };

  return {
    platform: 'slack',

    async post(conversation, reply): Promise<PostedMessage | null> {
      const message = renderReply(reply);
      const args = { channel: conversation.channelId, thread_ts: conversation.threadId, unfurl_links: false, unfurl_media: false };
      try {
        const result = await client.chat.postMessage({ ...args, ...message }).catch(async (error: unknown) => {
          if (slackErrorCode(error) !== 'invalid_blocks') throw error;
          // A rendering bug must not silence the bot: say it in plain text instead.
          logger.error({ err: error, kind: reply.kind }, 'Slack refused the blocks; posting plain text');
          return client.chat.postMessage({ ...args, text: message.text });
        });
        const ts = result.ts!;
        if (reply.kind === 'approval') remember(ts, message);
        return { conversation: { ...conversation, threadId: conversation.threadId ?? ts }, messageId: ts };
      } catch (error) {
        logger.warn({ err: error, kind: reply.kind, code: slackErrorCode(error) }, 'Slack post failed');
        return null;
      }
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
          text: escapeMrkdwn(text),
          ...(conversation.threadId ? { thread_ts: conversation.threadId } : {}),
        });
      } catch (error) {
        logger.warn({ err: error, code: slackErrorCode(error) }, 'Slack ephemeral message failed');
      }
    },
  };
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
