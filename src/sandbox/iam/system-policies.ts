// The system policies the emulated account's service roles carry (system policies cannot be changed by the
// account; RAM's GetPolicy for them is not modelled).

/**
 * AliyunCSManagedBackupRestoreRole's authorization policy, as the ACK backup-center FAQ prints it ("verify that the
 * role's authorization policy includes the following content", section "Cluster snapshot permissions are not
 * configured", https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/backup-center-faq).
 * Its OSS statement covers only buckets named cnfs-oss*: the FAQ's "no OSS permission is needed for a cnfs-oss-*
 * bucket" follows from it. The policy's name is a guess (ACK names a role's system policy <role>Policy).
 */
export const MANAGED_BACKUP_ROLE_POLICY = {
  name: 'AliyunCSManagedBackupRestoreRolePolicy',
  document: {
    Version: '1',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'hbr:CreateVault', 'hbr:CreateBackupJob', 'hbr:DescribeVaults', 'hbr:DescribeBackupJobs2', 'hbr:DescribeRestoreJobs',
          'hbr:SearchHistoricalSnapshots', 'hbr:CreateRestoreJob', 'hbr:AddContainerCluster', 'hbr:DescribeContainerCluster',
          'hbr:CancelBackupJob', 'hbr:CancelRestoreJob', 'hbr:DescribeRestoreJobs2',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: [
          'ecs:CreateSnapshot', 'ecs:DeleteSnapshot', 'ecs:DescribeSnapshotGroups', 'ecs:CreateAutoSnapshotPolicy',
          'ecs:ApplyAutoSnapshotPolicy', 'ecs:CancelAutoSnapshotPolicy', 'ecs:DeleteAutoSnapshotPolicy',
          'ecs:DescribeAutoSnapshotPolicyEX', 'ecs:ModifyAutoSnapshotPolicyEx', 'ecs:DescribeSnapshots', 'ecs:DescribeInstances',
          'ecs:CopySnapshot', 'ecs:CreateSnapshotGroup', 'ecs:DeleteSnapshotGroup',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: ['oss:PutObject', 'oss:GetObject', 'oss:DeleteObject', 'oss:GetBucket', 'oss:ListObjects', 'oss:ListBuckets', 'oss:GetBucketStat'],
        Resource: 'acs:oss:*:*:cnfs-oss*',
      },
    ],
  },
} as const;

export const SYSTEM_POLICIES: Record<string, object> = {
  [MANAGED_BACKUP_ROLE_POLICY.name]: MANAGED_BACKUP_ROLE_POLICY.document,
};
