// Question blocks: ask, check the answer purely (a bad one is explained and changes nothing), move on.
import { assign } from 'xstate';
import { CANCEL, EMULATED_CONSOLE, RECHECK, SKIP, type AskedQuestion } from '../questions.ts';
import { flowSetup } from './setup.ts';

/** A question with choices and maybe free text; its answer is recorded in the context. */
export function question(questionId: Exclude<AskedQuestion, 'managedRole' | 'apiGateway'>, next: string) {
  return flowSetup.createStateConfig({
    id: questionId,
    entry: { type: 'ask', params: { questionId } },
    exit: 'clearPrompt',
    // A Fix knows the answers already: the vault's bucket and region, the bucket-only scope.
    always: { guard: 'repairing', target: `#${next}` },
    on: {
      ANSWER: [
        {
          guard: { type: 'answerRejected', params: { questionId } },
          actions: { type: 'rejectAnswer', params: { questionId } },
        },
        {
          guard: { type: 'answers', params: { questionId } },
          target: `#${next}`,
          actions: { type: 'recordAnswer', params: { questionId } },
        },
      ],
    },
  });
}

/**
 * A console prerequisite the bot can check but not grant: skipped when in place, else explained; the
 * person answers "check again" (the cluster is read again) or declines (cancel the setup, or skip it).
 */
export function prerequisiteQuestion(questionId: 'managedRole' | 'apiGateway', next: string, decline: typeof CANCEL | typeof SKIP) {
  return flowSetup.createStateConfig({
    id: questionId,
    initial: 'checking',
    states: {
      checking: {
        always: [{ guard: { type: 'prerequisiteMet', params: { questionId } }, target: `#${next}` }, { target: 'asking' }],
      },
      asking: {
        entry: { type: 'ask', params: { questionId } },
        exit: 'clearPrompt',
        on: {
          ANSWER: [
            {
              guard: { type: 'answerRejected', params: { questionId } },
              actions: { type: 'rejectAnswer', params: { questionId } },
            },
            { guard: { type: 'answerIs', params: { questionId, value: RECHECK } }, target: 'rechecking' },
            { guard: { type: 'answerIs', params: { questionId, value: EMULATED_CONSOLE } }, target: 'authorizing' },
            decline === CANCEL
              ? { guard: { type: 'answerIs', params: { questionId, value: CANCEL } }, target: '#cancelled' }
              : {
                  guard: { type: 'answerIs', params: { questionId, value: SKIP } },
                  target: `#${next}`,
                  actions: 'skipApiGateway',
                },
          ],
        },
      },
      // Sandbox only (the choice is offered where the console is emulated): the console click, then the same check.
      authorizing: {
        invoke: {
          id: 'authorizeInConsole',
          src: 'authorizeInConsole',
          input: ({ context }) => ({ authorization: questionId, clusterId: context.facts.clusterId, region: context.facts.region }),
          onDone: { target: 'rechecking' },
          onError: { target: 'asking', actions: 'reportConsoleFailure' },
        },
      },
      rechecking: {
        invoke: {
          id: 'readCluster',
          src: 'readCluster',
          input: ({ context }) => context.facts.clusterId,
          onDone: {
            target: 'checking',
            actions: [assign({ facts: ({ event }) => event.output }), { type: 'reportRecheck', params: { questionId } }],
          },
          onError: { target: 'asking', actions: 'reportRecheckFailure' },
        },
      },
    },
  });
}
