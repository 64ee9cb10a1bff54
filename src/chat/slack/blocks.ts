// Renders neutral replies as Block Kit messages that stay within Slack's limits: each block's own
// limits, 50 blocks, and the undocumented cumulative limit of a message's text (msg_blocks_too_long,
// slackapi/bolt-js #2509 and #2867). What does not fit in one message goes to follow-up messages in
// its thread, and the first message says so.
import type { types } from '@slack/bolt';
import type { Reply } from '../model.ts';
import { chunk, escapeMrkdwn, truncate } from './mrkdwn.ts';
import { escapeText, fallbackOf, mrkdwnOf, richContainers } from './inline.ts';
import { answerText, approvalFacts, decisionText, policyDocument, reminderText, statusHeadline, statusLine, stepTitle, waitingText, type Fact } from '../approval-details.ts';
import { code, plainText } from '../../../flows/domain/inline.js';

type Block = types.KnownBlock;
type Approval = Extract<Reply, { kind: 'approval' }>;
type Question = Extract<Reply, { kind: 'question' }>;
type Decided = Extract<Reply, { kind: 'decided' }>;
type Status = Extract<Reply, { kind: 'status' }>;

export interface SlackMessage {
  /** Notification and screen-reader fallback. */
  text: string;
  blocks: Block[];
}

/** A reply as Slack messages: the first one (the reply's own message), then follow-ups in its thread. */
export interface RenderedReply {
  main: SlackMessage;
  followUps: SlackMessage[];
  /** For an approval: a smaller message with the buttons, for when the full one is refused. */
  compact?: SlackMessage;
}

/** Action ids the adapter listens to. */
export const ACTION = { approve: 'approve', deny: 'deny', cancel: 'cancel_session', again: 'request_again', answerPrefix: 'answer:' } as const;
/** block_id of a question's choices: `answer:<sessionId>:<questionId>` (the value then fits Slack's 150-character option value). */
export const ANSWER_BLOCK_PREFIX = 'answer:';

const LIMIT = { section: 3000, field: 2000, header: 150, button: 75, option: 75, fallback: 3000, blocks: 50 } as const;
/**
 * The text one message carries at most. Slack refuses about 12,000 characters (11,341 was seen refused,
 * bolt-js #2867); this leaves room for the block containers Slack also counts.
 */
const MESSAGE_TEXT_BUDGET = 9_000;
const MAX_BUTTONS = 5;
const CODE_FENCE = '```';
/** Changes shown in an approval message itself; the rest follow in its thread. */
const CHANGES_SHOWN = 2_500;
/** A policy document longer than this is shown in follow-up messages. */
const DOCUMENT_SHOWN = 3_000;
const CLUSTERS_SHOWN = 1_500;

export function renderReply(reply: Reply): RenderedReply {
  switch (reply.kind) {
    case 'text':
    case 'help':
    case 'done':
      return paged(reply.text, prose(reply.text));
    case 'plan':
      return paged(reply.title, prose(reply.lines.map((line) => `• ${line}`).join('\n'), reply.title));
    case 'question':
      return single(renderQuestion(reply));
    case 'approval':
      return renderApproval(reply);
    case 'decided': {
      const decided = reply.shown
        ? renderDecidedApproval(renderApproval(reply.shown).main, reply)
        : message(decisionText(reply), [header(reply.title), ...prose(decisionText(reply))]);
      return single(reply.again ? { ...decided, blocks: [...decided.blocks, againActions(reply.again.clusterId, reply.title)] } : decided);
    }
    case 'reminder':
      return single(message(`Reminder: the approval of ${reply.title} expires soon`, prose(reminderText(reply))));
    case 'answered':
      return single(message(reply.prompt.text, [...prose(reply.prompt.text), ...prose(answerText(reply))]));
    case 'status':
      return single(renderStatus(reply));
    case 'progress':
      return paged(reply.text, prose(`⏳ ${reply.text}`));
    case 'result': {
      const mark = reply.outcome.outcome === 'already present' ? '☑️' : '✅';
      const text = `${mark} ${reply.outcome.step}: ${reply.outcome.outcome}. ${reply.outcome.detail}`;
      return paged(text, prose(text));
    }
    case 'error': {
      const blocks = prose(`❌ ${reply.text}`);
      if (reply.correlationId) blocks.push(...prose(`Correlation id: ${code(reply.correlationId)}`));
      return paged(`Error: ${reply.text}`, blocks);
    }
  }
}

