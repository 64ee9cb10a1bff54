// Every resource name the setup creates or looks for, in one place.
import type { FlowName } from '../contract.ts';

export const ADDON_NAME = 'migrate-controller';
/** The backup center's namespace (the add-on creates it; dedicated and registered clusters need it first for the Secret). */
export const BACKUP_NAMESPACE = 'csdr';
export const ADDON_SECRET_NAME = 'alibaba-addon-secret';
export const CONTROLLER_NAMESPACE = 'kube-system';
export const CONTROLLER_DEPLOYMENT = 'migrate-controller';
/** Buckets a managed cluster's AliyunCSManagedBackupRestoreRole may use without any OSS grant. */
export const CNFS_OSS_PREFIX = 'cnfs-oss-';
export const MANAGED_BACKUP_ROLE = 'AliyunCSManagedBackupRestoreRole';

export function isCnfsOssBucket(bucket: string): boolean {
  return bucket.startsWith(CNFS_OSS_PREFIX);
}

/**
 * The cluster id reduced to lowercase letters and digits, first 10 characters. onectl's user
 * `ack-one-user-ce313528c3` suggests this rule; it is a guess, not verified against onectl.
 */
export function shortClusterId(clusterId: string): string {
  return clusterId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 10);
}

export interface CredentialNames {
  userName: string;
  policyName: string;
}

/** The RAM user and custom policy that give migrate-controller its AccessKey (registered: onectl's names). */
export function credentialNames(flow: FlowName, clusterId: string): CredentialNames {
  if (flow === 'registered') {
    return {
      userName: `ack-one-user-${shortClusterId(clusterId)}`,
      policyName: 'ack-one-registered-cluster-policy-migrate-controller',
    };
  }
  return { userName: `ack-backup-${clusterId}`, policyName: `ack-backup-${clusterId}-migrate-controller` };
}

export function suggestedBucketName(clusterId: string): string {
  return `${CNFS_OSS_PREFIX}backup-${shortClusterId(clusterId)}`;
}

/** Backup vault (BackupLocation) names allow lowercase letters and digits only. */
export function backupVaultName(clusterId: string): string {
  return `backup${shortClusterId(clusterId)}`;
}

/**
 * The namespace the test backup reads: in every cluster, tiny, and public by design, so the test writes nothing
 * secret to the bucket (the backup center skips it only "by default": it can be named explicitly).
 */
export const TEST_BACKUP_NAMESPACE = 'kube-public';

/** The test backup's name: the session's first 8 characters and the attempt (a deleted backup's name stays taken). */
export function testBackupName(sessionId: string, attempt: number): string {
  const id = sessionId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8) || 'session';
  return `backup-setup-test-${id}-${attempt}`;
}
