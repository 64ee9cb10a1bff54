// The closing message of a flow: what happened, what was changed, and what was not.
import type { FlowOutput, FlowStatus } from '../contract.ts';
import { KIND_LABEL } from '../domain/cluster.ts';
import { describeStep } from '../steps.ts';
import type { FlowContext } from './context.ts';
import { code, person } from '../domain/inline.js';

export interface ClosingCause {
  /** Who denied or cancelled. */
  by?: string;
  /** The (human-readable) error of a failed read, preview or apply. */
  error?: string;
}

export function closingOutput(status: FlowStatus, context: FlowContext, cause: ClosingCause): FlowOutput {
  const test = testLine(status, context);
  const lines = context.testOnly
    ? [test ?? headline(status, context, cause), ...summary(status, context)]
    : [headline(status, context, cause), ...(test ? [test] : []), ...summary(status, context)];
  const interrupted = status === 'cancelled' && context.current?.phase === 'applying' ? context.current.request : undefined;
  return { status, message: lines.join('\n'), completed: context.completed, ...(interrupted ? { interrupted } : {}) };
}

/** "✅ Test backup of kube-public: 12 objects written to oss://… in 2 s, then removed", or the passed one on record. */
function testLine(status: FlowStatus, context: FlowContext): string | null {
  const outcome = context.completed.findLast((o) => o.step === 'testBackup');
  return status === 'complete' && outcome ? `✅ ${outcome.detail}` : null;
}

function headline(status: FlowStatus, context: FlowContext, cause: ClosingCause): string {
  const { facts, current } = context;
  const step = current ? describeStep(current.request) : null;
  switch (status) {
    case 'complete': {
      const where = `${code(facts.name)} (${code(facts.clusterId)}, ${KIND_LABEL[context.kind]})`;
      const backups = `backups go to bucket ${code(context.bucket ?? '')} in ${context.region}.`;
      const manual = context.manualSteps ?? [];
      // Not "complete" while a person still has a console step to do (issue 15: ask everything up front).
      if (manual.length === 1) return `⚠️ Backup center set up for ${where} — one manual step left: ${manual[0]}. Once done, ${backups}`;
      if (manual.length > 1) return `⚠️ Backup center set up for ${where} — ${manual.length} manual steps left: ${manual.join('; ')}. Once done, ${backups}`;
      return `✅ Backup center setup complete for ${where}: ${backups}`;
    }
    case 'denied':
      return `❌ Stopped: ${cause.by ? person(cause.by) : 'an approver'} denied "${step}".`;
    case 'expired':
      return `⌛ Stopped: nobody decided on "${step}" before the approval expired.`;
    case 'failed':
      if (!current && context.testFailure) return `❌ Stopped: the test backup failed: ${context.testFailure.message}`;
      return current?.phase === 'previewing'
        ? `❌ Stopped: could not check "${step}": ${cause.error}`
        : `❌ Stopped: "${step}" failed: ${cause.error}`;
    case 'cancelled':
      // What a step that was running really did is known to the session runtime, which adds it.
      return `🛑 Cancelled by ${cause.by ? person(cause.by) : 'the requester'}.`;
    case 'unsupported':
    case 'abandoned':
      return `Stopped (${status}).`;
  }
}

function summary(status: FlowStatus, context: FlowContext): string[] {
  // The test backup is said on its own line; it changes nothing that stays.
  const steps = context.completed.filter((o) => o.step !== 'testBackup');
  const changed = steps.filter((o) => o.outcome !== 'already present');
  const present = steps.filter((o) => o.outcome === 'already present');
  const done = new Set(context.completed.map((o) => o.step));
  // A complete flow left out only the steps whose condition did not hold (the restart). A step that
  // was running when a cancel came is reported by the session runtime, which knows how far it got.
  const interrupted = status === 'cancelled' && context.current?.phase === 'applying' ? context.current.request.step : null;
  const notDone = status === 'complete' ? [] : context.plan.steps.filter((s) => !done.has(s.request.step) && s.request.step !== interrupted);
  const lines: string[] = [];
  lines.push(changed.length > 0 ? 'Changed:' : 'Nothing was changed.');
  lines.push(...changed.map((o) => `• ${o.detail}`));
  if (present.length > 0) lines.push('Already in place:', ...present.map((o) => `• ${o.detail}`));
  if (notDone.length > 0) {
    lines.push(
      'Not done:',
      ...notDone.map((s) => `• ${describeStep(s.request)}${s.onlyIfSecretChanged ? ' (only if the Secret changed)' : ''}`),
    );
  }
  const todo = [...(context.manualSteps ?? []).map((m) => `${m[0]!.toUpperCase()}${m.slice(1)}: until then backup and restore jobs fail.`), ...context.reminders];
  if (todo.length > 0) lines.push('Still to do:', ...todo.map((r) => `• ${r}`));
  return lines;
}