/** A private note (ephemeral / response_url): mrkdwn text, or rich_text blocks when mrkdwn cannot show it exactly. */
export function renderNote(text: string): SlackMessage | { text: string } {
  const body = mrkdwnOf(text);
  return body !== null ? { text: truncate(body, LIMIT.fallback) } : message(text, prose(text));
}

/** The characters of every `text` string of the blocks (what msg_blocks_too_long counts). */
function textLength(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + textLength(item), 0);
  if (typeof value !== 'object' || value === null) return 0;
  let sum = 0;
  for (const [key, item] of Object.entries(value)) sum += key === 'text' && typeof item === 'string' ? item.length : textLength(item);
  return sum;
}

/** The approval message after its decision: the same content, the decision line, and no buttons. */
export function renderDecidedApproval(approval: SlackMessage, decided: Decided): SlackMessage {
  const kept = approval.blocks.filter((block) => block.type !== 'actions' && block.type !== 'header');
  return message(decisionText(decided), [header(decided.title), ...kept, ...prose(decisionText(decided))]);
}

/** The session's top message: what it is, where it is now, whom it waits on, and its Cancel button while it runs. */
function renderStatus(reply: Status): SlackMessage {
  const blocks: Block[] = [...prose(statusHeadline(reply)), ...prose(reply.lines.join('\n'))];
  const waiting = waitingText(reply);
  if (waiting) blocks.push(...prose(waiting));
  if (reply.cancellable) {
    blocks.push({
      type: 'actions',
      block_id: `session:${reply.sessionId}`,
      elements: [
        {
          type: 'button',
          action_id: ACTION.cancel,
          text: { type: 'plain_text', text: 'Cancel setup' },
          value: JSON.stringify({ sessionId: reply.sessionId }),
          accessibility_label: truncate(`Cancel the ${reply.title.toLowerCase()} of ${reply.clusterId}`, LIMIT.button),
          confirm: {
            title: { type: 'plain_text', text: 'Cancel this setup?' },
            text: { type: 'plain_text', text: truncate(`The ${reply.title.toLowerCase()} of ${reply.clusterId} stops before its next change; what is done stays.`, 300) },
            confirm: { type: 'plain_text', text: 'Cancel setup' },
            deny: { type: 'plain_text', text: 'Keep going' },
          },
        },
      ],
    });
  }
  return message(statusLine(reply), blocks);
}

function renderQuestion(reply: Question): SlackMessage {
  const { prompt, sessionId } = reply;
  const blocks: Block[] = prose(prompt.text);
  const blockId = `${ANSWER_BLOCK_PREFIX}${sessionId}:${prompt.questionId}`;
  // A lone choice (a drift message's Fix) is no suggestion among others.
  const suggested = (label: string, i: number) => (i === 0 && prompt.choices.length > 1 ? `${truncate(label, LIMIT.button - 12)} (suggested)` : truncate(label, LIMIT.button));
  const actionId = (i: number) => `${ACTION.answerPrefix}${prompt.questionId}:${i}`;
  if (prompt.choices.length > 0 && prompt.choices.length <= MAX_BUTTONS) {
    blocks.push({
      type: 'actions',
      block_id: blockId,
      elements: prompt.choices.map((choice, i) => ({
        type: 'button',
        action_id: actionId(i),
        text: { type: 'plain_text', text: suggested(choice.label, i) },
        value: choice.value,
        ...(i === 0 ? { style: 'primary' as const } : {}),
      })),
    });
  } else if (prompt.choices.length > 0) {
    // Slack sends block_actions for a select only when its selection changes, so a pre-selected
    // suggestion could never be picked from the menu: it is a button beside the select instead, and the
    // select starts empty.
    const [first] = prompt.choices;
    const options = prompt.choices.slice(0, 100).map((choice, i) => ({
      text: { type: 'plain_text' as const, text: suggested(choice.label, i) },
      value: choice.value,
    }));
    blocks.push({
      type: 'actions',
      block_id: blockId,
      elements: [
        {
          type: 'button',
          action_id: actionId(0),
          text: { type: 'plain_text', text: suggested(first!.label, 0) },
          value: first!.value,
          style: 'primary',
        },
        {
          type: 'static_select',
          action_id: actionId(1),
          placeholder: { type: 'plain_text', text: `Or choose one of ${prompt.choices.length}…` },
          options,
        },
      ],
    });
    if (prompt.choices.length > 100) blocks.push(context(`The menu lists the first 100 of ${prompt.choices.length} choices.`));
  }
  if (prompt.freeText) blocks.push(context('Or type your answer in this thread.'));
  return message(prompt.text, blocks);
}

