// ACK dedicated clusters (seed "ACK dedicated clusters"): a RAM user's AccessKey in Secret csdr/alibaba-addon-secret.
import { assign } from 'xstate';
import { initialContext } from './blocks/context.ts';
import { endings } from './blocks/endings.ts';
import { privilegedSteps } from './blocks/privileged-step.ts';
import { prerequisiteQuestion, question } from './blocks/question.ts';
import { flowSetup } from './blocks/setup.ts';
import { testBackupRecovery } from './blocks/test-backup.ts';
import { accessKeyPlan } from './plans.ts';
import { SKIP } from './questions.ts';

/** Bump when a change makes persisted snapshots of this machine unusable. */
export const version = 3;

export const dedicatedMachine = flowSetup.createMachine({
  id: 'dedicated',
  context: ({ input }) => initialContext(input),
  initial: 'notes',
  on: { CANCEL: { target: '.cancelled' } },
  states: {
    notes: { id: 'notes', entry: 'announcePrerequisites', always: '#apiGateway' },
    apiGateway: prerequisiteQuestion('apiGateway', 'region', SKIP),
    region: question('region', 'bucket'),
    bucket: question('bucket', 'bucketScope'),
    bucketScope: question('bucketScope', 'planning'),
    planning: {
      id: 'planning',
      entry: [assign({ plan: ({ context }) => accessKeyPlan(context, 'dedicated') }), 'announcePlan'],
      always: '#activateOss',
    },
    ...privilegedSteps('complete'),
    ...testBackupRecovery({ policyFix: true }),
    ...endings,
  },
  output: ({ context }) => context.output!,
});
