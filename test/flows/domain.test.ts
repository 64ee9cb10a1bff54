// The pure decisions the flows are built on.
import { describe, expect, test } from 'vitest';
import { classifyCluster, supportProblem } from '../../flows/domain/cluster.ts';
import { apiGatewayGuidance, needsApiGatewayAuthorization } from '../../flows/domain/guidance.ts';
import { credentialNames, fitName, shortClusterId, suggestedBucketName } from '../../flows/domain/names.ts';
import { backupVaultName, vaultNameCandidates, vaultNetwork } from '../../flows/domain/vault.ts';
import { OSS_INTERNAL_RANGES, ossInternalRouteGuidance } from '../../flows/domain/oss-internal.ts';
import { bucketNameProblem } from '../../flows/domain/oss.ts';
import { needsEcsSnapshotPermissions, policyDocument } from '../../flows/domain/policy.ts';
import { compareVersions } from '../../flows/domain/versions.ts';
import { facts } from './harness.ts';

describe('classifyCluster (reference §3)', () => {
  test.each([
    ['Kubernetes', '', '', 'dedicated'],
    ['ExternalKubernetes', '', '', 'registered'],
    ['ManagedKubernetes', 'Serverless', 'ack.standard', 'serverless-basic'],
    ['ManagedKubernetes', 'Serverless', '', 'serverless-basic'],
    ['ManagedKubernetes', 'Serverless', 'ack.pro.small', 'serverless-pro'],
    ['ManagedKubernetes', 'Edge', 'ack.pro.small', 'edge'],
    ['ManagedKubernetes', 'Default', 'ack.pro.small', 'managed'],
    ['ManagedKubernetes', 'Default', 'ack.standard', 'managed'],
    ['ManagedKubernetes', 'Lingjun', 'ack.pro.small', 'managed'],
  ])('%s / %s / %s → %s', (clusterType, profile, clusterSpec, kind) => {
    expect(classifyCluster({ clusterType, profile, clusterSpec })).toBe(kind);
  });
});

describe('compareVersions', () => {
  test.each([
    ['1.7.6', '1.8.7', -1],
    ['1.8.7', '1.7.6', 1],
    ['v1.8.7', '1.8.7', 0],
    ['1.8.7-b5e0b99', 'v1.8.7', 0],
    ['1.16.9-aliyun.1', '1.18', -1],
    ['1.18', '1.18.0', 0],
    ['1.30.1-aliyun.1', '1.18', 1],
  ] as const)('%s vs %s = %i', (a, b, result) => expect(compareVersions(a, b)).toBe(result));

  test('an unreadable version is an error, not a guess', () => {
    expect(() => compareVersions('latest', '1.8.7')).toThrow('cannot compare versions "latest" and "1.8.7"');
  });
});

describe('supportProblem', () => {
  test('a supported cluster has none', () => expect(supportProblem(facts())).toBeNull());
  test('Kubernetes 1.16 is explained with the upgrade guide', () => {
    const problem = supportProblem(facts({ name: 'old', clusterId: 'c-old', kubernetesVersion: '1.16.9-aliyun.1' }))!;
    expect(problem).toContain('`old` (`c-old`) runs Kubernetes 1.16.9-aliyun.1; the backup center needs Kubernetes 1.18 or later.');
    expect(problem).toContain('https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/upgrade-clusters');
  });
});

describe('policyDocument (reference §1a, §8)', () => {
  test('all buckets, add-on 1.8.7: Cloud Backup, ECS snapshots with CopySnapshot, OSS on every bucket', () => {
    const document = policyDocument({ addonVersion: '1.8.7' });
    expect(document.Version).toBe('1');
    expect(document.Statement.map((s) => s.Action[0]!.split(':')[0])).toEqual(['hbr', 'ecs', 'oss']);
    expect(document.Statement[1]!.Action).toContain('ecs:CopySnapshot');
    expect(document.Statement[2]!.Resource).toBe('acs:oss:*:*:*');
  });

  test('one bucket: the bucket and its objects only', () => {
    expect(policyDocument({ bucket: 'mybackups', addonVersion: '1.8.7' }).Statement[2]!.Resource).toEqual([
      'acs:oss:*:*:mybackups',
      'acs:oss:*:*:mybackups/*',
    ]);
  });

  test('before 1.7.7 there is no ECS statement; from 1.7.7 on there is', () => {
    expect(needsEcsSnapshotPermissions('1.7.6')).toBe(false);
    expect(needsEcsSnapshotPermissions('v1.7.7')).toBe(true);
    expect(policyDocument({ addonVersion: '1.7.6' }).Statement.some((s) => s.Action.includes('ecs:CopySnapshot'))).toBe(false);
  });

  test('OSS only, for managed clusters whose role has the rest', () => {
    const document = policyDocument({ bucket: 'team-data', addonVersion: '1.8.7', ossOnly: true });
    expect(document.Statement).toHaveLength(1);
    expect(document.Statement[0]!.Action).toContain('oss:GetBucketStat');
  });
});

