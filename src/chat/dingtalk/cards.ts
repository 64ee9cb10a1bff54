// Renders neutral replies as cards of DingTalk's public "MarkdownButton" template, so no card has to be
// built and imported by hand. The template (id below) renders the variables `title`, `markdown`, `tips`
// and `sys_full_json_obj`, a JSON string whose `msgButtons` array holds the buttons: each
// {text, color, id, request: true, params}; a click on one comes back over the Stream card callback with
// `cardPrivateData: {actionIds: [id], params}`. Sources: open-dingtalk/dingtalk-stream-sdk-python,
// dingtalk_stream/card_instance.py (MarkdownButtonCardInstance), and open.dingtalk.com "创建并投放卡片"
// (POST /v1.0/card/instances/createAndDeliver, cardData.cardParamMap: every value a string).
//
// A card's markdown is cut by DingTalk at 5,000 characters, so a reply that needs more is split: detail
// cards before the reply's own card (an approval's buttons stay on the last card, under everything it
// covers), or continuation cards after it (long texts, choices past the tenth).
import type { UserId } from '../../../flows/contract.ts';
import type { Reply } from '../model.ts';
import type { CardParams } from './openapi.ts';
import { answerText, approvalFacts, decisionText, policyDocument, reminderText, statusHeadline, stepTitle, waitingText } from '../approval-details.ts';
import { code, plainText, pre, spans } from '../../../flows/domain/inline.js';

type Approval = Extract<Reply, { kind: 'approval' }>;
type Question = Extract<Reply, { kind: 'question' }>;
type Decided = Extract<Reply, { kind: 'decided' }>;

/** DingTalk's public card template for markdown with buttons. */
export const MARKDOWN_BUTTON_TEMPLATE_ID = '1366a1eb-bc54-4859-ac88-517c56a9acb1.schema';

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
    }
  | { kind: 'cancel'; sessionId: string; conversationId: string; threadId: string }
  | { kind: 'again'; clusterId: string; conversationId: string; threadId: string };

/** One entry of msgButtons. `request: true` makes a click a card callback instead of opening a URL. */
export interface CardButton {
  id: string;
  text: string;
  color: 'blue' | 'gray' | 'red';
  request: true;
  params: ButtonParams;
}

export interface Card {
  title: string;
  markdown: string;
  buttons: CardButton[];
}

/** A reply as cards: `before` are posted first, then `card` (the reply's own), then `after`. */
export interface CardSet {
  before: Card[];
  card: Card;
  after: Card[];
}

/** Where the card is posted: its group, and the conversation's first card (its "thread"). */
export interface CardPlace {
  conversationId: string;
  threadId: string;
}

/** How a card names people and times: display names, and the group's local time. */
export interface CardStyle {
  nameOf(user: UserId): string;
  /** IANA zone of the group, e.g. Asia/Shanghai. */
  timeZone: string;
  /** For an approval: the approvers to mention (their display names are shown, the card @-mentions them). */
  approvers?: UserId[];
}

/** Buttons per card: the template shows them in a row that stays readable up to about ten. */
const MAX_BUTTONS = 10;
/** DingTalk cuts card markdown at 5,000 characters; this leaves room for the continuation notes. */
const MARKDOWN_BUDGET = 4_500;
const MAX_TITLE = 100;

