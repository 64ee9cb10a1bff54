// Turns DingTalk stream input (a robot message, a card button callback) into neutral chat events.
import { COMMAND_NAME, parseCommand } from '../grammar.ts';
import type { Actor, ChatEvent, Conversation } from '../model.ts';

/** conversationType of a robot message: '1' one-to-one, '2' group. */
const GROUP = '2';

export type RobotTranslation =
  | { kind: 'event'; event: ChatEvent }
  /** Not a command: the group gets the reason and the help text. */
  | { kind: 'notCommand'; error: string; conversation: Conversation; actor: Actor }
  /** A one-to-one chat with the robot: the reason for a denial (setups belong in a group, where the team sees them). */
  | { kind: 'private'; event: Extract<ChatEvent, { kind: 'privateText' }> }
  | { kind: 'ignored'; reason: string };

export function dingtalkActor(staffId: string, name?: string): Actor {
  return { id: `dingtalk:${staffId}`, name: name || staffId };
}

/** A message to the robot: `@bot backup-setup c-xxx` (DingTalk usually removes the @mention itself). */
export function robotMessage(data: Record<string, unknown>, deliveryId: string): RobotTranslation {
  const sender = str(data.senderStaffId) ?? str(data.senderId);
  const conversationId = str(data.conversationId);
  if (!sender || !conversationId) return { kind: 'ignored', reason: 'robot message without sender or conversation' };
  const actor = dingtalkActor(sender, str(data.senderNick));
  if (data.msgtype !== 'text') return { kind: 'ignored', reason: `robot message of type ${String(data.msgtype)}` };
  const content = str((data.text as { content?: unknown } | undefined)?.content) ?? '';
  if (data.conversationType !== GROUP) {
    const eventId = `dingtalk:msg:${str(data.msgId) ?? deliveryId}`;
    return { kind: 'private', event: { kind: 'privateText', eventId, text: content.trim(), actor, conversation: { platform: 'dingtalk', channelId: conversationId } } };
  }

  const conversation: Conversation = { platform: 'dingtalk', channelId: conversationId };
  const text = commandText(content);
  const parsed = parseCommand(text);
  if (!parsed.ok) return { kind: 'notCommand', error: parsed.error, conversation, actor };
  // msgId is the message's own id; a redelivery of the stream frame repeats it.
  const eventId = `dingtalk:msg:${str(data.msgId) ?? deliveryId}`;
  return { kind: 'event', event: { kind: 'command', eventId, command: parsed.command, text, actor, conversation } };
}

/** The words after the command name, without leading @mentions. */
export function commandText(content: string): string {
  const words = content.trim().split(/\s+/).filter(Boolean);
  while (words[0]?.startsWith('@')) words.shift();
  if (words[0] === COMMAND_NAME || words[0] === `/${COMMAND_NAME}`) words.shift();
  return words.join(' ');
}

/**
 * A click on a card button: the button's params (cardPrivateData.params) say what it answers.
 * `names` gives the display name of a staff id when the adapter has seen the person write.
 * Null when the click is not one of ours.
 */
export function cardCallback(
  data: Record<string, unknown>,
  deliveryId: string,
  names: (staffId: string) => string | undefined,
): ChatEvent | null {
  const outTrackId = str(data.outTrackId);
  const userId = str(data.userId);
  if (!outTrackId || !userId) return null;
  const content = typeof data.content === 'string' ? parseJson(data.content) : record(data.content);
  const params = record(record(content?.cardPrivateData)?.params);
  if (!params) return null;
  const sessionId = str(params.sessionId);
  const conversationId = str(params.conversationId) ?? str(data.openConversationId) ?? str(data.spaceId);
  const actorOf = () => dingtalkActor(userId, names(userId));
  if (params.kind === 'again' && conversationId) {
    const clusterId = str(params.clusterId);
    if (!clusterId) return null;
    // A new setup of the cluster in the group, as `@bot backup-setup <cluster-id>` would start it.
    return {
      kind: 'command',
      eventId: `dingtalk:callback:${deliveryId}`,
      command: { verb: 'setup', clusterIds: [clusterId] },
      text: clusterId,
      actor: actorOf(),
      conversation: { platform: 'dingtalk', channelId: conversationId },
    };
  }
  if (!sessionId || !conversationId) return null;
  const conversation: Conversation = {
    platform: 'dingtalk',
    channelId: conversationId,
    threadId: str(params.threadId) ?? outTrackId,
  };
  const actor = dingtalkActor(userId, names(userId));
  // A callback has no id of its own: the stream frame's messageId, which a redelivery repeats.
  const eventId = `dingtalk:callback:${deliveryId}`;

  if (params.kind === 'decision') {
    const approvalId = str(params.approvalId);
    const decision = params.decision;
    if (!approvalId || (decision !== 'approve' && decision !== 'deny')) return null;
    return { kind: 'decision', eventId, sessionId, approvalId, decision, actor, conversation, messageId: outTrackId };
  }
  if (params.kind === 'cancel') return { kind: 'cancel', eventId, sessionId, actor, conversation };
  if (params.kind === 'answer') {
    const questionId = str(params.questionId);
    const value = typeof params.value === 'string' ? params.value : undefined;
    if (!questionId || value === undefined) return null;
    return { kind: 'answer', eventId, sessionId, questionId, value, messageId: outTrackId, actor, conversation };
  }
  return null;
}

/** A stream message's data: a JSON object, or null. */
export function parseJson(text: string): Record<string, unknown> | null {
  try {
    return record(JSON.parse(text));
  } catch {
    return null;
  }
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
