// A session's top message: posted as "Reading the cluster…", then kept up to date with where the setup
// is (step k of n, waiting on whom), and at the end replaced by its summary (created, already present,
// not done, where the vault is). Rendered from what the flow keeps, so any replica renders the same.
import type { FlowOutput, Prompt, UserId } from '../../flows/contract.ts';
import type { FlowContext } from '../../flows/blocks/context.ts';
import { describeStep } from '../../flows/steps.ts';
import type { Reply } from '../chat/model.ts';

export type StatusReply = Extract<Reply, { kind: 'status' }>;

export interface HeadOf {
  sessionId: string;
  clusterId: string;
  requester: UserId;
  /** The test backup alone (`verify --test-backup`), not a setup. */
  testOnly: boolean;
  startedAt: Date;
}

function head(of: HeadOf, lines: string[], waitingOn: UserId[], cancellable: boolean): StatusReply {
  const title = of.testOnly ? 'Test backup' : 'Backup center setup';
  const startedAt = of.startedAt.toISOString();
  return {
    kind: 'status',
    sessionId: of.sessionId,
    clusterId: of.clusterId,
    title,
    text: `${title} for \`${of.clusterId}\`: ${lines[0] ?? ''}`,
    requester: of.requester,
    startedAt,
    lines,
    waitingOn,
    cancellable,
  };
}

export function readingHead(of: HeadOf): StatusReply {
  return head(of, ['Reading the cluster…'], [], true);
}

/** Where the setup is while it waits on people. */
export function waitingHead(of: HeadOf, context: FlowContext, prompt: Prompt, approvers: readonly UserId[]): StatusReply {
  if (prompt.kind === 'question') {
    const question = prompt.text.split('\n')[0]!;
    return head(of, [`Waiting for an answer to: ${question}`], [of.requester], true);
  }
  return head(of, [`${stepPosition(context, prompt)}: ${describeStep(prompt.request)} — waiting for an approver.`], [...approvers], true);
}

/** Where the setup is while an approved step runs. */
export function applyingHead(of: HeadOf, context: FlowContext, prompt: Extract<Prompt, { kind: 'approval' }>): StatusReply {
  return head(of, [`${stepPosition(context, prompt)}: ${describeStep(prompt.request)} — approved, in progress.`], [], true);
}

function stepPosition(context: FlowContext, prompt: Extract<Prompt, { kind: 'approval' }>): string {
  const { steps } = context.plan;
  const index = steps.findIndex((s) => s.request.step === prompt.request.step);
  const done = context.completed.length > 0 ? ` (${context.completed.length} done)` : '';
  return `${index >= 0 ? `Step ${index + 1} of ${steps.length}` : 'Step'}${done}`;
}

/** The summary the top message ends with. */
export function endedHead(of: HeadOf, output: FlowOutput, context: FlowContext | null): StatusReply {
  const headline = output.message.split('\n')[0]!;
  const completed = output.completed.filter((o) => o.step !== 'testBackup');
  const changed = completed.filter((o) => o.outcome !== 'already present').length;
  const present = completed.length - changed;
  const lines = [headline];
  if (context && context.plan.steps.length > 0) {
    const finished = new Set(output.completed.map((o) => o.step));
    const notDone = output.status === 'complete' ? 0 : context.plan.steps.filter((s) => !finished.has(s.request.step)).length;
    lines.push(`Created or changed: ${changed} · already present: ${present} · not done: ${notDone}.`);
  } else if (completed.length > 0) {
    lines.push(`Created or changed: ${changed} · already present: ${present}.`);
  }
  const vault = output.completed.findLast((o) => o.step === 'createBackupVault');
  if (vault) lines.push(`Backup vault: ${vault.detail}`);
  lines.push('The whole story is in this thread.');
  return head(of, lines, [], false);
}
