// Identifiers keep their characters (issue 15 item 1): every reply kind, rendered for Slack Block Kit and DingTalk
// card markdown, shows each hostile identifier exactly, as code. What each platform shows is read back with its
// documented rules: Slack mrkdwn's code spans have no escape for a backtick and decode only &amp; &lt; &gt;
// (api.slack.com/reference/surfaces/formatting), rich_text elements are literal; DingTalk gets CommonMark.
import { describe, expect, it } from 'vitest';
import { spans } from '../../flows/domain/inline.js';
import { renderReply } from '../../src/chat/slack/blocks.ts';
import { renderCards } from '../../src/chat/dingtalk/cards.ts';
import { hostileReplies } from './hostile-replies.ts';

interface Shown {
  /** Code spans and code elements, each whole. */
  code: string[];
  /** Preformatted blocks. */
  pre: string[];
  /** Literal plain text (plain_text objects, rich_text text elements). */
  plain: string[];
}

const decode = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** What Slack shows of a mrkdwn string: ``` blocks, then `code` spans (no backtick inside, one line). */
function readMrkdwn(text: string, into: Shown): void {
  const rest = text.replace(/```\n?([\s\S]*?)\n?```/g, (_, body: string) => {
    into.pre.push(decode(body));
    return ' ';
  });
  for (const match of rest.matchAll(/`([^`\n]+)`/g)) into.code.push(decode(match[1]!));
}

function readSlack(value: unknown, into: Shown): void {
  if (Array.isArray(value)) return value.forEach((v) => readSlack(v, into));
  if (typeof value !== 'object' || value === null) return;
  const o = value as Record<string, unknown>;
  if (o.type === 'mrkdwn' && typeof o.text === 'string') return readMrkdwn(o.text, into);
  if (o.type === 'plain_text' && typeof o.text === 'string') return void into.plain.push(...o.text.split('\n'));
  if (o.type === 'rich_text_preformatted') return void into.pre.push((o.elements as { text: string }[]).map((e) => e.text).join(''));
  if (o.type === 'text' && typeof o.text === 'string') {
    const style = o.style as { code?: boolean } | undefined;
    return void (style?.code ? into.code : into.plain).push(o.text);
  }
  for (const [key, item] of Object.entries(o)) if (key !== 'value' && key !== 'confirm') readSlack(item, into);
}

