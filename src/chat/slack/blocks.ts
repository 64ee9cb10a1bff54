// Renders neutral replies as Block Kit messages that stay within Slack's limits.
import type { types } from '@slack/bolt';
import type { Reply } from '../model.ts';
import { chunk, escapeMrkdwn, mention, slackDate, truncate } from './mrkdwn.ts';
import { policyDocument, resources, stepTitle } from '../approval-details.ts';

type Block = types.KnownBlock;
type Approval = Extract<Reply, { kind: 'approval' }>;
type Question = Extract<Reply, { kind: 'question' }>;
type Decided = Extract<Reply, { kind: 'decided' }>;

export interface SlackMessage {
  /** Notification and screen-reader fallback. */
  text: string;
  blocks: Block[];
}

/** Action ids the adapter listens to. */
export const ACTION = { approve: 'approve', deny: 'deny', answerPrefix: 'answer:' } as const;
/** block_id of a question's choices: `answer:<sessionId>:<questionId>` (the value then fits Slack's 150-character option value). */
export const ANSWER_BLOCK_PREFIX = 'answer:';

const LIMIT = { section: 3000, field: 2000, header: 150, button: 75, option: 75, fallback: 3000, blocks: 50 } as const;
const MAX_BUTTONS = 5;
const CODE_FENCE = '```';

export function renderReply(reply: Reply): SlackMessage {
  switch (reply.kind) {
    case 'text':
    case 'help':
      return message(reply.text, sections(reply.text));
    case 'plan':
      return message(reply.title, [
        ...sections(`*${escapeMrkdwn(reply.title)}*`, { raw: true }),
        ...sections(reply.lines.map((line) => `• ${line}`).join('\n')),
      ]);
    case 'question':
      return renderQuestion(reply);
    case 'approval':
      return renderApproval(reply);
    case 'decided':
      return reply.shown
        ? renderDecidedApproval(renderApproval(reply.shown), reply)
        : message(decisionLine(reply, false), [header(reply.title), ...decisionBlocks(reply)]);
    case 'answered': {
      const line = reply.answer
        ? `✔️ ${mention(reply.answer.by)} chose *${escapeMrkdwn(reply.answer.label)}*`
        : `🔒 Closed without an answer${reply.reason ? `: ${escapeMrkdwn(reply.reason)}` : ''}`;
      return message(reply.prompt.text, [...sections(reply.prompt.text), ...sections(line, { raw: true })]);
    }
    case 'progress':
      return message(reply.text, sections(`⏳ ${reply.text}`));
    case 'result': {
      const mark = reply.outcome.outcome === 'already present' ? '☑️' : '✅';
      const text = `${mark} ${reply.outcome.step}: ${reply.outcome.outcome}. ${reply.outcome.detail}`;
      return message(text, sections(text));
    }
    case 'done':
      return message(reply.text, sections(reply.text));
    case 'error': {
      const blocks = sections(`❌ ${reply.text}`);
      if (reply.correlationId) blocks.push(context(`Correlation id: \`${escapeMrkdwn(reply.correlationId)}\``));
      return message(`Error: ${reply.text}`, blocks);
    }
  }
}

/** The approval message after its decision: the same content, the decision line, and no buttons. */
export function renderDecidedApproval(approval: SlackMessage, decided: Decided): SlackMessage {
  const kept = approval.blocks.filter((block) => block.type !== 'actions' && block.type !== 'header');
  return message(decisionLine(decided, false), [header(decided.title), ...kept, ...decisionBlocks(decided)]);
}

function renderQuestion(reply: Question): SlackMessage {
  const { prompt, sessionId } = reply;
  const blocks: Block[] = sections(prompt.text);
  const blockId = `${ANSWER_BLOCK_PREFIX}${sessionId}:${prompt.questionId}`;
  const suggested = (label: string, i: number) => (i === 0 ? `${truncate(label, LIMIT.button - 12)} (suggested)` : truncate(label, LIMIT.button));
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
    const options = prompt.choices.slice(0, 100).map((choice, i) => ({
      text: { type: 'plain_text' as const, text: suggested(choice.label, i) },
      value: choice.value,
    }));
    blocks.push({
      type: 'actions',
      block_id: blockId,
      elements: [
        {
          type: 'static_select',
          action_id: actionId(0),
          placeholder: { type: 'plain_text', text: 'Choose…' },
          options,
          initial_option: options[0],
        },
      ],
    });
  }
  if (prompt.freeText) blocks.push(context('Or type your answer in this thread.'));
  return message(prompt.text, blocks);
}

