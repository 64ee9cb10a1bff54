// The one xstate setup every setup flow is built from: its context, events, notices, actors and the
// named actions and guards the building blocks refer to.
import { assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import {
  isTestBackupFailure,
  type AuthorizeInConsoleInput,
  type ClusterFacts,
  type ConsoleAuthorization,
  type FlowEvent,
  type FlowInput,
  type FlowNotice,
  type FlowOutput,
  type FlowStatus,
  type QuestionId,
  type ReadClusterInput,
  type StepName,
  type StepOutcome,
  type StepPreview,
  type StepRequest,
} from '../contract.ts';
import { EDGE_NETWORK, NO_VOLUME_BACKUP } from '../domain/guidance.ts';
import { KIND_LABEL } from '../domain/cluster.ts';
import { serviceOffNotice, servicesOff } from '../domain/services.ts';
import {
  answerProblem,
  apiGatewayManualStep,
  apiGatewaySkippedReminder,
  prerequisiteLines,
  prerequisiteMet,
  questionPrompt,
  recheckNotice,
  recordAnswer,
  type AskedQuestion,
} from '../questions.ts';
import { describeStep } from '../steps.ts';
import { testBackupName } from '../domain/names.ts';
import { closingOutput } from './closing.ts';
import type { FlowContext } from './context.ts';
import { code, person } from '../domain/inline.js';

type Confirmation = ConsoleAuthorization;

/** Placeholder actors; the session runtime provides real ones with `machine.provide({ actors })`. */
function notProvided<TOutput, TInput>(name: string) {
  return fromPromise<TOutput, TInput>(async () => {
    throw new Error(`${name} not provided`);
  });
}

function errorMessage(event: unknown): string {
  const error = (event as { error?: unknown }).error;
  return error instanceof Error ? error.message : String(error);
}

/** The error of a step the session stopped for a cancel (the executor's StepStopped, as data). */
function cancelStop(event: unknown): { cancelledBy: string | null } | null {
  const error = (event as { error?: { code?: unknown; reason?: unknown; cancelledBy?: unknown } }).error;
  if (error?.code !== 'Stopped' || error.reason !== 'cancelled') return null;
  return { cancelledBy: typeof error.cancelledBy === 'string' ? error.cancelledBy : null };
}

export const flowSetup = setup({
  types: {
    context: {} as FlowContext,
    events: {} as FlowEvent,
    input: {} as FlowInput,
    output: {} as FlowOutput,
    emitted: {} as FlowNotice,
  },
  actors: {
    previewStep: notProvided<StepPreview, StepRequest>('previewStep'),
    applyStep: notProvided<StepOutcome, StepRequest>('applyStep'),
    readCluster: notProvided<ClusterFacts, ReadClusterInput>('readCluster'),
    authorizeInConsole: notProvided<void, AuthorizeInConsoleInput>('authorizeInConsole'),
  },
  actions: {
    ask: assign(({ context }, params: { questionId: AskedQuestion }) => ({
      prompt: questionPrompt(params.questionId, context),
    })),
    clearPrompt: assign({ prompt: null }),
    recordAnswer: assign(({ event }, params: { questionId: AskedQuestion }) =>
      event.type === 'ANSWER' ? recordAnswer(params.questionId, event.value.trim()) : {},
    ),
    rejectAnswer: emit(({ context, event }, params: { questionId: AskedQuestion }) => ({
      type: 'notice' as const,
      level: 'warning' as const,
      text: event.type === 'ANSWER' ? (answerProblem(params.questionId, context, event.value.trim()) ?? '') : '',
    })),
    reportRecheck: emit(({ context }, params: { questionId: Confirmation }) => {
      const met = prerequisiteMet(params.questionId, context);
      return { type: 'notice' as const, level: met ? ('info' as const) : ('warning' as const), text: recheckNotice(params.questionId, met) };
    }),
    reportRecheckFailure: emit(({ event }) => ({
      type: 'notice' as const,
      level: 'warning' as const,
      text: `Could not check again: ${errorMessage(event)} Try "check again" once more in a moment.`,
    })),
    skipApiGateway: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ manualSteps: [...(context.manualSteps ?? []), apiGatewayManualStep(context.facts.region)] });
      enqueue.emit({ type: 'notice', level: 'warning', text: `Skipped for now. ${apiGatewaySkippedReminder(context.facts.region)}` });
    }),
    reportConsoleFailure: emit(({ event }) => ({
      type: 'notice' as const,
      level: 'warning' as const,
      text: `The emulated console could not authorize it: ${errorMessage(event)}`,
    })),
    /** Before any question: the cluster kind's notes, and each service that is off (what it is for, what it costs). */
    announcePrerequisites: enqueueActions(({ context, enqueue }) => {
      for (const service of servicesOff(context.facts)) {
        enqueue.emit({ type: 'notice', level: 'warning', text: serviceOffNotice(service, context.facts.region) });
      }
      if (context.kind === 'serverless-pro' || context.kind === 'edge') {
        enqueue.emit({ type: 'notice', level: 'info', text: NO_VOLUME_BACKUP[context.kind] });
      }
      if (context.kind === 'edge') enqueue.emit({ type: 'notice', level: 'info', text: EDGE_NETWORK });
    }),
    announcePlan: enqueueActions(({ context, enqueue }) => {
      const { facts, plan } = context;
      enqueue.emit({
        type: 'plan',
        title: context.repair
          ? `Fix for ${code(facts.name)} (${code(facts.clusterId)}, ${KIND_LABEL[context.kind]}): only what drifted, each step asks for an approval first`
          : `Plan for ${code(facts.name)} (${code(facts.clusterId)}, ${KIND_LABEL[context.kind]}): each step asks for an approval first`,
        lines: plan.steps.map(
          (s) => `${describeStep(s.request)}${s.onlyIfSecretChanged ? ' (only if the Secret is created or changed, since the add-on is already running)' : ''}`,
        ),
      });
      enqueue.emit({ type: 'notice', level: 'info', text: `Prerequisites, checked before any change:\n${prerequisiteLines(context).join('\n')}` });
      for (const text of plan.notices) enqueue.emit({ type: 'notice', level: 'info', text });
    }),
    startStep: assign(({ context }, params: { step: StepName }) => {
      const planned = context.plan.steps.find((s) => s.request.step === params.step);
      if (!planned) throw new Error(`step ${params.step} is not planned`);
      return { current: { request: planned.request, phase: 'previewing' as const } };
    }),
    startApplying: assign(({ context }) => ({
      current: context.current && { ...context.current, phase: 'applying' as const },
    })),
    recordTestFailure: assign(({ event }) => {
      const error = (event as { error?: unknown }).error;
      return isTestBackupFailure(error) ? { testFailure: { message: error.message, remedy: error.remedy }, current: null } : {};
    }),
    /**
     * A new attempt of the test backup: a new name (the failed one's stays taken), run whatever the vault records. With
     * `fixPolicy` the policy step goes first, as a request of its own (it names the failed test it fixes).
     */
    nextTestAttempt: assign(({ context }, params: { fixPolicy: boolean }) => {
      const attempt = (context.attempts.testBackup ?? 1) + 1;
      const failed = context.plan.steps.find((s) => s.request.step === 'testBackup')?.request.params as { backupName?: string } | undefined;
      return {
        testFailure: null,
        plan: {
          ...context.plan,
          steps: context.plan.steps.map((s) => {
            if (s.request.step === 'testBackup') {
              return { ...s, request: { step: 'testBackup' as const, params: { ...s.request.params, backupName: testBackupName(context.sessionId, attempt), force: true } } };
            }
            if (s.request.step === 'ensurePolicy' && params.fixPolicy) {
              return { ...s, request: { step: 'ensurePolicy' as const, params: { ...s.request.params, fixesTest: failed?.backupName ?? `attempt ${attempt - 1}` } } };
            }
            return s;
          }),
        },
      };
    }),
    /** A denied (or expired) test backup leaves the setup complete but unproven, and says how to prove it later. */
    skipTestBackup: enqueueActions(({ context, event, enqueue }, params: { why: 'denied' | 'expired' }) => {
      const by = 'by' in event ? ` by ${person(event.by)}` : '';
      const reminder =
        `No test backup was run (${params.why === 'denied' ? `denied${by}` : 'the approval expired'}): ` +
        `\`/backup-setup verify ${context.facts.clusterId} --test-backup\` runs one when you are ready.`;
      enqueue.assign({ reminders: [...context.reminders, reminder], current: null });
      enqueue.emit({ type: 'notice', level: 'warning', text: reminder });
    }),
    close: assign(({ context, event }, params: { status: FlowStatus }) => ({
      prompt: null,
      output: closingOutput(params.status, context, {
        by: 'by' in event ? event.by : (cancelStop(event)?.cancelledBy ?? undefined),
        error: params.status === 'failed' ? errorMessage(event) : undefined,
      }),
    })),
  },
  guards: {
    repairing: ({ context }) => (context.repair ?? null) !== null,
    stoppedByCancel: ({ event }) => cancelStop(event) !== null,
    answers: ({ event }, params: { questionId: QuestionId }) => event.type === 'ANSWER' && event.questionId === params.questionId,
    answerRejected: ({ context, event }, params: { questionId: AskedQuestion }) =>
      event.type === 'ANSWER' &&
      event.questionId === params.questionId &&
      answerProblem(params.questionId, context, event.value.trim()) !== null,
    answerIs: ({ event }, params: { questionId: QuestionId; value: string }) =>
      event.type === 'ANSWER' && event.questionId === params.questionId && event.value.trim() === params.value,
    prerequisiteMet: ({ context }, params: { questionId: Confirmation }) => prerequisiteMet(params.questionId, context),
    /** Planned, and for the restart: the Secret step created or changed the Secret. */
    stepDue: ({ context }, params: { step: StepName }) => {
      const planned = context.plan.steps.find((s) => s.request.step === params.step);
      if (!planned) return false;
      if (!planned.onlyIfSecretChanged) return true;
      const secret = context.completed.find((o) => o.step === 'createAccessKeySecret');
      return secret !== undefined && secret.outcome !== 'already present';
    },
    /** The test backup failed as a backup (the component's error), not as a call the bot could not make. */
    testBackupFailed: ({ event }) => isTestBackupFailure((event as { error?: unknown }).error),
    /** A denial or expiry of the test backup shown now, in a setup (a test-only session stops instead). */
    decidesShownSkippableTest: ({ context, event }) =>
      !context.testOnly &&
      (event.type === 'DENY' || event.type === 'EXPIRE') &&
      context.prompt?.kind === 'approval' &&
      event.approvalId === context.prompt.approvalId,
    /** The decision is about the approval shown now (a stale click changes nothing). */
    decidesShownApproval: ({ context, event }) =>
      (event.type === 'APPROVE' || event.type === 'DENY' || event.type === 'EXPIRE') &&
      context.prompt?.kind === 'approval' &&
      event.approvalId === context.prompt.approvalId,
  },
});
