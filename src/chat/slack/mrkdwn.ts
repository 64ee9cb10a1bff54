// Safe Slack text: escaping for mrkdwn and cutting text to Block Kit's limits without breaking it.
import type { UserId } from '../../../flows/contract.ts';

/** Escapes &, < and > (Slack's control characters) but keeps user mentions and date tokens we write. */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/&lt;(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|!date\^\d+\^[^|&]*\|[^&]*)&gt;/g, '<$1>');
}

/**
 * `slack:U012AB` as a mention Slack renders with the person's name, `slack:S012AB` (a user group) as
 * `<!subteam^S012AB>` (https://api.slack.com/reference/surfaces/formatting#mentioning-groups); other ids as plain text.
 */
export function mention(user: UserId): string {
  if (/^<@[UW][A-Z0-9]+>$/.test(user)) return user;
  const group = /^slack:(S[A-Z0-9]+)$/.exec(user);
  if (group) return `<!subteam^${group[1]}>`;
  const match = /^slack:([UW][A-Z0-9]+)$/.exec(user);
  return match ? `<@${match[1]}>` : escapeMrkdwn(user);
}

/** A date Slack shows in each reader's time zone, with the ISO form as fallback. */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${iso}>`;
}

/** Cuts text to at most `max` characters, ending with "…", never inside a surrogate pair or an entity. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(/&[a-z]*$/, '');
  return `${cut}…`;
}

/** Splits text into chunks of at most `max` characters, at line ends where possible. */
export function chunk(text: string, max: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const candidate = current === '' ? line : `${current}\n${line}`;
    if (candidate.length <= max) {
      current = candidate;
      continue;
    }
    if (current !== '') chunks.push(current);
    current = line;
    while (current.length > max) {
      let at = max;
      if (/[\uD800-\uDBFF]/.test(current.charAt(at - 1))) at -= 1;
      chunks.push(current.slice(0, at));
      current = current.slice(at);
    }
  }
  if (current !== '' || chunks.length === 0) chunks.push(current);
  return chunks;
}