function renderApproval(reply: Approval): RenderedReply {
  const { prompt } = reply;
  const title = reply.title ?? stepTitle(prompt.request.step);
  const followUps: Block[] = [];
  const blocks: Block[] = [header(`Approval needed: ${title}`)];

  const changes = prompt.preview.changes;
  const shownChanges = fitting(changes.map((line) => `• ${line}`), CHANGES_SHOWN);
  const changeText = [...shownChanges];
  if (shownChanges.length < changes.length) {
    changeText.push(`… and ${changes.length - shownChanges.length} more: every change is listed in the replies below.`);
    followUps.push(...prose(changes.map((line) => `• ${line}`).join('\n'), `Every change of this approval (${changes.length})`));
  }
  blocks.push(...prose(changeText.join('\n'), `What will change${changes.length > 1 ? ` (${changes.length} changes)` : ''}`));

  // A fleet approval lists its changes per cluster; one cluster's resources would mislead.
  const document = reply.covers ? null : policyDocument(prompt.request);
  if (document && document.length <= DOCUMENT_SHOWN) {
    blocks.push(...sections('*Policy document*', { raw: true }), ...codeBlocks(document));
  } else if (document) {
    blocks.push(...sections(`*Policy document*: ${document.length} characters, shown in full in the replies below.`, { raw: true }));
    followUps.push(...sections('*Policy document* of the approval above', { raw: true }), ...codeBlocks(document));
  }
  const facts = approvalFacts(reply);
  const clusters = reply.covers ? clustersField(reply.covers) : null;
  if (reply.covers && clusters!.endsWith(CLUSTERS_CUT)) {
    followUps.push(...prose(reply.covers.map(code).join(', '), `Every cluster of the approval above (${reply.covers.length})`));
  }
  blocks.push(...factBlocks(facts, clusters));
  const actions = approvalActions(reply, title);
  const fallback = `Approval needed: ${title}`;
  const compact = message(fallback, [
    header(fallback),
    ...prose(`${changes.length} change(s); the details could not be shown here. Check them with \`/backup-setup status\` before approving.`),
    ...factBlocks(facts.slice(-4), null),
    actions,
  ]);
  return { main: message(fallback, [...blocks, actions]), followUps: pages(fallback, followUps), compact };
}

/** The fleet's clusters as one field; a list too long for it is cut, and the replies carry all of it. */
function clustersField(covers: string[]): string {
  const ids = covers.map((id) => mrkdwnOf(code(id)) ?? escapeText(id));
  const all = `*Clusters* (${covers.length})\n${ids.join(', ')}`;
  if (all.length <= LIMIT.field) return all;
  const shown = fitting(ids, CLUSTERS_SHOWN);
  return `*Clusters* (${covers.length})\n${shown.join(', ')} … and ${covers.length - shown.length} more ${CLUSTERS_CUT}`;
}

const CLUSTERS_CUT = '(all listed in the replies below)';

