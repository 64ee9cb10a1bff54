// After a failed test backup: the component's error and the likely fix are shown, and people choose to update the
// policy (the policy step with its own approval, then the test again), to test again after a fix of their own, or to stop.
import { RETEST, STOP, UPDATE_POLICY } from '../questions.ts';
import { privilegedStep } from './privileged-step.ts';
import { flowSetup } from './setup.ts';

/** The question and, when the flow manages the component's policy, the policy step it can go back to. */
export function testBackupRecovery(options: { policyFix: boolean }) {
  const answer = (value: string) => ({ type: 'answerIs' as const, params: { questionId: 'testBackupFailed' as const, value } });
  return {
    testBackupFailed: flowSetup.createStateConfig({
      id: 'testBackupFailed',
      entry: { type: 'ask', params: { questionId: 'testBackupFailed' } },
      exit: 'clearPrompt',
      on: {
        ANSWER: [
          {
            guard: { type: 'answerRejected', params: { questionId: 'testBackupFailed' } },
            actions: { type: 'rejectAnswer', params: { questionId: 'testBackupFailed' } },
          },
          ...(options.policyFix ? [{ guard: answer(UPDATE_POLICY), target: '#policyFix', actions: { type: 'nextTestAttempt' as const, params: { fixPolicy: true } } }] : []),
          { guard: answer(RETEST), target: '#testBackup', actions: { type: 'nextTestAttempt', params: { fixPolicy: false } } },
          { guard: answer(STOP), target: '#testStopped' },
        ],
      },
    }),
    ...(options.policyFix ? { policyFix: privilegedStep('ensurePolicy', 'testBackup', 'policyFix') } : {}),
    testStopped: flowSetup.createStateConfig({ id: 'testStopped', type: 'final', entry: { type: 'close', params: { status: 'failed' } } }),
  };
}
