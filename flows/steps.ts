// The privileged steps: their order in every flow and how each is shown to people.
import type { StepName, StepRequest } from './contract.ts';
import { describePolicy } from './domain/policy.ts';
import { code } from './domain/inline.js';
import { serviceWhere } from './domain/services.ts';

/** The order of the seed's steps; a flow skips those it does not need. */
export const STEP_ORDER = [
  // The services go first: nothing else is changed until each one the setup needs is on.
  'activateOss',
  'activateCloudBackup',
  'activateSnapshot',
  'createBucket',
  'createRamUser',
  'ensurePolicy',
  'attachPolicy',
  'createNamespace',
  'createAccessKeySecret',
  'installAddon',
  'restartMigrateController',
  'createBackupVault',
  'testBackup',
] as const satisfies readonly StepName[];

export function describeStep(request: StepRequest): string {
  switch (request.step) {
    case 'activateCloudBackup':
    case 'activateOss':
    case 'activateSnapshot':
      return `Activate ${serviceWhere(request.params.service, request.params.region)} (cannot be undone)`;
    case 'createBucket':
      return `Create OSS bucket ${code(request.params.bucket)} in ${request.params.region}`;
    case 'createRamUser':
      return `Create RAM user ${code(request.params.userName)}`;
    case 'ensurePolicy':
      return (
        `Create or update RAM policy ${code(request.params.policyName)} (${describePolicy(request.params.document)}` +
        (request.params.shared ? "; shared by the account's registered clusters: what it already grants is kept" : '') +
        ')' +
        (request.params.fixesTest ? `, again for the failed test backup ${code(request.params.fixesTest)}` : '')
      );
    case 'attachPolicy':
      return `Attach policy ${code(request.params.policyName)} to RAM user ${code(request.params.userName)}`;
    case 'createNamespace':
      return `Create namespace ${code(request.params.namespace)}`;
    case 'createAccessKeySecret':
      return request.params.shared
        ? `Reuse a valid AccessKey of ${code(request.params.userName)} in Secret \`${request.params.namespace}/${request.params.secretName}\` (shared with other add-ons), or create a long-lived one and store it there`
        : `Create a long-lived AccessKey for ${code(request.params.userName)} and store it in Secret \`${request.params.namespace}/${request.params.secretName}\``;
    case 'installAddon':
      return request.params.installedVersion === null
        ? `Install add-on ${code(request.params.addon)} ${request.params.version}`
        : `Upgrade add-on ${code(request.params.addon)} ${request.params.installedVersion} → ${request.params.version}`;
    case 'restartMigrateController':
      return `Restart deployment \`${request.params.namespace}/${request.params.deployment}\` so it reads the new Secret`;
    case 'createBackupVault':
      return `Create backup vault ${code(request.params.name)} (bucket ${code(request.params.bucket)}, ${request.params.region}, ${request.params.network} network)`;
    case 'testBackup':
      return `Test backup of namespace ${code(request.params.namespace)} into vault ${code(request.params.vault)}, then delete it`;
  }
}
