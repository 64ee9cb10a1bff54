// Registered (external) clusters: what `onectl ram-user grant --addon migrate-controller` and
// `onectl addon install migrate-controller` do, through the APIs (seed "Register a cluster").
import { assign, emit } from 'xstate';
import { chosenBucket, initialContext } from './blocks/context.ts';
import { endings } from './blocks/endings.ts';
import { privilegedSteps } from './blocks/privileged-step.ts';
import { prerequisiteQuestion, question } from './blocks/question.ts';
import { flowSetup } from './blocks/setup.ts';
import { testBackupRecovery } from './blocks/test-backup.ts';
import { ossInternalRouteGuidance } from './domain/oss-internal.ts';
import { accessKeyPlan } from './plans.ts';
import { SKIP } from './questions.ts';

/** Bump when a change makes persisted snapshots of this machine unusable. */
export const version = 3;

export const registeredMachine = flowSetup.createMachine({
  id: 'registered',
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
      entry: [assign({ plan: ({ context }) => accessKeyPlan(context, 'registered') }), 'announcePlan'],
      always: '#activateOss',
    },
    ...privilegedSteps('internalRoute'),
    internalRoute: {
      id: 'internalRoute',
      entry: emit(({ context }) => ({
        type: 'notice' as const,
        level: 'info' as const,
        text: ossInternalRouteGuidance(context.facts.region, chosenBucket(context).region),
      })),
      always: '#complete',
    },
    ...testBackupRecovery({ policyFix: true }),
    ...endings,
  },
  output: ({ context }) => context.output!,
});
