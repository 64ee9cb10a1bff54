// The custom RAM policy migrate-controller's AccessKey needs (reference §1a, decisions in §8).
import type { PolicyDocument, PolicyStatement } from '../contract.ts';
import { compareVersions } from './versions.ts';

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
  const parts = document.Statement.map((statement) => {
    const service = statement.Action[0]?.split(':')[0];
    if (service === 'hbr') return 'Cloud Backup';
    if (service === 'ecs') return 'ECS disk snapshots';
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    const buckets = resources.filter((r) => !r.endsWith('/*')).map((r) => r.replace('acs:oss:*:*:', ''));
    return buckets.includes('*') ? 'OSS: all buckets' : `OSS: bucket ${buckets.join(', ')} only`;
  });
  return parts.join('; ');
}
