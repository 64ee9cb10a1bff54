// What approval and decision messages say, the same on every platform: each adapter only renders these
// texts (inline marks of flows/domain/inline.js) in its own markup.
import type { StepRequest } from '../../flows/contract.ts';
import { code, person, time } from '../../flows/domain/inline.js';
import type { ApprovalReply, Reply } from './model.ts';
import { chosen } from './answer-line.ts';

type Decided = Extract<Reply, { kind: 'decided' }>;
type Answered = Extract<Reply, { kind: 'answered' }>;
type Reminder = Extract<Reply, { kind: 'reminder' }>;
type Status = Extract<Reply, { kind: 'status' }>;

/** The parameters a person checks before approving (the policy document is shown on its own). */
export function resources(request: StepRequest): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.params)) {
    if (name === 'document' || value === null || typeof value === 'object') continue;
    shown[name] = String(value);
  }
  return shown;
}

export function policyDocument(request: StepRequest): string | null {
  return request.step === 'ensurePolicy' ? JSON.stringify(request.params.document, null, 2) : null;
}

/** "createRamUser" → "Create ram user", used when the reply carries no title. */
export function stepTitle(step: string): string {
  const words = step.replace(/([A-Z])/g, ' $1').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export interface Fact {
  label: string;
  /** Inline-marked text. */
  text: string;
}

/** "high — creates a long-lived AccessKey …": the level and why. */
export function riskText(reply: ApprovalReply): string {
  return reply.riskReason ? `${reply.risk} — ${reply.riskReason}` : reply.risk;
}

/** The facts under an approval's changes: its parameters (unless a fleet approval), risk, APIs, expiry, requester. */
export function approvalFacts(reply: ApprovalReply): Fact[] {
  const params = reply.covers ? [] : Object.entries(resources(reply.prompt.request)).map(([label, value]) => ({ label, text: code(value) }));
  return [
    ...params,
    { label: 'Risk', text: riskText(reply) },
    { label: 'APIs', text: reply.apis.length ? reply.apis.map(code).join(', ') : 'none' },
    { label: 'Expires', text: time(reply.expiresAt) },
    { label: 'Requested by', text: person(reply.requester) },
  ];
}

/** Who decided and when ("✅ Approved by @Avery at …"), or why nobody did. */
export function decisionText(decided: Decided): string {
  const at = time(decided.at);
  const by = person(decided.by);
  switch (decided.decision) {
    case 'approved':
      return `✅ Approved by ${by} at ${at}`;
    case 'denied':
      // A deny reason is typed by a person: shown as code, so it keeps its characters and carries no markup.
      return `🚫 Denied by ${by} at ${at}${decided.reason ? ` (reason: ${code(decided.reason)})` : ''}`;
    case 'expired':
      return `⌛ Expired at ${at}; nothing was changed`;
    case 'closed':
      return `🔒 Closed at ${at}${decided.reason ? `: ${decided.reason}` : ''}; nothing was decided or changed`;
  }
}

/** The line under an answered question: who chose what ("Riley chose bucket `my-backups` (existing)"), or why it closed. */
export function answerText(answered: Answered): string {
  return answered.answer
    ? `✔️ ${person(answered.answer.by)} chose ${chosen(answered.answer, code, (label) => label, (text) => text)}`
    : `🔒 Closed without an answer${answered.reason ? `: ${answered.reason}` : ''}`;
}

/** The reminder to the approvers before an approval expires. */
export function reminderText(reminder: Reminder): string {
  return `⏰ ${reminder.approvers.map(person).join(', ')}: the approval of ${reminder.title} expires at ${time(reminder.expiresAt)}. ` +
    'Approve or deny it above; once it has expired, it can be requested again.';
}

/** The first line of a session's top message: what, of which cluster, who asked and when. */
export function statusHeadline(status: Status): string {
  return `${status.title} for ${code(status.clusterId)}, requested by ${person(status.requester)} at ${time(status.startedAt)}.`;
}

/** The top message in one line, for a notification: what, of which cluster, who asked, where it is now. */
export function statusLine(status: Status): string {
  return `${status.title} for ${code(status.clusterId)}, requested by ${person(status.requester)}: ${status.lines[0] ?? ''}`;
}

/** Whom the session waits on now; null when nobody. */
export function waitingText(status: Status): string | null {
  return status.waitingOn.length > 0 ? `Waiting on ${status.waitingOn.map(person).join(', ')}` : null;
}
