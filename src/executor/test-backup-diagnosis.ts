// The likely fix for a failed test backup, read from the component's error. The phrases are the backup-center FAQ's
// (https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/backup-center-faq): "VaultError: backup
// vault is unavailable" (the vault check: ListObjects), "check backup files in OSS bucket failed" (IsObjectExist: HEAD, authorized
// as GetObject), "upload backup files to OSS bucket failed" (PutObject); the OSS part follows the Go SDK
// ("ErrorCode=AccessDenied", "ErrorCode=NoSuchBucket", "ErrorCode=InvalidAccessKeyId"). "delete backup files" is the deletion's.
import { isCnfsOssBucket } from '../../flows/domain/names.ts';
import type { ComponentCredentials, Vault } from './test-backup-record.ts';
import { policyGrants } from './steps/ensure-policy.ts';
import { code } from '../../flows/domain/inline.js';

export interface Diagnosis {
  remedy: 'updatePolicy' | 'fixAndRetry';
  fix: string;
}

const PHASES: [RegExp, string, 'bucket' | 'objects'][] = [
  [/VaultError/, 'oss:ListObjects', 'bucket'],
  [/check backup files in OSS bucket failed/, 'oss:GetObject', 'objects'],
  [/upload backup files to OSS bucket failed/, 'oss:PutObject', 'objects'],
  [/delete backup files in OSS bucket failed/, 'oss:DeleteObject', 'objects'],
];

/** The OSS resources a policy document grants anything on, for "it only grants …". */
function ossResources(document: string | null): string[] {
  if (!document) return [];
  try {
    return [...new Set([...policyGrants(document)].filter((g) => g.startsWith('Allow oss:')).map((g) => g.split(' on ')[1]!))];
  } catch {
    return [];
  }
}

export function diagnose(error: string, vault: Vault, credentials: ComponentCredentials, policyDocument: string | null): Diagnosis {
  const retry = (fix: string): Diagnosis => ({ remedy: 'fixAndRetry', fix });
  if (/ErrorCode=AccessDenied/.test(error)) {
    const [, action, scope] = PHASES.find(([phrase]) => phrase.test(error)) ?? [null, 'oss:ListObjects', 'bucket'];
    const resource = scope === 'bucket' ? `acs:oss:*:*:${vault.bucket}` : `acs:oss:*:*:${vault.bucket}/*`;
    if (credentials.kind === 'role') {
      return isCnfsOssBucket(vault.bucket)
        ? retry(`the system policy of AliyunCSManagedBackupRestoreRole does not allow ${code(action)} on ${code(resource)}: restore the role's authorization (RAM console → Roles → AliyunCSManagedBackupRestoreRole), then test again.`)
        : retry(`AliyunCSManagedBackupRestoreRole may only use buckets named \`cnfs-oss-*\`, and ${code(vault.bucket)} is not one: run /backup-setup again and choose a \`cnfs-oss-*\` bucket, or choose ${code(vault.bucket)} there so the setup gives migrate-controller an AccessKey with OSS permission on it.`);
    }
    const granted = ossResources(policyDocument);
    const names = granted.length > 0 && !granted.some((r) => r === '*' || r.startsWith(`acs:oss:*:*:${vault.bucket}`) || r === 'acs:oss:*:*:*')
      ? ` (it grants OSS only on ${granted.map((r) => `${code(r)}`).join(', ')})`
      : '';
    return {
      remedy: 'updatePolicy',
      fix: `the policy ${code(credentials.policyName ?? 'of the AccessKey in the Secret')} lacks ${code(action)} on ${code(resource)}${names}; approve the policy update.`,
    };
  }
  if (/ErrorCode=InvalidAccessKeyId|ErrorCode=SignatureDoesNotMatch/.test(error)) {
    return retry(`the AccessKey in ${credentials.description} is not valid (deleted or disabled): run /backup-setup again, its AccessKey step writes a new one to the Secret.`);
  }
  if (/ErrorCode=NoSuchBucket/.test(error)) return retry(`bucket ${code(vault.bucket)} does not exist: create it (or run /backup-setup again), then test again.`);
  if (/no credentials/.test(error)) return retry('give migrate-controller its credentials (run /backup-setup again), and restart it if the Secret came after it started.');
  if (/already exists/.test(error)) return retry('test again: the next attempt uses a new name.');
  return retry(`see \`kubectl -n csdr describe applicationbackup\` for details, fix the cause, then test again.`);
}