describe('names', () => {
  test('managed and dedicated', () => {
    expect(credentialNames('dedicated', 'c-sandbox-dedicated')).toEqual({
      userName: 'ack-backup-c-sandbox-dedicated',
      policyName: 'ack-backup-c-sandbox-dedicated-migrate-controller',
    });
  });
  test('registered: onectl names', () => {
    expect(shortClusterId('ce313528c3f4a4b2b8e5')).toBe('ce313528c3');
    expect(credentialNames('registered', 'c-sandbox-registered')).toEqual({
      userName: 'ack-one-user-csandboxre',
      policyName: 'ack-one-registered-cluster-policy-migrate-controller',
    });
  });
  test('long cluster ids still give valid RAM names (user ≤ 64 of letters, digits, . - _; policy ≤ 128 of letters, digits, -)', () => {
    const long = `c${'a1b2c3d4'.repeat(12)}`;
    const names = credentialNames('dedicated', long);
    expect(names.userName.length).toBeLessThanOrEqual(64);
    expect(names.userName).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(names.policyName.length).toBeLessThanOrEqual(128);
    expect(names.policyName).toMatch(/^[A-Za-z0-9-]+-migrate-controller$/);
    // Shortened names stay distinct: the fingerprint is of the whole id.
    expect(credentialNames('dedicated', `${long}x`).userName).not.toBe(names.userName);
    expect(credentialNames('dedicated', 'c-sandbox-dedicated').userName).toBe('ack-backup-c-sandbox-dedicated');
    expect(fitName('ack-backup-c@1', 64)).toBe('ack-backup-c-1');
  });
  test('bucket suggestion and vault names: readable, then -2 … when a name is taken', () => {
    expect(suggestedBucketName('c-sandbox-managed')).toBe('cnfs-oss-c-sandbox-managed-backups');
    expect(suggestedBucketName('c82e6987e2961451182edacd74faf2e30')).toBe('cnfs-oss-c82e6987e2961451182edacd74faf2e30-backups');
    const longBucket = suggestedBucketName(`c-${'x'.repeat(62)}`);
    expect(longBucket.length).toBeLessThanOrEqual(63);
    expect(longBucket).toMatch(/^cnfs-oss-[a-z0-9-]+[a-z0-9]-backups$/);
    expect(bucketNameProblem(longBucket)).toBeNull();
    expect(backupVaultName({ name: 'sandbox-managed', clusterId: 'c-sandbox-managed' })).toBe('sandbox-managed-backups');
    expect(backupVaultName({ name: '生产集群', clusterId: 'c82e6987e2961451182edacd74faf2e30' })).toBe('c82e6987e2961451182edacd74faf2e30-backups');
    const long = backupVaultName({ name: 'Prod Cluster / Shanghai '.repeat(5), clusterId: 'c1' });
    expect(long.length).toBeLessThanOrEqual(61);
    expect(long).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/);
    expect(vaultNameCandidates('x-backups').slice(0, 3)).toEqual(['x-backups', 'x-backups-2', 'x-backups-3']);
    expect(bucketNameProblem(suggestedBucketName('C_Upper-Case-Cluster-Id-That-Is-Long'))).toBeNull();
  });
  test('vault network: public across regions and for Edge and registered clusters; internal otherwise', () => {
    expect(vaultNetwork('managed', 'cn-hangzhou', 'cn-hangzhou')).toBe('internal');
    expect(vaultNetwork('dedicated', 'cn-hangzhou', 'cn-hangzhou')).toBe('internal');
    expect(vaultNetwork('managed', 'cn-hangzhou', 'cn-shanghai')).toBe('public');
    expect(vaultNetwork('edge', 'cn-hangzhou', 'cn-hangzhou')).toBe('public');
    expect(vaultNetwork('edge', 'cn-hangzhou', 'cn-shanghai')).toBe('public');
    expect(vaultNetwork('registered', 'cn-hangzhou', 'cn-hangzhou')).toBe('public');
  });
});

describe('guidance', () => {
  test('API Gateway authorization only in Ulanqab, Heyuan and Guangzhou', () => {
    expect(['cn-wulanchabu', 'cn-heyuan', 'cn-guangzhou', 'cn-hangzhou'].map(needsApiGatewayAuthorization)).toEqual([true, true, true, false]);
    expect(apiGatewayGuidance('cn-heyuan')).toContain('select China (Heyuan) in the top navigation bar, and click Confirm in the Cloud Backup Authorization dialog box');
  });
  test('OSS internal route: every VIP range of the region, or the OSS page when not listed', () => {
    const text = ossInternalRouteGuidance('cn-beijing', 'cn-beijing');
    for (const cidr of OSS_INTERNAL_RANGES['cn-beijing']!.cidrs) expect(text).toContain(cidr);
    expect(ossInternalRouteGuidance('eu-central-1', 'eu-central-1')).toContain('internal-endpoints-of-oss-buckets-and-vip-ranges');
    expect(ossInternalRouteGuidance('cn-hangzhou', 'cn-shanghai')).toContain('so this does not apply: backups use the public network');
  });
});