function approvalActions(reply: Approval, title: string): Block {
  const { prompt } = reply;
  const value = JSON.stringify({ sessionId: reply.sessionId, approvalId: prompt.approvalId });
  return {
    type: 'actions',
    block_id: `approval:${prompt.approvalId}`,
    elements: [
      {
        type: 'button',
        action_id: ACTION.approve,
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        // Screen readers read this instead of the text: which step the button approves.
        accessibility_label: truncate(`Approve: ${title}`, LIMIT.button),
        value,
        ...(reply.risk === 'high'
          ? {
              confirm: {
                title: { type: 'plain_text' as const, text: 'Approve this step?' },
                text: { type: 'plain_text' as const, text: truncate(plainText(`${title}: ${prompt.preview.changes.join('; ')}`), 300) },
                confirm: { type: 'plain_text' as const, text: 'Approve' },
                deny: { type: 'plain_text' as const, text: 'Cancel' },
              },
            }
          : {}),
      },
      {
        type: 'button',
        action_id: ACTION.deny,
        style: 'danger',
        text: { type: 'plain_text', text: 'Deny' },
        accessibility_label: truncate(`Deny: ${title}`, LIMIT.button),
        value,
      },
    ],
  };
}

/** The modal a Deny click opens: the step, and an optional reason (kept in the thread and the audit log). */
export const DENY_VIEW = { callbackId: 'deny_reason', block: 'reason', action: 'reason', maxLength: 500 } as const;

export interface DenyTarget {
  sessionId: string;
  approvalId: string;
  channelId: string;
  threadTs: string;
  messageTs: string;
}

export function denyModal(target: DenyTarget, step: string) {
  return {
    type: 'modal' as const,
    callback_id: DENY_VIEW.callbackId,
    private_metadata: JSON.stringify(target),
    title: { type: 'plain_text' as const, text: 'Deny this step' },
    submit: { type: 'plain_text' as const, text: 'Deny' },
    close: { type: 'plain_text' as const, text: 'Back' },
    blocks: [
      ...prose('Nothing of this step will be changed, and the setup stops. The reason is shown in the thread and kept in the audit log.', step),
      {
        type: 'input' as const,
        block_id: DENY_VIEW.block,
        optional: true,
        label: { type: 'plain_text' as const, text: 'Reason (optional)' },
        element: {
          type: 'plain_text_input' as const,
          action_id: DENY_VIEW.action,
          multiline: true,
          max_length: DENY_VIEW.maxLength,
          placeholder: { type: 'plain_text' as const, text: 'For example: use the team bucket instead' },
        },
      },
    ],
  };
}

/** "Request again" under an expired approval: the setup of the cluster starts again, with new approvals. */
function againActions(clusterId: string, title: string): Block {
  return {
    type: 'actions',
    block_id: `again:${clusterId}`,
    elements: [
      {
        type: 'button',
        action_id: ACTION.again,
        text: { type: 'plain_text', text: 'Request again' },
        value: JSON.stringify({ clusterId }),
        accessibility_label: truncate(`Request again: ${title}`, LIMIT.button),
      },
    ],
  };
}

/** The leading items whose lines fit in `budget` characters. */
function fitting(items: string[], budget: number): string[] {
  const shown: string[] = [];
  let used = 0;
  for (const item of items) {
    if (used + item.length + 1 > budget) break;
    shown.push(item);
    used += item.length + 1;
  }
  return shown;
}

function header(text: string): Block {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, LIMIT.header) } };
}

/**
 * Approval facts as section fields (10 a section), after an optional first field; a fact mrkdwn cannot show exactly
 * goes in a rich_text block under them, still as code.
 */
function factBlocks(facts: Fact[], first: string | null): Block[] {
  const literal = facts.filter(({ text }) => mrkdwnOf(text) === null);
  const fields = [
    ...(first === null ? [] : [first]),
    ...facts.filter((fact) => !literal.includes(fact)).map(({ label, text }) => `*${label}*\n${mrkdwnOf(text)}`),
  ].map((text) => ({ type: 'mrkdwn' as const, text: truncate(text, LIMIT.field) }));
  const blocks: Block[] = [];
  for (let i = 0; i < fields.length; i += 10) blocks.push({ type: 'section', fields: fields.slice(i, i + 10) });
  for (const { label, text } of literal) blocks.push(...prose(text, label));
  return blocks;
}

