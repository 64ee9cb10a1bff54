// Plays the people of a Slack workspace against a running bot: signed slash commands and clicks sent
// to /slack/events, messages read back from the local Slack Web API.
import type { EmulatedMessage, EmulatedView, SlackApi } from '../../src/sandbox/slack/api.ts';
import { blockActions, FORM, send, signed, slashCommand, viewSubmission, type ClickedMessage } from '../slack/slack-requests.ts';

export const CHANNEL = 'C0BACKUPS';

type Element = { type: string; action_id: string; value?: string; options?: { value: string }[]; initial_option?: { value: string } };
type Block = { type: string; block_id?: string; elements?: Element[] };

export const actionsOf = (m: EmulatedMessage) => ((m.blocks ?? []) as Block[]).filter((b) => b.type === 'actions');
export const isApproval = (m: EmulatedMessage) => actionsOf(m).some((b) => b.block_id?.startsWith('approval:'));
export const isQuestion = (m: EmulatedMessage) => actionsOf(m).some((b) => b.block_id?.startsWith('answer:'));
/** The session's closing message (step results also start with ✅, so the completion is matched in full). */
export const isClosing = (m: EmulatedMessage) => /^(✅ Backup center setup complete|❌|🛑|⌛)/.test(m.text ?? '');

/** HTTP mode (signed POSTs to /slack/events) or Socket Mode (envelopes on the app's WebSocket). */
export type Transport = 'http' | 'socket';

export class SlackDriver {
  readonly api: SlackApi;
  /** Where /slack/events is; may change when the bot restarts. */
  eventsUrl: string;
  readonly transport: Transport;

  constructor(api: SlackApi, eventsUrl: string, transport: Transport = 'http') {
    this.api = api;
    this.eventsUrl = eventsUrl;
    this.transport = transport;
  }

  /** A form body as Slack sends it over HTTP, or its fields as the payload of a Socket Mode envelope. */
  private async deliver(form: string, type: 'slash_commands' | 'interactive', url: string): Promise<{ status: number; body: string }> {
    if (this.transport === 'http') return send(url, signed(form, FORM));
    const fields = Object.fromEntries(new URLSearchParams(form));
    const payload = type === 'interactive' ? (JSON.parse(fields.payload!) as Record<string, unknown>) : fields;
    const ack = await this.api.deliver(type, payload);
    return { status: ack.acked ? 200 : 504, body: ack.payload ? JSON.stringify(ack.payload) : '' };
  }

  command(text: string, user: string, url = this.eventsUrl, channel = CHANNEL) {
    const body = slashCommand({ text, user, channel, responseUrl: this.api.responseUrl(user, channel) });
    return this.deliver(body, 'slash_commands', url);
  }

  /** Clicks a button (or picks the suggested option of a select) on a message, as `user`. */
  click(m: EmulatedMessage, actionId: 'approve' | 'deny' | 'cancel_session' | 'first', user: string, url = this.eventsUrl) {
    // Slack puts the block's block_id on every action of a block_actions payload.
    const elements = actionsOf(m).flatMap((b) => (b.elements ?? []).map((e) => ({ ...e, block_id: b.block_id })));
    const element = actionId === 'first' ? elements[0] : elements.find((e) => e.action_id === actionId);
    if (!element) throw new Error(`message ${m.ts} has no ${actionId} action`);
    if (element.type === 'static_select' && element.initial_option) {
      // Slack sends block_actions for a select only when the selection changes: picking the option it
      // already shows sends nothing (https://api.slack.com/reference/interaction-payloads/block-actions).
      throw new Error(`message ${m.ts}: the suggested option is pre-selected in its select, so it cannot be picked`);
    }
    const action = element.type === 'static_select' ? { ...element, selected_option: element.options![0] } : element;
    const message: ClickedMessage = { ts: m.ts, threadTs: m.threadTs, blocks: m.blocks, text: m.text };
    const triggerId = this.api.issueTrigger(user);
    return this.deliver(blockActions({ user, channel: CHANNEL, message, action, responseUrl: this.api.responseUrl(user, CHANNEL), triggerId }), 'interactive', url);
  }

  /** Submits a modal the bot opened, with what the person typed (block_id → action_id → value). */
  submit(view: EmulatedView, values: Record<string, Record<string, string | null>>, url = this.eventsUrl) {
    return this.deliver(viewSubmission({ user: view.user, view, values }), 'interactive', url);
  }

  async until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) {
        throw new Error(`${what} did not happen in ${timeoutMs} ms; last messages: ${JSON.stringify(this.api.messages.slice(-3).map((m) => m.text))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  parentOf(clusterId: string) {
    return this.until(`the thread of ${clusterId}`, () => this.api.messages.findLast((m) => !m.threadTs && (m.text ?? '').includes(`${clusterId}`)));
  }

  /** The next message in the thread that asks something or closes the setup, skipping `handled`. */
  nextPrompt(threadTs: string, handled: Set<string>, timeoutMs?: number) {
    return this.until(
      'the next prompt',
      () => this.api.messages.find((m) => m.threadTs === threadTs && !handled.has(m.ts) && (isApproval(m) || isQuestion(m) || isClosing(m))),
      timeoutMs,
    );
  }

  /** Answers every question with its suggestion and approves every step, to the closing message. */
  async clickThrough(threadTs: string, requester: string, approver: string): Promise<EmulatedMessage> {
    const handled = new Set<string>();
    for (;;) {
      const next = await this.nextPrompt(threadTs, handled);
      handled.add(next.ts);
      if (isClosing(next)) return next;
      const response = isApproval(next) ? await this.click(next, 'approve', approver) : await this.click(next, 'first', requester);
      if (response.status !== 200) throw new Error(`click refused with HTTP ${response.status}: ${response.body}`);
    }
  }
}
