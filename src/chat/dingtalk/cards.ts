// Renders neutral replies as the parameters of the bot's DingTalk card template. Every value of a
// cardParamMap is a string: `title`, `markdown` (the body), `status` (the decision line of an approval,
// else empty), `kind` (the reply kind) and `buttons` (a JSON array of {id, text, params}); a click sends
// the button's params back in the card callback, so they carry everything the event needs.
import type { Reply } from '../model.ts';
import type { CardParams } from './openapi.ts';
import { policyDocument, resources, stepTitle } from '../approval-details.ts';

type Approval = Extract<Reply, { kind: 'approval' }>;
type Question = Extract<Reply, { kind: 'question' }>;
type Decided = Extract<Reply, { kind: 'decided' }>;

/** What a click sends back (cardPrivateData.params). All values are strings. */
export type ButtonParams =
  | { kind: 'answer'; sessionId: string; questionId: string; value: string; conversationId: string; threadId: string }
  | {
      kind: 'decision';
      sessionId: string;
      approvalId: string;
      decision: 'approve' | 'deny';
      conversationId: string;
      threadId: string;
    };

export interface CardButton {
  id: string;
  text: string;
  params: ButtonParams;
}

/** Where the card is posted: its group, and the conversation's first card (its "thread"). */
export interface CardPlace {
  conversationId: string;
  threadId: string;
}

/** DingTalk cards stay readable and within the callback's size up to about this many buttons. */
const MAX_BUTTONS = 10;
const MAX_MARKDOWN = 5000;
const MAX_TITLE = 100;

export function renderCard(reply: Reply, place: CardPlace): CardParams {
  switch (reply.kind) {
    case 'text':
      return card(reply.kind, '', toMarkdown(reply.text));
    case 'help':
      return card(reply.kind, 'backup-setup help', toMarkdown(reply.text));
    case 'plan':
      return card(reply.kind, reply.title, reply.lines.map((line) => `- ${line}`).join('\n'));
    case 'question':
      return renderQuestion(reply, place);
    case 'approval':
      return renderApproval(reply, place);
    case 'decided':
      return reply.shown
        ? renderDecidedCard(reply, renderApproval(reply.shown, place).markdown)
        : card(reply.kind, reply.title, decisionLine(reply), [], decisionLine(reply));
    case 'answered': {
      const line = reply.answer
        ? `✔️ ${person(reply.answer.by)} chose **${reply.answer.label}**`
        : `🔒 Closed without an answer${reply.reason ? `: ${reply.reason}` : ''}`;
      return card(reply.kind, '', `${toMarkdown(reply.prompt.text)}\n\n${line}`, [], line);
    }
    case 'progress':
      return card(reply.kind, '', `⏳ ${toMarkdown(reply.text)}`);
    case 'result': {
      const mark = reply.outcome.outcome === 'already present' ? '☑️' : '✅';
      return card(reply.kind, '', `${mark} **${reply.outcome.step}**: ${reply.outcome.outcome}. ${reply.outcome.detail}`);
    }
    case 'done':
      return card(reply.kind, reply.ok ? 'Done' : 'Stopped', toMarkdown(reply.text));
    case 'error': {
      const id = reply.correlationId ? `\n\nCorrelation id: \`${reply.correlationId}\`` : '';
      return card(reply.kind, 'Error', `❌ ${toMarkdown(reply.text)}${id}`);
    }
  }
}

/**
 * The update of an approval card after its decision: the new title and decision line, no buttons.
 * The body is repeated with the decision under it when the approval's body is known; otherwise it
 * is left as it is (updates are by key).
 */
export function renderDecidedCard(decided: Decided, approvalMarkdown: string | undefined): CardParams {
  const status = decisionLine(decided);
  const params: CardParams = { kind: decided.kind, title: truncate(decided.title, MAX_TITLE), status, buttons: '[]' };
  if (approvalMarkdown !== undefined) params.markdown = truncate(`${approvalMarkdown}\n\n---\n\n${status}`, MAX_MARKDOWN);
  return params;
}

/** The buttons of a rendered card (for tests and the decided update). */
export function buttonsOf(params: CardParams): CardButton[] {
  try {
    const value: unknown = JSON.parse(params.buttons ?? '[]');
    return Array.isArray(value) ? (value as CardButton[]) : [];
  } catch {
    return [];
  }
}