/**
 * Inline-marked text (and an optional bold heading, also inline-marked) as mrkdwn sections when mrkdwn shows
 * its characters exactly, else as rich_text blocks, which Slack shows literally.
 */
function prose(text: string, heading?: string): Block[] {
  const body = mrkdwnOf(text);
  const title = heading === undefined ? '' : mrkdwnOf(heading);
  if (body !== null && title !== null) return sections(heading === undefined ? body : `*${title}*\n${body}`, { raw: true });
  const bold = heading === undefined ? [] : [...richContainers(heading).flatMap((c) => c.elements), { type: 'text' as const, text: '\n' }];
  const headingElements = bold.map((e) => (e.type === 'text' ? { ...e, style: { ...e.style, bold: true } } : e));
  return chunk(text, LIMIT.section).map((part, i) => ({ type: 'rich_text', elements: richContainers(part, i === 0 ? headingElements : []) }));
}

function context(mrkdwn: string): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(mrkdwn, LIMIT.section) }] };
}

/**
 * Text as sections of at most 3000 characters; escaped unless `raw` (markup we wrote). A code fence cut
 * by a section boundary is closed at the end of one section and opened again in the next, so every
 * section renders on its own.
 */
function sections(text: string, options: { raw?: boolean } = {}): Block[] {
  const body = options.raw ? text : escapeMrkdwn(text);
  const room = LIMIT.section - 2 * (CODE_FENCE.length + 1);
  const parts: string[] = [];
  let inFence = false;
  for (const part of chunk(body, room)) {
    const opened = inFence ? `${CODE_FENCE}\n${part}` : part;
    const fences = part.split('\n').filter((line) => line.trimStart().startsWith(CODE_FENCE)).length;
    inFence = fences % 2 === 1 ? !inFence : inFence;
    parts.push(inFence ? `${opened}\n${CODE_FENCE}` : opened);
  }
  return parts.map((part) => ({
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(part === '' ? ' ' : part, LIMIT.section) },
  }));
}

/** A code block split over as many sections as it needs, each fenced on its own. */
function codeBlocks(text: string): Block[] {
  const room = LIMIT.section - 2 * CODE_FENCE.length - 2;
  // A fence inside the text would end the block early: such text goes to rich_text, shown literally.
  if (text.includes(CODE_FENCE)) {
    return chunk(text, LIMIT.section).map((part) => ({ type: 'rich_text', elements: [{ type: 'rich_text_preformatted', elements: [{ type: 'text', text: part }] }] }));
  }
  return chunk(escapeText(text), room).map((part) => ({
    type: 'section',
    text: { type: 'mrkdwn', text: `${CODE_FENCE}\n${part}\n${CODE_FENCE}` },
  }));
}

/** Blocks grouped into messages that each stay within 50 blocks and the text budget. */
function pages(fallback: string, blocks: Block[]): SlackMessage[] {
  const out: Block[][] = [];
  let current: Block[] = [];
  let used = 0;
  for (const block of blocks) {
    const size = textLength(block);
    if (current.length > 0 && (current.length >= LIMIT.blocks || used + size > MESSAGE_TEXT_BUDGET)) {
      out.push(current);
      current = [];
      used = 0;
    }
    current.push(block);
    used += size;
  }
  if (current.length > 0) out.push(current);
  return out.map((page, i) => message(out.length > 1 ? `${fallback} (${i + 1}/${out.length})` : fallback, page));
}

/** A reply whose blocks may need several messages: the first is the reply, the others follow in its thread. */
function paged(fallback: string, blocks: Block[]): RenderedReply {
  const [main, ...followUps] = pages(fallback, blocks);
  if (followUps.length === 0) return { main: main!, followUps };
  const note = context(`Continued in ${followUps.length} repl${followUps.length === 1 ? 'y' : 'ies'} in this thread.`);
  return { main: { ...main!, blocks: [...main!.blocks, note] }, followUps };
}

function single(main: SlackMessage): RenderedReply {
  return { main, followUps: [] };
}

function message(fallback: string, blocks: Block[]): SlackMessage {
  return { text: truncate(mrkdwnOf(fallback) ?? fallbackOf(fallback), LIMIT.fallback), blocks };
}
