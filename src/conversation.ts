// Where a conversation lives, in words every layer shares (chat adapters, sessions, the store). It
// names no platform API: storage and sessions know a conversation only by these fields.

export type Platform = 'slack' | 'dingtalk' | 'web';

/** A channel (or group) and, once started, the thread under its first message. */
export interface Conversation {
  platform: Platform;
  channelId: string;
  /** Slack thread ts / DingTalk card instance id / web message id. Absent for a top-level command. */
  threadId?: string;
}

/** A message the bot posted, so it can be updated later (an approval after its decision). */
export interface PostedMessage {
  conversation: Conversation;
  messageId: string;
}
