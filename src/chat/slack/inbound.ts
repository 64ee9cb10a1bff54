// Turns Slack input (slash command, button click / select, thread message) into neutral chat events.
import type { SlashCommand, BlockAction, BlockElementAction, types } from '@slack/bolt';
import { parseCommand } from '../grammar.ts';
import type { Actor, ChatEvent, Conversation } from '../model.ts';
import { ACTION, ANSWER_BLOCK_PREFIX, DENY_VIEW } from './blocks.ts';

export const SLASH_COMMAND = '/backup-setup';

/** Slack renders a mention with the person's current name wherever the bot writes it. */
export function slackActor(userId: string): Actor {
  return { id: `slack:${userId}`, name: `<@${userId}>` };
}

export type CommandTranslation = { ok: true; event: ChatEvent } | { ok: false; error: string };

export function commandEvent(command: SlashCommand): CommandTranslation {
  const parsed = parseCommand(command.text);
  if (!parsed.ok) {
    const pointer = parsed.error.includes(`${SLASH_COMMAND} help`) ? '' : `\nType \`${SLASH_COMMAND} help\` for the full syntax.`;
    return { ok: false, error: `${parsed.error}${pointer}` };
  }
  return {
    ok: true,
    event: {
      kind: 'command',
      eventId: `slack:trigger:${command.trigger_id}`,
      command: parsed.command,
      text: command.text,
      actor: slackActor(command.user_id),
      conversation: { platform: 'slack', channelId: command.channel_id },
    },
  };
}

/** A click on Approve / Deny or an answer button / select; null when the action is not one of ours. */
export function actionEvent(body: BlockAction, action: BlockElementAction): ChatEvent | null {
  const channelId = body.channel?.id ?? body.container?.channel_id;
  const message = body.message;
  if (!channelId || !message) return null;
  const conversation: Conversation = {
    platform: 'slack',
    channelId,
    threadId: (message.thread_ts as string | undefined) ?? message.ts,
  };
  const actor = slackActor(body.user.id);

  if (action.action_id === ACTION.approve || action.action_id === ACTION.deny) {
    if (action.type !== 'button') return null;
    const value = parseJson(action.value);
    if (typeof value?.sessionId !== 'string' || typeof value.approvalId !== 'string') return null;
    return {
      kind: 'decision',
      eventId: `slack:trigger:${body.trigger_id}`,
      sessionId: value.sessionId,
      approvalId: value.approvalId,
      decision: action.action_id,
      actor,
      conversation,
      messageId: message.ts,
    };
  }

  if (action.action_id === ACTION.again) {
    if (action.type !== 'button') return null;
    const clusterId = parseJson(action.value)?.clusterId;
    if (typeof clusterId !== 'string') return null;
    // A new setup of the cluster, in a new thread of the channel, as `/backup-setup <cluster-id>` would start it.
    return {
      kind: 'command',
      eventId: `slack:trigger:${body.trigger_id}`,
      command: { verb: 'setup', clusterIds: [clusterId] },
      text: clusterId,
      actor,
      conversation: { platform: 'slack', channelId },
    };
  }

  if (action.action_id === ACTION.cancel) {
    if (action.type !== 'button') return null;
    const value = parseJson(action.value);
    if (typeof value?.sessionId !== 'string') return null;
    return { kind: 'cancel', eventId: `slack:trigger:${body.trigger_id}`, sessionId: value.sessionId, actor, conversation };
  }

  if (action.action_id.startsWith(ACTION.answerPrefix) && action.block_id.startsWith(ANSWER_BLOCK_PREFIX)) {
    const [sessionId, questionId] = action.block_id.slice(ANSWER_BLOCK_PREFIX.length).split(':');
    const value =
      action.type === 'button' ? action.value : action.type === 'static_select' ? action.selected_option?.value : undefined;
    if (!sessionId || !questionId || value === undefined) return null;
    return { kind: 'answer', eventId: `slack:trigger:${body.trigger_id}`, sessionId, questionId, value, messageId: message.ts, actor, conversation };
  }
  return null;
}

/** The step an approval message asks about, from its header ("Approval needed: …"). */
export function stepOfApprovalMessage(blocks: unknown): string {
  const header = Array.isArray(blocks) ? (blocks as { type?: string; text?: { text?: string } }[]).find((b) => b.type === 'header') : undefined;
  return header?.text?.text?.replace(/^Approval needed: /, '') || 'this step';
}

/** The submitted deny modal as a decision (with its reason); null when the view is not one of ours. */
export function denySubmission(userId: string, view: { id: string; private_metadata?: string; state?: { values?: Record<string, Record<string, { value?: string | null }>> } }): ChatEvent | null {
  const target = parseJson(view.private_metadata);
  const { sessionId, approvalId, channelId, threadTs, messageTs } = (target ?? {}) as Record<string, unknown>;
  if (![sessionId, approvalId, channelId, threadTs, messageTs].every((v) => typeof v === 'string' && v !== '')) return null;
  const reason = view.state?.values?.[DENY_VIEW.block]?.[DENY_VIEW.action]?.value ?? undefined;
  return {
    kind: 'decision',
    // A view is submitted once; a redelivery of the submission repeats its view id.
    eventId: `slack:view:${view.id}`,
    sessionId: sessionId as string,
    approvalId: approvalId as string,
    decision: 'deny',
    actor: slackActor(userId),
    conversation: { platform: 'slack', channelId: channelId as string, threadId: threadTs as string },
    messageId: messageTs as string,
    ...(reason ? { reason } : {}),
  };
}

/** A person's message inside a thread (a typed answer); null for top-level, bot, edited or system messages. */
export function threadTextEvent(message: types.GenericMessageEvent): ChatEvent | null {
  if (message.subtype !== undefined || message.bot_id !== undefined || !message.user) return null;
  if (!message.thread_ts || message.thread_ts === message.ts || !message.text) return null;
  return {
    kind: 'threadText',
    // A message is identified by its channel and ts; Slack's redeliveries of the event repeat both.
    eventId: `slack:message:${message.channel}:${message.ts}`,
    text: message.text,
    actor: slackActor(message.user),
    conversation: { platform: 'slack', channelId: message.channel, threadId: message.thread_ts },
  };
}

function parseJson(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
