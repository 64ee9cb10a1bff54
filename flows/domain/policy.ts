// The custom RAM policy migrate-controller's AccessKey needs (reference §1a, decisions in §8).
import type { PolicyDocument, PolicyStatement } from '../contract.ts';
import { compareVersions } from './versions.ts';
import { code } from './inline.js';

const CLOUD_BACKUP_ACTIONS = [
  'hbr:CreateVault', 'hbr:CreateBackupJob', 'hbr:DescribeVaults', 'hbr:DescribeBackupJobs2',
  'hbr:DescribeRestoreJobs', 'hbr:SearchHistoricalSnapshots', 'hbr:CreateRestoreJob',
  'hbr:AddContainerCluster', 'hbr:DescribeContainerCluster', 'hbr:CancelBackupJob',
  'hbr:CancelRestoreJob', 'hbr:DescribeRestoreJobs2',
];

const ECS_SNAPSHOT_ACTIONS = [
  'ecs:CreateSnapshot', 'ecs:DeleteSnapshot', 'ecs:DescribeSnapshotGroups',
  'ecs:CreateAutoSnapshotPolicy', 'ecs:ApplyAutoSnapshotPolicy', 'ecs:CancelAutoSnapshotPolicy',
  'ecs:DeleteAutoSnapshotPolicy', 'ecs:DescribeAutoSnapshotPolicyEX', 'ecs:ModifyAutoSnapshotPolicyEx',
  'ecs:DescribeSnapshots', 'ecs:DescribeInstances', 'ecs:CopySnapshot',
  'ecs:CreateSnapshotGroup', 'ecs:DeleteSnapshotGroup',
];

const OSS_ACTIONS = [
  'oss:PutObject', 'oss:GetObject', 'oss:DeleteObject', 'oss:GetBucket',
  'oss:ListObjects', 'oss:ListBuckets', 'oss:GetBucketStat',
];

/** migrate-controller 1.7.7 and later restores disk backups across regions and needs the ECS snapshot permissions (incl. ecs:CopySnapshot). */
export function needsEcsSnapshotPermissions(addonVersion: string): boolean {
  return compareVersions(addonVersion, '1.7.7') >= 0;
}

export interface PolicyOptions {
  /** One bucket, or undefined for all buckets. */
  bucket?: string;
  /** The migrate-controller version the policy is for. */
  addonVersion: string;
  /** Managed clusters get Cloud Backup and ECS permissions from their managed role and need only OSS. */
  ossOnly?: boolean;
}

export function policyDocument(options: PolicyOptions): PolicyDocument {
  const oss: PolicyStatement = {
    Effect: 'Allow',
    Action: OSS_ACTIONS,
    Resource: options.bucket === undefined ? 'acs:oss:*:*:*' : [`acs:oss:*:*:${options.bucket}`, `acs:oss:*:*:${options.bucket}/*`],
  };
  if (options.ossOnly) return { Version: '1', Statement: [oss] };
  const statements: PolicyStatement[] = [{ Effect: 'Allow', Action: CLOUD_BACKUP_ACTIONS, Resource: '*' }];
  if (needsEcsSnapshotPermissions(options.addonVersion)) {
    statements.push({ Effect: 'Allow', Action: ECS_SNAPSHOT_ACTIONS, Resource: '*' });
  }
  statements.push(oss);
  return { Version: '1', Statement: statements };
}

/** One line for people: what the document grants. */
export function describePolicy(document: PolicyDocument): string {
  const parts = new Set<string>();
  for (const statement of document.Statement) {
    const service = statement.Action[0]?.split(':')[0];
    if (service === 'hbr') parts.add('Cloud Backup');
    else if (service === 'ecs') parts.add('ECS disk snapshots');
  }
  const buckets = grantedBuckets(document);
  if (buckets.includes('*')) parts.add('OSS: all buckets');
  else if (buckets.length) parts.add(`OSS: bucket${buckets.length > 1 ? 's' : ''} ${buckets.map(code).join(', ')} only`);
  return [...parts].join('; ');
}

const asList = (value: string | string[] | undefined): string[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
const sameActions = (a: PolicyStatement, b: PolicyStatement) =>
  a.Effect === b.Effect && a.Action.length === b.Action.length && [...a.Action].sort().join() === [...b.Action].sort().join();

/**
 * A document that grants everything `wanted` grants and everything `current` grants: for a policy shared by several
 * clusters (onectl's registered policy is one per account), where a new version must keep what other clusters use.
 * Statements with the same effect and actions are merged into one with the union of their resources; any other
 * statement of `current` is kept as it is.
 */
export function unionPolicy(current: PolicyDocument, wanted: PolicyDocument): PolicyDocument {
  const statements: PolicyStatement[] = wanted.Statement.map((s) => ({ ...s, Action: [...s.Action], Resource: asList(s.Resource) }));
  for (const statement of current.Statement) {
    const normalized: PolicyStatement = { Effect: statement.Effect, Action: asList(statement.Action), Resource: asList(statement.Resource) };
    const match = statements.find((s) => sameActions(s, normalized));
    if (match) {
      const resources = asList(match.Resource);
      match.Resource = [...resources, ...asList(normalized.Resource).filter((r) => !resources.includes(r))];
    } else {
      statements.push(normalized);
    }
  }
  return { Version: '1', Statement: statements };
}

/** The OSS buckets a document grants access to ("*" for every bucket). */
export function grantedBuckets(document: PolicyDocument): string[] {
  const buckets = new Set<string>();
  for (const statement of document.Statement) {
    if (statement.Effect !== 'Allow' || !asList(statement.Action).some((a) => a.startsWith('oss:'))) continue;
    for (const resource of asList(statement.Resource)) {
      // acs:oss:*:*:<bucket> and acs:oss:*:*:<bucket>/<objects> both name the bucket.
      const bucket = resource === '*' ? '*' : resource.startsWith('acs:oss:*:*:') ? resource.slice('acs:oss:*:*:'.length).split('/')[0]! : '';
      if (bucket) buckets.add(bucket);
    }
  }
  return [...buckets];
}
