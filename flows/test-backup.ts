// The test backup alone, on request (`/backup-setup verify <cluster-id> --test-backup`): the same approval-gated step
// the setups end with, run even when a passed test of the current configuration is on record.
import { initialContext } from './blocks/context.ts';
import { endings } from './blocks/endings.ts';
import { privilegedStep } from './blocks/privileged-step.ts';
import { flowSetup } from './blocks/setup.ts';
import { testBackupRecovery } from './blocks/test-backup.ts';
import { testOnlyPlan } from './plans.ts';

/** Bump when a change makes persisted snapshots of this machine unusable. */
export const version = 1;

export const testBackupMachine = flowSetup.createMachine({
  id: 'testBackup',
  context: ({ input }) => ({ ...initialContext(input), testOnly: true, plan: testOnlyPlan(input) }),
  initial: 'testBackup',
  on: { CANCEL: { target: '.cancelled' } },
  states: {
    testBackup: privilegedStep('testBackup', 'complete'),
    ...testBackupRecovery({ policyFix: false }),
    ...endings,
  },
  output: ({ context }) => context.output!,
});
