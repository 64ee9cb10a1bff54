// The bot's inline marks (flows/domain/inline.js) as Slack shows them. mrkdwn has no escape for its
// formatting characters (*, _, ~, `): api.slack.com/reference/surfaces/formatting#escaping documents only
// &amp; &lt; &gt; (and jsx-slack, docs/about-escape-and-exact-mode.md: "Slack does not provide how to escape special
// characters for formatting text"). So a text is written as mrkdwn only when mrkdwn shows exactly its characters; any
// other text becomes a rich_text block, whose text elements Slack shows literally, identifiers with
// `style: {code: true}` (api.slack.com/reference/block-kit/blocks#rich_text).
import type { types } from '@slack/bolt';
import { spans, type Span } from '../../../flows/domain/inline.js';
import { mention, slackDate } from './mrkdwn.ts';

type RichElement = types.RichTextElement;

/** Slack's three control characters, always escaped (&amp; first). */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `slack:U012AB` → U012AB; null for people of other platforms. */
export function slackUser(id: string): string | null {
  return /^slack:([UW][A-Z0-9]+)$/.exec(id)?.[1] ?? null;
}

/** `slack:S0OPS` (a user group named in APPROVERS) → S0OPS. */
function slackGroup(id: string): string | null {
  return /^slack:(S[A-Z0-9]+)$/.exec(id)?.[1] ?? null;
}

const FORMAT = '{date_short_pretty} {time}';

/** UTC, for where Slack cannot show the reader's local time (notification text, the date fallback). */
export function utc(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function seconds(iso: string): number | null {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

function spanMrkdwn(span: Span): string | null {
  switch (span.kind) {
    case 'text':
      return /[*_~`]/.test(span.text) ? null : escapeText(span.text);
    case 'pre':
      return span.text.includes('```') ? null : `\`\`\`\n${escapeText(span.text)}\n\`\`\``;
    case 'code':
      return span.text === '' || /[`\n]/.test(span.text) || span.text.trim() !== span.text ? null : `\`${escapeText(span.text)}\``;
    case 'person':
      return slackUser(span.id) || slackGroup(span.id) ? mention(span.id) : spanMrkdwn({ kind: 'code', text: span.id });
    case 'time':
      return seconds(span.iso) === null ? spanMrkdwn({ kind: 'text', text: span.iso }) : slackDate(span.iso);
    case 'link':
      return /[*_~`]/.test(span.label) ? null : `<${span.url}|${escapeText(span.label)}>`;
  }
}

/** The text as mrkdwn that shows exactly its characters, or null when mrkdwn cannot. */
export function mrkdwnOf(text: string): string | null {
  let out = '';
  for (const span of spans(text)) {
    const part = spanMrkdwn(span);
    if (part === null) return null;
    out += part;
  }
  return out;
}

type RichContainer = types.RichTextSection | types.RichTextPreformatted;

/** The text as rich_text containers (literal characters): sections, and preformatted blocks for pre(). */
export function richContainers(text: string, heading: RichElement[] = []): RichContainer[] {
  const containers: RichContainer[] = [];
  let section: RichElement[] = [...heading];
  const flush = () => {
    if (section.length > 0) containers.push({ type: 'rich_text_section', elements: section });
    section = [];
  };
  for (const span of spans(text)) {
    if (span.kind === 'pre') {
      flush();
      containers.push({ type: 'rich_text_preformatted', elements: [{ type: 'text', text: span.text || ' ' }] });
    } else {
      const element = richElement(span);
      if (!(element.type === 'text' && element.text === '')) section.push(element);
    }
  }
  flush();
  return containers;
}

/** One inline span as a rich_text element. */
export function richElement(span: Exclude<Span, { kind: 'pre' }>): RichElement {
    switch (span.kind) {
      case 'link':
        return { type: 'link', url: span.url, text: span.label };
      case 'text':
        return { type: 'text', text: span.text };
      case 'code':
        return { type: 'text', text: span.text, style: { code: true } };
      case 'person': {
        const user = slackUser(span.id);
        const group = slackGroup(span.id);
        if (user) return { type: 'user', user_id: user };
        return group ? { type: 'usergroup', usergroup_id: group } : { type: 'text', text: span.id, style: { code: true } };
      }
      case 'time': {
        const at = seconds(span.iso);
        return at === null ? { type: 'text', text: span.iso } : { type: 'date', timestamp: at, format: FORMAT, fallback: utc(span.iso) };
      }
    }
}

/** The text for a notification (the message's `text`): plain, people as mentions, times in UTC. */
export function fallbackOf(text: string): string {
  return spans(text)
    .map((span) => {
      if (span.kind === 'person') return slackUser(span.id) || slackGroup(span.id) ? mention(span.id) : escapeText(span.id);
      if (span.kind === 'link') return `<${span.url}|${escapeText(span.label)}>`;
      return escapeText(span.kind === 'time' ? utc(span.iso) : span.text);
    })
    .join('');
}