function renderQuestion(reply: Question, place: CardPlace): CardParams {
  const { prompt, sessionId } = reply;
  const shown = prompt.choices.slice(0, MAX_BUTTONS);
  const buttons: CardButton[] = shown.map((choice, i) => ({
    id: `answer:${prompt.questionId}:${i}`,
    text: i === 0 ? `${choice.label} (suggested)` : choice.label,
    params: { kind: 'answer', sessionId, questionId: prompt.questionId, value: choice.value, ...place },
  }));
  const lines = [toMarkdown(prompt.text)];
  if (prompt.choices.length > shown.length) {
    lines.push('', `Showing the first ${shown.length} of ${prompt.choices.length} choices, the suggested one first:`);
    lines.push(...prompt.choices.slice(shown.length).map((choice) => `- ${choice.label}`));
  }
  return card(reply.kind, 'Question', lines.join('\n'), buttons);
}

function renderApproval(reply: Approval, place: CardPlace): CardParams {
  const { prompt, sessionId } = reply;
  const title = reply.title ?? stepTitle(prompt.request.step);
  const lines = ['**What will change**', ...prompt.preview.changes.map((line) => `- ${line}`)];
  // A fleet approval lists its changes per cluster; one cluster's resources would mislead.
  if (reply.covers) {
    lines.push('', `**Clusters**: ${reply.covers.join(', ')}`);
  } else {
    const document = policyDocument(prompt.request);
    if (document) lines.push('', '**Policy document**', '```json', document, '```');
    for (const [name, value] of Object.entries(resources(prompt.request))) lines.push('', `**${name}**: ${value}`);
  }
  lines.push(
    '',
    `**Risk**: ${reply.risk}`,
    '',
    `**APIs**: ${reply.apis.join(', ') || 'none'}`,
    '',
    `**Expires**: ${reply.expiresAt}`,
    '',
    `**Requested by**: ${person(reply.requester)}`,
  );
  const decision = (decision: 'approve' | 'deny'): ButtonParams => ({
    kind: 'decision',
    sessionId,
    approvalId: prompt.approvalId,
    decision,
    ...place,
  });
  const buttons: CardButton[] = [
    { id: 'approve', text: 'Approve', params: decision('approve') },
    { id: 'deny', text: 'Deny', params: decision('deny') },
  ];
  return card(reply.kind, `Approval needed: ${title}`, lines.join('\n'), buttons);
}

export function decisionLine(decided: Decided): string {
  switch (decided.decision) {
    case 'approved':
      return `✅ Approved by ${person(decided.by)} at ${decided.at}`;
    case 'denied':
      return `🚫 Denied by ${person(decided.by)} at ${decided.at}${decided.reason ? ` (${decided.reason})` : ''}`;
    case 'expired':
      return `⌛ Expired at ${decided.at}; nothing was changed`;
    case 'closed':
      return `🔒 Closed at ${decided.at}${decided.reason ? `: ${decided.reason}` : ''}; nothing was decided or changed`;
  }
}

/**
 * The bot's texts are written in Slack mrkdwn (`*bold*`, `<url|label>`); DingTalk markdown wants
 * `**bold**` and `[label](url)`. Slack's escapes of &, < and > are undone.
 */
export function toMarkdown(text: string): string {
  return text
    .replace(/<(https?:\/\/[^|>\s]+)\|([^>]+)>/g, '[$2]($1)')
    .replace(/(^|[^*\w])\*([\w`][^*\n]*?)\*(?=[^*\w]|$)/g, '$1**$2**')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** `dingtalk:manager123` as `manager123`; other platforms' ids as they are. */
function person(user: string): string {
  return user.startsWith('dingtalk:') ? user.slice('dingtalk:'.length) : user;
}

function card(kind: Reply['kind'], title: string, markdown: string, buttons: CardButton[] = [], status = ''): CardParams {
  return {
    kind,
    title: truncate(title, MAX_TITLE),
    markdown: truncate(markdown, MAX_MARKDOWN),
    status,
    buttons: JSON.stringify(buttons),
  };
}

/** Cuts text to at most `max` characters, ending with "…", never inside a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