function renderApproval(reply: Approval): SlackMessage {
  const { prompt } = reply;
  const title = reply.title ?? stepTitle(prompt.request.step);
  const blocks: Block[] = [header(`Approval needed: ${title}`)];
  const changes = prompt.preview.changes.map((line) => `• ${line}`).join('\n');
  blocks.push(...sections(`*What will change*\n${escapeMrkdwn(changes)}`, { raw: true }));
  // A fleet approval lists its changes per cluster; one cluster's resources would mislead.
  const document = reply.covers ? null : policyDocument(prompt.request);
  if (document) blocks.push(...sections('*Policy document*', { raw: true }), ...codeBlocks(document));
  const fields = [
    ...(reply.covers
      ? [`*Clusters*\n${escapeMrkdwn(reply.covers.join(', '))}`]
      : Object.entries(resources(prompt.request)).map(([name, value]) => `*${escapeMrkdwn(name)}*\n${escapeMrkdwn(value)}`)),
    `*Risk*\n${reply.risk}`,
    `*APIs*\n${escapeMrkdwn(reply.apis.join(', ') || 'none')}`,
    `*Expires*\n${slackDate(reply.expiresAt)}`,
    `*Requested by*\n${mention(reply.requester)}`,
  ];
  for (let i = 0; i < fields.length; i += 10) {
    blocks.push({
      type: 'section',
      fields: fields.slice(i, i + 10).map((text) => ({ type: 'mrkdwn' as const, text: truncate(text, LIMIT.field) })),
    });
  }
  const value = JSON.stringify({ sessionId: reply.sessionId, approvalId: prompt.approvalId });
  blocks.push({
    type: 'actions',
    block_id: `approval:${prompt.approvalId}`,
    elements: [
      {
        type: 'button',
        action_id: ACTION.approve,
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value,
        ...(reply.risk === 'high'
          ? {
              confirm: {
                title: { type: 'plain_text' as const, text: 'Approve this step?' },
                text: { type: 'plain_text' as const, text: truncate(`${title}: ${prompt.preview.changes.join('; ')}`, 300) },
                confirm: { type: 'plain_text' as const, text: 'Approve' },
                deny: { type: 'plain_text' as const, text: 'Cancel' },
              },
            }
          : {}),
      },
      { type: 'button', action_id: ACTION.deny, style: 'danger', text: { type: 'plain_text', text: 'Deny' }, value },
    ],
  });
  return message(`Approval needed: ${title}`, capBlocks(blocks));
}

function decisionLine(decided: Decided, markup: boolean): string {
  const by = markup ? mention(decided.by) : decided.by;
  const at = markup ? slackDate(decided.at) : decided.at;
  switch (decided.decision) {
    case 'approved':
      return `✅ Approved by ${by} at ${at}`;
    case 'denied':
      return `🚫 Denied by ${by} at ${at}${decided.reason ? ` (${markup ? escapeMrkdwn(decided.reason) : decided.reason})` : ''}`;
    case 'expired':
      return `⌛ Expired at ${at}; nothing was changed`;
    case 'closed':
      return `🔒 Closed at ${at}${decided.reason ? `: ${markup ? escapeMrkdwn(decided.reason) : decided.reason}` : ''}; nothing was decided or changed`;
  }
}

function decisionBlocks(decided: Decided): Block[] {
  return [{ type: 'section', text: { type: 'mrkdwn', text: truncate(decisionLine(decided, true), LIMIT.section) } }];
}

function header(text: string): Block {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, LIMIT.header) } };
}

function context(mrkdwn: string): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(mrkdwn, LIMIT.section) }] };
}

/** Text as one or more sections of at most 3000 characters; escaped unless `raw` (markup we wrote). */
function sections(text: string, options: { raw?: boolean } = {}): Block[] {
  const body = options.raw ? text : escapeMrkdwn(text);
  return chunk(body, LIMIT.section).map((part) => ({
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(part === '' ? ' ' : part, LIMIT.section) },
  }));
}

/** A code block split over as many sections as it needs, each fenced on its own. */
function codeBlocks(code: string): Block[] {
  const room = LIMIT.section - 2 * CODE_FENCE.length - 2;
  return chunk(escapeMrkdwn(code), room).map((part) => ({
    type: 'section',
    text: { type: 'mrkdwn', text: `${CODE_FENCE}\n${part}\n${CODE_FENCE}` },
  }));
}

function capBlocks(blocks: Block[]): Block[] {
  if (blocks.length <= LIMIT.blocks) return blocks;
  const actions = blocks.filter((b) => b.type === 'actions');
  const room = LIMIT.blocks - actions.length - 1;
  const content = blocks.filter((b) => b.type !== 'actions');
  return [...content.slice(0, room), context(`… ${content.length - room} more block(s) not shown.`), ...actions];
}

function message(fallback: string, blocks: Block[]): SlackMessage {
  return { text: truncate(escapeMrkdwn(fallback), LIMIT.fallback), blocks: capBlocks(blocks) };
}