export function renderCards(reply: Reply, place: CardPlace, style: CardStyle): CardSet {
  switch (reply.kind) {
    case 'text':
      return paged('', toMarkdown(reply.text, style));
    case 'help':
      return paged('backup-setup help', toMarkdown(reply.text, style));
    case 'plan':
      return paged(plainText(reply.title), [`**${toMarkdown(reply.title, style)}**`, ...reply.lines.map((line) => `- ${toMarkdown(line, style)}`)].join('\n'));
    case 'question':
      return renderQuestion(reply, place, style);
    case 'approval':
      return renderApproval(reply, place, style);
    case 'decided':
      if (reply.shown) {
        const shown = renderApproval(reply.shown, place, style).card;
        const params = renderDecidedCard(reply, shown.markdown, style, place);
        return single(card(params.title ?? reply.title, params.markdown ?? '', againButtons(reply, place)));
      }
      return single(card(reply.title, toMarkdown(decisionText(reply), style), againButtons(reply, place)));
    case 'reminder':
      return single(card(`Reminder: ${reply.title}`, toMarkdown(reminderText(reply), style)));
    case 'answered':
      return single(card('Question', `${clicksOnly(toMarkdown(reply.prompt.text, style))}\n\n${toMarkdown(answerText(reply), style)}`));
    case 'status':
      return single(renderStatus(reply, place, style));
    case 'progress':
      return single(card('', `⏳ ${toMarkdown(reply.text, style)}`));
    case 'result': {
      const mark = reply.outcome.outcome === 'already present' ? '☑️' : '✅';
      return single(card('', `${mark} **${reply.outcome.step}**: ${reply.outcome.outcome}. ${toMarkdown(reply.outcome.detail, style)}`));
    }
    case 'done':
      return paged(reply.ok ? 'Done' : 'Stopped', toMarkdown(reply.text, style));
    case 'error': {
      const id = reply.correlationId ? `\n\nCorrelation id: ${toMarkdown(code(reply.correlationId), style)}` : '';
      return paged('Error', `❌ ${toMarkdown(reply.text, style)}${id}`);
    }
  }
}

/** The template's variables for a card. */
export function cardParams(c: Card): CardParams {
  return {
    title: fit(c.title, MAX_TITLE),
    markdown: c.markdown,
    tips: '',
    sys_full_json_obj: JSON.stringify({ msgButtons: c.buttons }),
  };
}

/**
 * The update of an approval card after its decision: the decision as the title's first words, the
 * approved content with the decision under it (when the approval's body is known), and no buttons.
 */
export function renderDecidedCard(decided: Decided, approvalMarkdown: string | undefined, style: CardStyle, place?: CardPlace): CardParams {
  const line = toMarkdown(decisionText(decided), style);
  const body = approvalMarkdown === undefined ? line : `${approvalMarkdown}\n\n---\n\n${line}`;
  return cardParams({ title: decided.title, markdown: fit(body, MARKDOWN_BUDGET + 400), buttons: place ? againButtons(decided, place) : [] });
}

/** "Request again" on an expired approval: the setup of the cluster starts again. */
function againButtons(decided: Decided, place: CardPlace): CardButton[] {
  if (!decided.again) return [];
  return [{ id: 'again', text: 'Request again', color: 'blue', request: true, params: { kind: 'again', clusterId: decided.again.clusterId, ...place } }];
}

/** The buttons of a card's variables (for tests and the emulator's callbacks). */
export function buttonsOf(params: CardParams): CardButton[] {
  try {
    const value = JSON.parse(params.sys_full_json_obj ?? '{}') as { msgButtons?: unknown };
    return Array.isArray(value.msgButtons) ? (value.msgButtons as CardButton[]) : [];
  } catch {
    return [];
  }
}

/** The conversation's first card: what it is, where it is now, whom it waits on, and Cancel while it runs. */
function renderStatus(reply: Extract<Reply, { kind: 'status' }>, place: CardPlace, style: CardStyle): Card {
  const md = (text: string) => toMarkdown(text, style);
  const waiting = waitingText(reply);
  const lines = [md(statusHeadline(reply)), '', ...reply.lines.map(md), ...(waiting ? ['', md(waiting)] : [])];
  const buttons: CardButton[] = reply.cancellable
    ? [{ id: 'cancel', text: 'Cancel setup', color: 'gray', request: true, params: { kind: 'cancel', sessionId: reply.sessionId, ...place } }]
    : [];
  return card(`${reply.title}: ${reply.clusterId}`, fit(lines.join('\n'), MARKDOWN_BUDGET), buttons);
}

