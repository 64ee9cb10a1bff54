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

// RAM user names: 1–64 letters, digits, periods, hyphens and underscores (CreateUser,
// https://help.aliyun.com/document_detail/28680.html). Policy names: 1–128 letters, digits and hyphens (CreatePolicy).
export const RAM_USER_NAME_MAX = 64;
export const RAM_POLICY_NAME_MAX = 128;

/** FNV-1a, 32 bits, as 8 hex digits: a short stable fingerprint for names that had to be shortened. */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/** `name` with characters outside `allowed` replaced by "-", and, when longer than `max`, cut and suffixed with a fingerprint of the whole. */
export function fitName(name: string, max: number, allowed = /[A-Za-z0-9.\-_]/): string {
  const cleaned = [...name].map((c) => (allowed.test(c) ? c : '-')).join('');
  if (cleaned.length <= max) return cleaned;
  return `${cleaned.slice(0, max - 9).replace(/[-._]+$/, '')}-${fingerprint(name)}`;
}

/** The RAM user and custom policy that give migrate-controller its AccessKey (registered: onectl's names). */
export function credentialNames(flow: FlowName, clusterId: string): CredentialNames {
  if (flow === 'registered') {
    return {
      userName: `ack-one-user-${shortClusterId(clusterId)}`,
      policyName: 'ack-one-registered-cluster-policy-migrate-controller',
    };
  }
  // The policy name keeps the suffix readable: only the cluster id part is shortened.
  const policySuffix = '-migrate-controller';
  return {
    userName: fitName(`ack-backup-${clusterId}`, RAM_USER_NAME_MAX),
    policyName: `${fitName(`ack-backup-${clusterId}`, RAM_POLICY_NAME_MAX - policySuffix.length, /[A-Za-z0-9-]/)}${policySuffix}`,
  };
}

export interface AccessKeySecret {
  namespace: string;
  secretName: string;
  /** Other add-ons read it too: keep its other keys, never replace a key the bot cannot vouch for. */
  shared: boolean;
}

/**
 * Where migrate-controller reads its AccessKey. Registered clusters: where onectl keeps the component AccessKey,
 * kube-system/alibaba-addon-secret, which other add-ons (logtail-ds, …) share
 * (https://www.alibabacloud.com/help/en/doc-detail/469900.htm). Dedicated (and managed clusters with a bucket the
 * managed role does not cover): the seed's csdr/alibaba-addon-secret, migrate-controller's own.
 */
export function accessKeySecretOf(flow: FlowName): AccessKeySecret {
  return flow === 'registered'
    ? { namespace: CONTROLLER_NAMESPACE, secretName: ADDON_SECRET_NAME, shared: true }
    : { namespace: BACKUP_NAMESPACE, secretName: ADDON_SECRET_NAME, shared: false };
}

const BUCKET_SUFFIX = '-backups';
/** OSS bucket names: 3–63 lowercase letters, digits and hyphens, starting and ending with a letter or digit (flows/domain/oss.ts). */
const BUCKET_NAME_MAX = 63;

/**
 * The new bucket a setup suggests: `cnfs-oss-<cluster id>-backups`, readable, and one the managed role may use. A
 * cluster id too long for it is cut and fingerprinted, keeping the prefix and the suffix.
 */
export function suggestedBucketName(clusterId: string): string {
  const id = clusterId.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'cluster';
  const room = BUCKET_NAME_MAX - CNFS_OSS_PREFIX.length - BUCKET_SUFFIX.length;
  return `${CNFS_OSS_PREFIX}${fitName(id, room, /[a-z0-9-]/).replace(/-+$/, '')}${BUCKET_SUFFIX}`;
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
