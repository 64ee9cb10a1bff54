// The sandbox channel: every message and private note of the local chat page, kept in memory (and on
// disk when given a history) and streamed to each open page. It is also the web platform's ChatPort.
import type { ServerResponse } from 'node:http';
import { describeStep } from '../../../flows/steps.ts';
import { answerText, approvalFacts, decisionText, reminderText, type Fact } from '../approval-details.ts';
import type { ApprovalReply, ChatPort, Conversation, PostedMessage, Reply } from '../model.ts';
import type { ChannelHistory } from './history.ts';

/** A message as the page receives it. A thread is a message without threadId; its replies carry its id. */
export interface WebMessage {
  id: string;
  threadId: string | null;
  /** The person who typed it (a thread reply); null for the bot. */
  author: { id: string; name: string } | null;
  reply: Reply;
  /** Approvals only: the one-line description of the step, e.g. "Create RAM user `ack-backup-c-1`". */
  stepTitle: string | null;
  /** The texts every platform shows (src/chat/approval-details.ts), so the page renders them and writes none. */
  view?: WebView;
  at: string;
  editedAt: string | null;
}

export interface WebView {
  /** An approval's facts (risk and why, APIs, expiry, who asked), or the decided approval's. */
  facts?: Fact[];
  /** A decided approval: what was approved, and the line saying who decided and when. */
  decision?: string;
  /** An answered question: who chose what. */
  answer?: string;
  /** A reminder's text. */
  text?: string;
}

/** A private note, streamed only to the page of the person it is for. */
export interface WebNote {
  id: string;
  userId: string;
  threadId: string | null;
  text: string;
  at: string;
}

/** What a button on a message answers: kept from the last reply that had buttons, so a late click still reaches the runtime. */
export type ClickTarget =
  | { kind: 'approval'; sessionId: string; approvalId: string }
  | { kind: 'question'; sessionId: string; questionId: string }
  /** A session's top message: its Cancel button. */
  | { kind: 'status'; sessionId: string }
  /** An expired approval: its "Request again" button. */
  | { kind: 'again'; clusterId: string };

interface Viewer {
  userId: string;
  res: ServerResponse;
}

export class WebChannel implements ChatPort {
  readonly platform = 'web' as const;
  private readonly messages = new Map<string, WebMessage>();
  private readonly targets = new Map<string, ClickTarget>();
  private readonly notes: WebNote[] = [];
  private readonly viewers = new Set<Viewer>();
  private counter = 0;
  private readonly now: () => Date;
  private readonly history: ChannelHistory | null;

  constructor(now: () => Date = () => new Date(), history: ChannelHistory | null = null) {
    this.now = now;
    this.history = history;
    if (!history) return;
    const loaded = history.load();
    for (const message of loaded.messages) {
      this.messages.set(message.id, message);
      this.remember(message.id, message.reply);
    }
    this.notes.push(...loaded.notes);
    this.counter = Math.max(0, ...[...loaded.messages, ...loaded.notes].map((item) => sequence(item.id)));
  }

  async post(conversation: Conversation, reply: Reply): Promise<PostedMessage> {
    const message = this.add(conversation.threadId ?? null, null, reply);
    return { conversation, messageId: message.id };
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    const existing = this.messages.get(message.messageId);
    if (!existing) return;
    const updated: WebMessage = { ...existing, reply, stepTitle: stepTitleOf(reply), view: viewOf(reply), editedAt: this.now().toISOString() };
    this.messages.set(updated.id, updated);
    this.history?.message(updated);
    this.remember(updated.id, reply);
    this.broadcast('message', updated);
  }

  async tell(conversation: Conversation, userId: string, text: string): Promise<void> {
    const threadId = conversation.threadId && this.messages.has(conversation.threadId) ? conversation.threadId : null;
    const note: WebNote = { id: this.nextId('n'), userId, threadId, text, at: this.now().toISOString() };
    this.notes.push(note);
    this.history?.note(note);
    for (const viewer of this.viewers) if (viewer.userId === userId) send(viewer.res, 'note', note);
  }

