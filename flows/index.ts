// The flows other modules use: the preflight, one setup machine per flow, and their snapshot versions.
import type { FlowName } from './contract.ts';
import { dedicatedMachine, version as dedicatedVersion } from './dedicated.ts';
import { managedMachine, version as managedVersion } from './managed.ts';
import { registeredMachine, version as registeredVersion } from './registered.ts';
import { testBackupMachine, version as testBackupVersion } from './test-backup.ts';

export { preflightMachine, type PreflightOutput } from './preflight.ts';
export { flowFor } from './domain/cluster.ts';
export { unattendedAnswer } from './questions.ts';

export const flows = {
  managed: managedMachine,
  dedicated: dedicatedMachine,
  registered: registeredMachine,
  testBackup: testBackupMachine,
} satisfies Record<FlowName, unknown>;

export const flowVersions: Record<FlowName, number> = {
  managed: managedVersion,
  dedicated: dedicatedVersion,
  registered: registeredVersion,
  testBackup: testBackupVersion,
};
