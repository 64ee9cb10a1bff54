// A chat port that records every reply, as a chat platform would show them, for assertions.
import type { ChatPort, Conversation, PostedMessage, Reply } from '../../src/chat/model.ts';

export interface Recorded {
  messageId: string;
  conversation: Conversation;
  reply: Reply;
  /** Replies this message was updated with, in order. */
  updates: Reply[];
}

export class RecordingChat implements ChatPort {
  readonly platform = 'web' as const;
  readonly messages: Recorded[] = [];
  readonly told: { userId: string; text: string }[] = [];
  private counter = 0;
  private waiters: (() => void)[] = [];

  async post(conversation: Conversation, reply: Reply): Promise<PostedMessage> {
    const messageId = `m${++this.counter}`;
    this.messages.push({ messageId, conversation, reply, updates: [] });
    this.wake();
    return { conversation, messageId };
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    const found = this.messages.find((m) => m.messageId === message.messageId);
    if (!found) throw new Error(`update of unknown message ${message.messageId}`);
    found.updates.push(reply);
    this.wake();
  }

  async tell(_conversation: Conversation, userId: string, text: string): Promise<void> {
    this.told.push({ userId, text });
    this.wake();
  }

  /** A TellActor for events sent on behalf of userId. */
  tellerFor(userId: string) {
    return (text: string) => this.tell({ platform: 'web', channelId: 'test' }, userId, text);
  }

  replies<K extends Reply['kind']>(kind: K): Extract<Reply, { kind: K }>[] {
    return this.messages.map((m) => m.reply).filter((r): r is Extract<Reply, { kind: K }> => r.kind === kind);
  }

  /** Every text a person could read: posts, updates and private notes. */
  allText(): string {
    return JSON.stringify({ messages: this.messages, told: this.told });
  }

  /** Resolves when predicate holds, re-checking after every chat change. */
  async until<T>(predicate: () => T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`chat condition not met in ${timeoutMs} ms; last replies: ${this.tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  tail(count = 5): string {
    return JSON.stringify(this.messages.slice(-count).map((m) => m.reply));
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