/** What CommonMark shows of DingTalk markdown: fenced blocks, then code spans. */
function readMarkdown(markdown: string, into: Shown): void {
  const rest = markdown.replace(/^(```+|~~~+)[a-z]*\n([\s\S]*?)\n\1$/gm, (_, _fence: string, body: string) => {
    into.pre.push(body);
    return ' ';
  });
  for (const span of spans(rest)) if (span.kind === 'code') into.code.push(span.text);
}

const empty = (): Shown => ({ code: [], pre: [], plain: [] });

function expectShown(shown: Shown, identifiers: string[], platform: string) {
  for (const id of identifiers) {
    const seen = shown.code.includes(id) || shown.pre.some((block) => block.includes(id)) || shown.plain.includes(id);
    expect(seen, `${platform} shows ${JSON.stringify(id)} exactly; it shows ${JSON.stringify(shown)}`).toBe(true);
  }
}

describe.each(hostileReplies())('a $reply.kind reply with hostile identifiers', ({ reply, shows }) => {
  it('in Slack Block Kit, as mrkdwn code spans or literal rich_text, with people and times as Slack tokens', () => {
    const rendered = renderReply(reply);
    const shown = empty();
    for (const message of [rendered.main, ...rendered.followUps]) readSlack(message.blocks, shown);
    expectShown(shown, shows, 'Slack');
    const json = JSON.stringify([rendered.main, ...rendered.followUps]);
    expect(json).not.toMatch(/<!time:|<@slack:/);
    // mrkdwn never carries a formatting character outside a code span except the bold labels the renderer writes.
    for (const message of [rendered.main, ...rendered.followUps]) {
      for (const m of JSON.stringify(message.blocks).matchAll(/"type":"mrkdwn","text":"((?:[^"\\]|\\.)*)"/g)) {
        const text = (JSON.parse(`"${m[1]}"`) as string).replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]+`/g, '').replace(/^\*[^*\n]+\*$|^\*[^*\n]+\*(?=\n)/gm, '').replace(/<!date\^[^>]*>|<@[UW][A-Z0-9]+>/g, '');
        expect(text, text).not.toMatch(/[*_~`]/);
      }
    }
  });

  it('in DingTalk card markdown, as CommonMark code spans, with names and local times', () => {
    const style = { nameOf: (id: string) => (id === 'slack:U0ALICE' ? 'Alice' : 'Bob'), timeZone: 'Asia/Shanghai' };
    const set = renderCards(reply, { conversationId: 'cid', threadId: 't1' }, style);
    const shown = empty();
    for (const card of [...set.before, set.card, ...set.after]) readMarkdown(card.markdown, shown);
    expectShown(shown, shows, 'DingTalk');
    expect(JSON.stringify(set)).not.toMatch(/<!time:|<@/);
  });
});

describe('risk explained (issue 15 item 5)', () => {
  it('every step has a one-line reason for its risk', async () => {
    const { startHarness } = await import('../executor/helpers.ts');
    const { STEP_ORDER } = await import('../../flows/steps.ts');
    const h = await startHarness();
    try {
      for (const step of STEP_ORDER) {
        const meta = h.executor.meta(step);
        expect(meta.riskReason, step).toMatch(/^[a-z][^\n]{20,160}$/);
      }
      expect(h.executor.meta('createAccessKeySecret').riskReason).toContain('long-lived AccessKey');
      expect(h.executor.meta('ensurePolicy').riskReason).toMatch(/^grants access/);
      expect(h.executor.meta('restartMigrateController').riskReason).toMatch(/^restarts a component/);
    } finally {
      await h.close();
    }
  });

  it('the approval shows the level with its reason on every platform', () => {
    const reply = hostileReplies().find((r) => r.reply.kind === 'approval')!.reply;
    const slack = JSON.stringify(renderReply(reply).main.blocks);
    expect(slack).toContain('high — revokes access to bucket ');
    const card = renderCards(reply, { conversationId: 'cid', threadId: 't1' }, { nameOf: (id) => id, timeZone: 'Asia/Shanghai' }).card;
    expect(card.markdown).toContain('**Risk**: high — revokes access to bucket ``` ``double`` ```, which a backup vault uses');
  });
});

describe('people by name, times in the reader\'s time (issue 15 item 6)', () => {
  const reply = hostileReplies()[0]!.reply;
  it('Slack: a mention and a date token (each reader sees their own time zone), never the ids or ISO', () => {
    const plain = renderReply({ kind: 'text', text: 'Started by <@slack:U0ALICE> at <!time:2026-11-24T14:15:00.000Z>.' }).main;
    expect(plain.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: 'Started by <@U0ALICE> at <!date^1795529700^{date_short_pretty} {time}|2026-11-24T14:15:00.000Z>.' } }]);
    // Where mrkdwn cannot show an identifier, rich_text carries the person and the date as elements.
    const rich = JSON.stringify(renderReply(reply).main.blocks);
    expect(rich).toContain('{"type":"user","user_id":"U0ALICE"}');
    expect(rich).toContain('{"type":"date","timestamp":1795529700,"format":"{date_short_pretty} {time}"');
    expect(rich).not.toContain('slack:U0ALICE');
  });
  it('DingTalk: the display name and the group\'s local time with its offset', () => {
    const card = renderCards(reply, { conversationId: 'cid', threadId: 't1' }, { nameOf: (id) => (id === 'slack:U0ALICE' ? 'Alice' : id), timeZone: 'Asia/Shanghai' }).card;
    expect(card.markdown).toContain('by Alice at 2026-11-24 22:15 (GMT+8).');
  });
});

describe('a fleet approval too long for its clusters field', () => {
  it('says the clusters are listed in the replies, and the replies list every one (Slack)', () => {
    const covers = Array.from({ length: 120 }, (_, i) => `c-sandbox-fleet-${String(i).padStart(3, '0')}`);
    const rendered = renderReply({ ...hostileApprovalOf(), covers });
    expect(JSON.stringify(rendered.main.blocks)).toContain('(all listed in the replies below)');
    const replies = JSON.stringify(rendered.followUps);
    for (const id of covers) expect(replies).toContain(`\`${id}\``);
  });
});

function hostileApprovalOf() {
  return hostileReplies().find((r) => r.reply.kind === 'approval')!.reply as Extract<ReturnType<typeof hostileReplies>[number]['reply'], { kind: 'approval' }>;
}