function renderQuestion(reply: Question, place: CardPlace, style: CardStyle): CardSet {
  const { prompt, sessionId } = reply;
  const button = (i: number): CardButton => {
    const choice = prompt.choices[i]!;
    return {
      id: `answer:${prompt.questionId}:${i}`,
      text: i === 0 && prompt.choices.length > 1 ? `${choice.label} (suggested)` : choice.label,
      color: i === 0 ? 'blue' : 'gray',
      request: true,
      params: { kind: 'answer', sessionId, questionId: prompt.questionId, value: choice.value, ...place },
    };
  };
  const pages = Math.max(1, Math.ceil(prompt.choices.length / MAX_BUTTONS));
  const range = (page: number) => Array.from({ length: Math.min(MAX_BUTTONS, prompt.choices.length - page * MAX_BUTTONS) }, (_, i) => page * MAX_BUTTONS + i);
  // DingTalk has no threads to type an answer in: the question says only what works here, a click.
  const text = clicksOnly(toMarkdown(prompt.text, style));
  const lines = [text];
  if (prompt.choices.length === 0) lines.push('', 'This question needs a typed answer, which DingTalk cannot take: answer it from Slack, or cancel the setup.');
  else lines.push('', pages > 1 ? `Click your choice. Choices 1–${MAX_BUTTONS} of ${prompt.choices.length}; the next ${pages - 1} card(s) hold the rest.` : 'Click your choice.');
  const first = { title: 'Question', markdown: fit(lines.join('\n'), MARKDOWN_BUDGET), buttons: range(0).map(button) };
  const after = Array.from({ length: pages - 1 }, (_, p) => {
    const indexes = range(p + 1);
    return {
      title: 'Question (more choices)',
      markdown: fit(`${text}\n\nChoices ${indexes[0]! + 1}–${indexes.at(-1)! + 1} of ${prompt.choices.length}.`, MARKDOWN_BUDGET),
      buttons: indexes.map(button),
    };
  });
  return { before: [], card: first, after };
}

function renderApproval(reply: Approval, place: CardPlace, style: CardStyle): CardSet {
  const { prompt, sessionId } = reply;
  const title = reply.title ?? stepTitle(prompt.request.step);
  const details: string[] = [];
  const md = (text: string) => toMarkdown(text, style);
  const changes = prompt.preview.changes.map((line) => `- ${md(line)}`);
  const body: string[] = [];

  // Every fact an approver checks stays on the card with the buttons; long lists go to detail cards.
  const all = approvalFacts(reply);
  const params = all.slice(0, -4).map(({ label, text }) => `**${label}**: ${fit(md(text), 300)}`);
  const facts = [
    ...all.slice(-4).map(({ label, text }) => `**${label}**: ${md(text)}`),
    ...(style.approvers && style.approvers.length > 0 ? [`**Approvers**: ${style.approvers.map((a) => `@${style.nameOf(a)}`).join(' ')}`] : []),
  ];
  const shownChanges = fitting(changes, 1_800);
  body.push(`**What will change**${changes.length > 1 ? ` (${changes.length} changes)` : ''}`, ...shownChanges);
  if (shownChanges.length < changes.length) {
    body.push(`- … and ${changes.length - shownChanges.length} more: every change is listed in the detail cards just above.`);
    details.push(`**Every change** (${changes.length})`, ...changes);
  }
  if (reply.covers) {
    const ids = reply.covers.map((id) => md(code(id)));
    const clusters = ids.join(', ');
    if (clusters.length <= 1_200) body.push('', `**Clusters** (${reply.covers.length}): ${clusters}`);
    else {
      body.push('', `**Clusters** (${reply.covers.length}): ${fitting(ids, 900).join(', ')} … all ${reply.covers.length} are listed in the detail cards just above.`);
      details.push('', `**Clusters** (${reply.covers.length})`, clusters);
    }
  } else {
    const document = policyDocument(prompt.request);
    const fence = document?.includes('```') ? '~~~~' : '```';
    if (document && document.length <= 1_500) body.push('', '**Policy document**', `${fence}json`, document, fence);
    else if (document) {
      body.push('', `**Policy document**: ${document.length} characters, shown in full in the detail cards just above.`);
      details.push('', '**Policy document**', `${fence}json`, document, fence);
    }
    for (const param of params) body.push('', param);
  }
  body.push('', ...facts.flatMap((fact) => [fact, '']));
  const decision = (d: 'approve' | 'deny'): ButtonParams => ({ kind: 'decision', sessionId, approvalId: prompt.approvalId, decision: d, ...place });
  const buttons: CardButton[] = [
    { id: 'approve', text: 'Approve', color: 'blue', request: true, params: decision('approve') },
    { id: 'deny', text: 'Deny', color: 'red', request: true, params: decision('deny') },
  ];
  const parts = details.length > 0 ? splitMarkdown(details.join('\n'), MARKDOWN_BUDGET) : [];
  const before = parts.map((markdown, i) => card(`Details ${i + 1}/${parts.length}: ${title}`, markdown));
  return { before, card: card(`Approval needed: ${title}`, fit(body.join('\n').trimEnd(), MARKDOWN_BUDGET), buttons), after: [] };
}

