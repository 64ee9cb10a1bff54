// Plays the people of a Slack workspace against a running bot: signed slash commands and clicks sent
// to /slack/events, messages read back from the local Slack Web API.
import type { EmulatedMessage, SlackApi } from '../../src/sandbox/slack/api.ts';
import { blockActions, FORM, send, signed, slashCommand, type ClickedMessage } from '../slack/slack-requests.ts';

export const CHANNEL = 'C0BACKUPS';

type Element = { type: string; action_id: string; value?: string; options?: { value: string }[]; initial_option?: { value: string } };
type Block = { type: string; block_id?: string; elements?: Element[] };

export const actionsOf = (m: EmulatedMessage) => ((m.blocks ?? []) as Block[]).filter((b) => b.type === 'actions');
export const isApproval = (m: EmulatedMessage) => actionsOf(m).some((b) => b.block_id?.startsWith('approval:'));
export const isQuestion = (m: EmulatedMessage) => actionsOf(m).some((b) => b.block_id?.startsWith('answer:'));
/** The session's closing message (step results also start with ✅, so the completion is matched in full). */
export const isClosing = (m: EmulatedMessage) => /^(✅ Backup center setup complete|❌|🛑|⌛)/.test(m.text ?? '');

export class SlackDriver {
  readonly api: SlackApi;
  /** Where /slack/events is; may change when the bot restarts. */
  eventsUrl: string;

  constructor(api: SlackApi, eventsUrl: string) {
    this.api = api;
    this.eventsUrl = eventsUrl;
  }

  command(text: string, user: string, url = this.eventsUrl) {
    const body = slashCommand({ text, user, channel: CHANNEL, responseUrl: this.api.responseUrl(user, CHANNEL) });
    return send(url, signed(body, FORM));
  }

  /** Clicks a button (or picks the suggested option of a select) on a message, as `user`. */
  click(m: EmulatedMessage, actionId: 'approve' | 'deny' | 'first', user: string, url = this.eventsUrl) {
    // Slack puts the block's block_id on every action of a block_actions payload.
    const elements = actionsOf(m).flatMap((b) => (b.elements ?? []).map((e) => ({ ...e, block_id: b.block_id })));
    const element = actionId === 'first' ? elements[0] : elements.find((e) => e.action_id === actionId);
    if (!element) throw new Error(`message ${m.ts} has no ${actionId} action`);
    const action = element.type === 'static_select' ? { ...element, selected_option: element.initial_option ?? element.options![0] } : element;
    const message: ClickedMessage = { ts: m.ts, threadTs: m.threadTs, blocks: m.blocks, text: m.text };
    return send(url, signed(blockActions({ user, channel: CHANNEL, message, action, responseUrl: this.api.responseUrl(user, CHANNEL) }), FORM));
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