  /** A person's text in a thread, shown to everyone like any chat message. */
  addThreadText(threadId: string, author: { id: string; name: string }, text: string): WebMessage {
    return this.add(threadId, author, { kind: 'text', text });
  }

  message(id: string): WebMessage | undefined {
    return this.messages.get(id);
  }

  clickTarget(messageId: string): ClickTarget | undefined {
    return this.targets.get(messageId);
  }

  /** Streams `reset`, the history (messages, and this person's notes), `ready`, then every change until the page goes away. */
  watch(userId: string, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    // Reconnecting pages receive the whole history again and rebuild their view from it.
    send(res, 'reset', {});
    const history: { order: string; event: 'message' | 'note'; data: WebMessage | WebNote }[] = [
      ...[...this.messages.values()].map((m) => ({ order: m.id, event: 'message' as const, data: m })),
      ...this.notes.filter((n) => n.userId === userId).map((n) => ({ order: n.id, event: 'note' as const, data: n })),
    ];
    history.sort((a, b) => sequence(a.order) - sequence(b.order));
    for (const item of history) send(res, item.event, item.data);
    send(res, 'ready', {});
    const viewer: Viewer = { userId, res };
    this.viewers.add(viewer);
    res.on('close', () => this.viewers.delete(viewer));
  }

  close(): void {
    for (const viewer of this.viewers) viewer.res.end();
    this.viewers.clear();
  }

  private add(threadId: string | null, author: WebMessage['author'], reply: Reply): WebMessage {
    // A reply to a reply belongs to the same thread: threads are one level deep, as in Slack.
    const root = threadId === null ? null : (this.messages.get(threadId)?.threadId ?? threadId);
    const message: WebMessage = {
      id: this.nextId('m'),
      threadId: root,
      author,
      reply,
      stepTitle: stepTitleOf(reply),
      view: viewOf(reply),
      at: this.now().toISOString(),
      editedAt: null,
    };
    this.messages.set(message.id, message);
    this.history?.message(message);
    this.remember(message.id, reply);
    this.broadcast('message', message);
    return message;
  }

  private remember(messageId: string, reply: Reply): void {
    if (reply.kind === 'approval') {
      this.targets.set(messageId, { kind: 'approval', sessionId: reply.sessionId, approvalId: reply.prompt.approvalId });
    } else if (reply.kind === 'question') {
      this.targets.set(messageId, { kind: 'question', sessionId: reply.sessionId, questionId: reply.prompt.questionId });
    } else if (reply.kind === 'status') {
      this.targets.set(messageId, { kind: 'status', sessionId: reply.sessionId });
    } else if (reply.kind === 'decided' && reply.again) {
      this.targets.set(messageId, { kind: 'again', clusterId: reply.again.clusterId });
    }
  }

  private broadcast(event: string, data: unknown): void {
    for (const viewer of this.viewers) send(viewer.res, event, data);
  }

  private nextId(prefix: 'm' | 'n'): string {
    return `${prefix}${++this.counter}`;
  }
}

function stepTitleOf(reply: Reply): string | null {
  const approval = reply.kind === 'approval' ? reply : reply.kind === 'decided' ? reply.shown : undefined;
  return approval ? describeStep(approval.prompt.request) : null;
}

function viewOf(reply: Reply): WebView {
  const facts = (approval: ApprovalReply) => ({ facts: approvalFacts(approval) });
  switch (reply.kind) {
    case 'approval':
      return facts(reply);
    case 'decided':
      return { ...(reply.shown ? facts(reply.shown) : {}), decision: decisionText(reply) };
    case 'answered':
      return { answer: answerText(reply) };
    case 'reminder':
      return { text: reminderText(reply) };
    default:
      return {};
  }
}

/** Messages and notes share one counter, so their ids order them. */
function sequence(id: string): number {
  return Number(id.slice(1));
}

function send(res: ServerResponse, event: string, data: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
