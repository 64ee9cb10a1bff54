// ACK managed clusters, and with their differences ACK Serverless Pro and ACK Edge (seed "ACK managed cluster").
import { assign } from 'xstate';
import { initialContext } from './blocks/context.ts';
import { endings } from './blocks/endings.ts';
import { privilegedSteps } from './blocks/privileged-step.ts';
import { prerequisiteQuestion, question } from './blocks/question.ts';
import { flowSetup } from './blocks/setup.ts';
import { testBackupRecovery } from './blocks/test-backup.ts';
import { managedPlan } from './plans.ts';
import { CANCEL, SKIP } from './questions.ts';

/** Bump when a change makes persisted snapshots of this machine unusable. */
export const version = 3;

export const managedMachine = flowSetup.createMachine({
  id: 'managed',
  context: ({ input }) => initialContext(input),
  initial: 'notes',
  on: { CANCEL: { target: '.cancelled' } },
  states: {
    notes: { id: 'notes', entry: 'announcePrerequisites', always: '#managedRole' },
    managedRole: prerequisiteQuestion('managedRole', 'apiGateway', CANCEL),
    apiGateway: prerequisiteQuestion('apiGateway', 'region', SKIP),
    region: question('region', 'bucket'),
    bucket: question('bucket', 'planning'),
    planning: {
      id: 'planning',
      entry: [assign({ plan: ({ context }) => managedPlan(context) }), 'announcePlan'],
      always: '#activateOss',
    },
    ...privilegedSteps('complete'),
    ...testBackupRecovery({ policyFix: true }),
    ...endings,
  },
  output: ({ context }) => context.output!,
});
