// What kind of cluster this is and whether the backup center supports it (seed "Prerequisites" and "Notes").
import type { ClusterFacts, ClusterKind, FlowName, VaultFacts } from '../contract.ts';
import { isCnfsOssBucket } from './names.ts';
import { compareVersions, releaseParts } from './versions.ts';
import { code } from './inline.js';

export const MINIMUM_KUBERNETES = '1.18';
const UPGRADE_GUIDE = 'https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/upgrade-clusters';

export function classifyCluster(facts: Pick<ClusterFacts, 'clusterType' | 'profile' | 'clusterSpec'>): ClusterKind {
  if (facts.clusterType === 'Kubernetes') return 'dedicated';
  if (facts.clusterType === 'ExternalKubernetes') return 'registered';
  if (facts.profile === 'Serverless') {
    return facts.clusterSpec.startsWith('ack.pro.') ? 'serverless-pro' : 'serverless-basic';
  }
  if (facts.profile === 'Edge') return 'edge';
  return 'managed';
}

export const KIND_LABEL: Record<ClusterKind, string> = {
  managed: 'ACK managed cluster',
  'serverless-pro': 'ACK Serverless Pro cluster',
  'serverless-basic': 'ACK Serverless Basic cluster',
  edge: 'ACK Edge cluster',
  dedicated: 'ACK dedicated cluster',
  registered: 'registered cluster',
};

/** The setup flow of a kind; null when the backup center does not support it. */
export function flowFor(kind: ClusterKind): FlowName | null {
  switch (kind) {
    case 'managed':
    case 'serverless-pro':
    case 'edge':
      return 'managed';
    case 'dedicated':
    case 'registered':
      return kind;
    case 'serverless-basic':
      return null;
  }
}

/** `cluster_spec` ack.pro.* is ACK Pro; ack.standard (or empty) is Basic (DescribeClusterDetailResponseBody.clusterSpec). */
export function isPro(facts: Pick<ClusterFacts, 'clusterSpec'>): boolean {
  return facts.clusterSpec.startsWith('ack.pro.');
}

/**
 * Whether a managed kind's AliyunCSManagedBackupRestoreRole covers the bucket, so no OSS grant is needed. The
 * backup-center FAQ limits this to ACK Pro: "For an ACK Pro cluster, you do not need to configure OSS permissions,
 * provided that the name of the OSS bucket … starts with cnfs-oss-" ("VaultError",
 * https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/faq-about-the-backup-center).
 * Another FAQ answer says clusters other than dedicated and registered ones have cnfs-oss-* access "by default";
 * the stricter reading is the Pro-only one, so a Basic cluster gets the dedicated-style OSS permission for any
 * bucket, and any cluster for a bucket outside cnfs-oss-* ("configure permissions for the component … ACK dedicated
 * cluster", same FAQ, "Can I associate a backup vault with an OSS bucket whose name is not in the cnfs-oss-* format?").
 */
export function managedRoleCoversBucket(facts: Pick<ClusterFacts, 'clusterSpec'>, bucket: string): boolean {
  return isPro(facts) && isCnfsOssBucket(bucket);
}

/** Installed and at least the version CS offers (or CS offers none newer). */
export function addonIsCurrent(addon: ClusterFacts['addon']): boolean {
  if (addon.installedVersion === null) return false;
  return addon.latestVersion === '' || compareVersions(addon.installedVersion, addon.latestVersion) >= 0;
}

/** Why the backup center cannot be set up on this cluster and what to do instead; null when it can. */
export function supportProblem(facts: ClusterFacts): string | null {
  const cluster = `${code(facts.name)} (${code(facts.clusterId)})`;
  if (classifyCluster(facts) === 'serverless-basic') {
    return (
      `${cluster} is an ACK Serverless Basic cluster, and the backup center does not support ACK Serverless Basic clusters. ` +
      'Nothing was changed. Way forward: create an ACK Serverless Pro cluster (the backup center supports it, without volume backup) ' +
      'and set up the backup center there.'
    );
  }
  if (releaseParts(facts.kubernetesVersion) === null) {
    return (
      `${cluster} reports Kubernetes version "${facts.kubernetesVersion}", which could not be read; the backup center needs ` +
      `Kubernetes ${MINIMUM_KUBERNETES} or later. Nothing was changed. Check the cluster's version in the ACK console, then start the setup again.`
    );
  }
  if (compareVersions(facts.kubernetesVersion, MINIMUM_KUBERNETES) < 0) {
    return (
      `${cluster} runs Kubernetes ${facts.kubernetesVersion}; the backup center needs Kubernetes ${MINIMUM_KUBERNETES} or later. ` +
      `Nothing was changed. Way forward: upgrade the cluster (Manually upgrade an ACK cluster: ${UPGRADE_GUIDE}), then start the setup again.`
    );
  }
  if (facts.storagePlugin === 'flexvolume') {
    return (
      `${cluster} uses the FlexVolume storage plug-in, and the backup center does not support clusters that use FlexVolume. ` +
      'Nothing was changed. Way forward: migrate the storage plug-in to CSI (for a cluster without storage volumes, follow ' +
      '"Migrate FlexVolume to CSI for Clusters Without Storage"; for other cases ask in the DingTalk user group 35532895), ' +
      'then start the setup again.'
    );
  }
  if (facts.addon.installedVersion === null && releaseParts(facts.addon.latestVersion) === null) {
    return (
      `${cluster}: Container Service offers no migrate-controller add-on that can be installed on this cluster (ListAddons lists none). ` +
      'Nothing was changed. Check the Add-ons page of the cluster in the ACK console, or ask Alibaba Cloud support why the backup component is not offered.'
    );
  }
  return null;
}

/** The cluster's backup vaults (none in facts stored before vaults were read). */
export function vaultsOf(facts: ClusterFacts): VaultFacts[] {
  return facts.vaults ?? [];
}