/** "2026-11-24 22:15 (GMT+8)": the group's local time, with its offset so nobody has to guess. */
export function localTime(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} (${parts.timeZoneName})`;
}

/**
 * Inline-marked text (flows/domain/inline.js) as DingTalk markdown: code spans as CommonMark code spans,
 * people by display name, times in the group's zone. DingTalk documents which markdown it renders
 * (open.dingtalk.com, 消息类型与数据格式: headings, quotes, bold, italics, links, images, lists) but not
 * how to escape; the stricter reading is taken: CommonMark's backslash escape for every punctuation
 * character that could start markup (spec.commonmark.org/0.31.2/#backslash-escapes).
 */
export function toMarkdown(text: string, style: Pick<CardStyle, 'nameOf' | 'timeZone'>): string {
  const escape = (plain: string) => plain.replace(/[\\`*_~[\]<>&#|]/g, '\\$&');
  return spans(text)
    .map((span) => {
      switch (span.kind) {
        case 'text':
          return escape(span.text);
        case 'code':
          return code(span.text);
        case 'pre':
          return pre(span.text);
        case 'person':
          return escape(style.nameOf(span.id));
        case 'time':
          return escape(localTime(span.iso, style.timeZone));
        case 'link':
          // DingTalk documents [label](url) links (the stricter reading: no bare URLs).
          return `[${escape(span.label)}](${span.url})`;
      }
    })
    .join('');
}

/** "Pick one or type a region id." → "Pick one.": typing an answer does not work on DingTalk. */
function clicksOnly(text: string): string {
  return text.replace(/\s+or type (?:a|an|the|your) [^.;,\n]*/gi, '');
}

/**
 * Markdown cut into pieces of at most `max` characters at line ends; a code fence cut by a piece
 * boundary is closed at the end of one piece and opened again (with its language) in the next.
 */
function splitMarkdown(text: string, max: number): string[] {
  const pieces: string[] = [];
  let current: string[] = [];
  let size = 0;
  let fence: string | null = null;
  const room = max - 20;
  const flush = () => {
    if (current.length === 0) return;
    pieces.push([...current, ...(fence !== null ? ['```'] : [])].join('\n'));
    current = fence !== null ? [fence] : [];
    size = fence !== null ? fence.length + 1 : 0;
  };
  for (const whole of text.split('\n')) {
    for (let line = whole; ; ) {
      const piece = line.length > room ? line.slice(0, room) : line;
      if (size + piece.length + 1 > room) flush();
      current.push(piece);
      size += piece.length + 1;
      if (piece.trimStart().startsWith('```')) fence = fence === null ? piece.trim() : null;
      if (piece.length === line.length) break;
      line = line.slice(room);
    }
  }
  if (current.length > 0 && !(fence !== null && current.length === 1)) pieces.push(current.join('\n'));
  return pieces.length > 0 ? pieces : [''];
}

/** A text card, continued on further cards when it is too long for one. */
function paged(title: string, markdown: string): CardSet {
  const [first, ...rest] = splitMarkdown(markdown, MARKDOWN_BUDGET);
  if (rest.length === 0) return single(card(title, first!));
  return {
    before: [],
    card: card(title, `${first}\n\n_Continued in the next ${rest.length} card(s)._`),
    after: rest.map((part, i) => card(`${title || 'Continued'} (${i + 2}/${rest.length + 1})`, part)),
  };
}

function single(c: Card): CardSet {
  return { before: [], card: c, after: [] };
}

function card(title: string, markdown: string, buttons: CardButton[] = []): Card {
  return { title, markdown, buttons };
}

/** The leading lines whose text fits in `budget` characters. */
function fitting(lines: string[], budget: number): string[] {
  const shown: string[] = [];
  let used = 0;
  for (const line of lines) {
    if (used + line.length + 2 > budget) break;
    shown.push(line);
    used += line.length + 2;
  }
  return shown;
}

/** Cuts text to at most `max` characters, ending with "…", never inside a surrogate pair. */
function fit(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
