// The privileged-step block: preview, then (unless already in place) an approval, then apply. Nothing is
// changed without an APPROVE of the exact approval shown.
import { assign, emit } from 'xstate';
import type { StepName, StepOutcome } from '../contract.ts';
import { describeStep, STEP_ORDER } from '../steps.ts';
import { flowSetup } from './setup.ts';

/**
 * `id` names the state when a step is entered again from elsewhere (the policy step a failed test backup goes back to).
 * The test backup differs from the other steps in two ways: a denial (or expiry) skips it and the setup completes with a
 * reminder, and a failed backup (not a failed call) asks what to do instead of stopping (blocks/test-backup.ts).
 */
export function privilegedStep(step: StepName, next: string, id: string = step) {
  const isTest = step === 'testBackup';
  const declined = (type: 'denied' | 'expired') =>
    isTest
      ? [
          { guard: 'decidesShownSkippableTest' as const, target: `#${next}`, actions: { type: 'skipTestBackup' as const, params: { why: type } } },
          { guard: 'decidesShownApproval' as const, target: `#${type}` },
        ]
      : { guard: 'decidesShownApproval' as const, target: `#${type}` };
  return flowSetup.createStateConfig({
    id,
    initial: 'deciding',
    states: {
      deciding: {
        always: [
          { guard: { type: 'stepDue', params: { step } }, target: 'previewing', actions: { type: 'startStep', params: { step } } },
          { target: `#${next}` },
        ],
      },
      previewing: {
        invoke: {
          id: 'previewStep',
          src: 'previewStep',
          input: ({ context }) => context.current!.request,
          onDone: [
            {
              guard: function previewUpToDate({ event }) {
                return event.output.upToDate;
              },
              target: `#${next}`,
              actions: [
                assign(({ context, event }) => {
                  const outcome: StepOutcome = {
                    step,
                    outcome: 'already present',
                    detail: event.output.changes.join('; ') || describeStep(context.current!.request),
                  };
                  return { completed: [...context.completed, outcome], current: null };
                }),
                emit(({ context }) => ({ type: 'stepDone' as const, outcome: context.completed.at(-1)! })),
              ],
            },
            {
              target: 'awaitingApproval',
              actions: assign(({ context, event }) => {
                const attempt = (context.attempts[step] ?? 0) + 1;
                return {
                  attempts: { ...context.attempts, [step]: attempt },
                  current: { request: context.current!.request, phase: 'awaiting approval' as const },
                  prompt: {
                    kind: 'approval' as const,
                    approvalId: `${context.sessionId}/${step}/${attempt}`,
                    request: context.current!.request,
                    preview: event.output,
                  },
                };
              }),
            },
          ],
          onError: { target: '#failed' },
        },
      },
      awaitingApproval: {
        exit: 'clearPrompt',
        on: {
          APPROVE: { guard: 'decidesShownApproval', target: 'applying' },
          DENY: declined('denied'),
          EXPIRE: declined('expired'),
        },
      },
      applying: {
        entry: 'startApplying',
        invoke: {
          id: 'applyStep',
          src: 'applyStep',
          input: ({ context }) => context.current!.request,
          onDone: {
            target: `#${next}`,
            actions: [
              assign(({ context, event }) => ({ completed: [...context.completed, event.output], current: null })),
              emit(({ event }) => ({ type: 'stepDone' as const, outcome: event.output })),
            ],
          },
          // A cancel that reached the step right before one of its writes stops it there.
          onError: [
            { guard: 'stoppedByCancel', target: '#cancelled' },
            ...(isTest ? [{ guard: 'testBackupFailed' as const, target: '#testBackupFailed', actions: 'recordTestFailure' as const }] : []),
            { target: '#failed' },
          ],
        },
      },
    },
  });
}

type StepStates = Record<StepName, ReturnType<typeof privilegedStep>>;

/** Every privileged step in the seed's order, each skipped unless planned; then on to `after`. */
export function privilegedSteps(after: string): StepStates {
  return Object.fromEntries(
    STEP_ORDER.map((step, index) => [step, privilegedStep(step, STEP_ORDER[index + 1] ?? after)]),
  ) as StepStates;
}
