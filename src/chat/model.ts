// The neutral chat model: what every platform adapter turns its input into, and what it renders.
import type { Prompt, StepOutcome, UserId } from '../../flows/contract.ts';
import type { Conversation, Platform, PostedMessage } from '../conversation.ts';
import type { Command } from './grammar.ts';

export type { Conversation, Platform, PostedMessage };

export interface Actor {
  /** Platform-qualified, e.g. "slack:U012AB". */
  id: UserId;
  name: string;
}

/** What every inbound event carries. */
interface Inbound {
  /**
   * The platform's own id of this delivery (a Slack trigger_id, a DingTalk msgId, …), prefixed with
   * the platform. A redelivery repeats it, so the inbox keeps the event once.
   */
  eventId: string;
  actor: Actor;
  conversation: Conversation;
}

/** Inbound, platform-neutral. */
export type ChatEvent = Inbound &
  (
    | { kind: 'command'; command: Command; text: string }
    | {
        kind: 'answer';
        sessionId: string;
        questionId: string;
        value: string;
        /** The question's message, when the answer is a click on it. */
        messageId?: string;
      }
    | {
        kind: 'decision';
        sessionId: string;
        approvalId: string;
        decision: 'approve' | 'deny';
        /** The message carrying the buttons: the decision is bound to it, and it is updated afterwards. */
        messageId: string;
        /** Why it was denied, when the approver said (a Slack modal, the page's field). */
        reason?: string;
      }
    /** A person's private message to the bot (DingTalk one-to-one chat): the reason for a denial just made. */
    | { kind: 'privateText'; text: string }
    /** The Cancel button of a session's top message. */
    | { kind: 'cancel'; sessionId: string }
    /** Free text typed in a session's thread (a typed answer); the runtime finds the session by thread. */
    | { kind: 'threadText'; text: string }
  );

export type QuestionPrompt = Extract<Prompt, { kind: 'question' }>;

/**
 * Outbound, platform-neutral. Every text is written with the inline marks of flows/domain/inline.js:
 * identifiers as code spans (`code()`), people (`person()`) and times (`time()`) as tokens.
 */
export type Reply =
  | { kind: 'text'; text: string }
  | { kind: 'help'; text: string }
  | { kind: 'plan'; title: string; lines: string[] }
  | {
      kind: 'question';
      sessionId: string;
      prompt: QuestionPrompt;
    }
  | {
      kind: 'approval';
      sessionId: string;
      prompt: Extract<Prompt, { kind: 'approval' }>;
      /** The step's title from the executor's step metadata (e.g. "Create RAM user"). */
      title?: string;
      /** A fleet approval: every cluster this one decision covers (the changes are listed per cluster). */
      covers?: string[];
      /** From the executor's step metadata. */
      risk: 'low' | 'medium' | 'high';
      /** Why the step has its risk, in one line ("creates a long-lived AccessKey …"). */
      riskReason?: string;
      apis: string[];
      expiresAt: string;
      requester: UserId;
    }
  | {
      kind: 'decided';
      approvalId: string;
      title: string;
      /** `closed`: the setup ended (cancelled, failed, replaced) before anybody decided. */
      decision: 'approved' | 'denied' | 'expired' | 'closed';
      by: string;
      at: string;
      /** The approval exactly as it was shown (kept in the store), so the decided message repeats what was decided. */
      shown?: ApprovalReply;
      /** Why it was denied, or why it closed. */
      reason?: string;
      /** An expired approval: a "Request again" button starts the setup of this cluster again. */
      again?: { clusterId: string };
    }
  /** Before an approval expires: the approvers are reminded, in its thread. */
  | { kind: 'reminder'; title: string; expiresAt: string; approvers: UserId[] }
  /** A question after its answer (who chose what), or after the setup ended without one: no buttons. */
  | {
      kind: 'answered';
      prompt: QuestionPrompt;
      /** `subject`: what the value names ("bucket"), when it is a resource name shown as code. */
      answer: { value: string; label: string; by: string; subject?: string } | null;
      /** Why it closed unanswered. */
      reason?: string;
    }
  /**
   * A session's top message, updated as it goes: where it is now (step k of n, waiting on whom), then
   * how it ended. `text` says it in one line, without people (the notification text).
   */
  | {
      kind: 'status';
      sessionId: string;
      clusterId: string;
      /** "Backup center setup" or "Test backup". */
      title: string;
      text: string;
      requester: UserId;
      startedAt: string;
      lines: string[];
      /** The people the setup waits on now (the requester for a question, the approvers for an approval). */
      waitingOn: UserId[];
      /** While it runs: the thread's Cancel button. */
      cancellable: boolean;
    }
  | { kind: 'progress'; text: string }
  | { kind: 'result'; outcome: StepOutcome }
  | { kind: 'done'; ok: boolean; text: string }
  | { kind: 'error'; text: string; correlationId?: string };

/** How long after a Deny its reason can still be sent, where Deny takes none (DingTalk). */
export const DENY_REASON_MINUTES = 10;

/** Whether the bot can post in a conversation; when not, `reason` says why and how to fix it. */
export type PostCheck = { ok: true } | { ok: false; reason: string };

/** What the session runtime needs from a platform adapter. Best effort: adapters retry, never throw on post. */
export interface ChatPort {
  readonly platform: Platform;
  /** Posts in the conversation (in its thread when threadId is set). Returns the new message's id. */
  post(conversation: Conversation, reply: Reply): Promise<PostedMessage | null>;
  /** Replaces a message (e.g. an approval after the decision: who, when, no buttons). */
  update(message: PostedMessage, reply: Reply): Promise<void>;
  /** Tells one person only (Slack ephemeral / response URL; DingTalk private message). */
  tell(conversation: Conversation, userId: UserId, text: string): Promise<void>;
  /**
   * Whether a post in the conversation can be seen (Slack: the bot is a member). Absent means always.
   * Post failures stay best effort: post() returns null when nothing at all could be posted.
   */
  canPost?(conversation: Conversation): Promise<PostCheck>;
  /**
   * How to give a reason after a Deny, on a platform whose Deny takes none (DingTalk's card has no text
   * input); absent when Deny asks for it itself.
   */
  readonly denyReasonHint?: string;
  /**
   * The approver groups (e.g. `slack:S…` user groups named in APPROVERS) the person belongs to, looked
   * up by the platform with a short cache. Absent means the platform has no groups.
   */
  groupsOf?(userId: UserId): Promise<UserId[]>;
}

/** Lets a handler answer the one person who acted (Slack ephemeral / response_url; DingTalk private). */
export type TellActor = (text: string) => Promise<void>;

/**
 * The session runtime's entry point, called by every adapter for every inbound event. It resolves
 * once the event is durably accepted (stored in the inbox), before any of its work is done, so the
 * adapter acknowledges the platform only then: an acknowledged event is never lost. It never throws
 * for a failure of the work itself: those become a reply with a correlation id.
 */
export type ChatEventHandler = (event: ChatEvent, tellActor: TellActor) => Promise<void>;

export type ApprovalReply = Extract<Reply, { kind: 'approval' }>;
