// Routes neutral replies to the chat port of the conversation's platform. Posting is best effort:
// a failed post is logged and never fails (or repeats) a cloud step.
import type { ChatPort, Conversation, Platform, PostedMessage, Reply } from '../chat/model.ts';
import type { Logger } from '../observability/logger.ts';

export class Speaker {
  private readonly ports = new Map<Platform, ChatPort>();
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  attach(port: ChatPort): void {
    this.ports.set(port.platform, port);
  }

  async post(conversation: Conversation, reply: Reply): Promise<PostedMessage | null> {
    const port = this.ports.get(conversation.platform);
    if (!port) {
      this.logger.warn({ platform: conversation.platform }, 'no chat port for platform; reply dropped');
      return null;
    }
    try {
      return await port.post(conversation, reply);
    } catch (error) {
      this.logger.warn({ err: error, platform: conversation.platform, kind: reply.kind }, 'chat post failed');
      return null;
    }
  }

  /** How to give a reason after a Deny on this platform, when its Deny takes none. */
  denyReasonHint(platform: Platform): string | undefined {
    return this.ports.get(platform)?.denyReasonHint;
  }

  /** The groups a person belongs to on their platform (Slack user groups), as approver ids. */
  async groupsOf(userId: string): Promise<string[]> {
    const platform = userId.slice(0, userId.indexOf(':')) as Platform;
    try {
      return (await this.ports.get(platform)?.groupsOf?.(userId)) ?? [];
    } catch (error) {
      this.logger.warn({ err: error, platform }, 'could not look up the groups of a person');
      return [];
    }
  }

  /** Tells one person only; for events handled after a restart, when the adapter's own reply channel is gone. */
  async tell(conversation: Conversation, userId: string, text: string): Promise<void> {
    try {
      await this.ports.get(conversation.platform)?.tell(conversation, userId, text);
    } catch (error) {
      this.logger.warn({ err: error, platform: conversation.platform }, 'chat tell failed');
    }
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    try {
      await this.ports.get(message.conversation.platform)?.update(message, reply);
    } catch (error) {
      this.logger.warn({ err: error, kind: reply.kind }, 'chat update failed');
    }
  }
}
