// What kind of cluster this is and whether the backup center supports it (seed "Prerequisites" and "Notes").
import type { ClusterFacts, ClusterKind, FlowName } from '../contract.ts';
import { compareVersions, releaseParts } from './versions.ts';

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

/** Why the backup center cannot be set up on this cluster and what to do instead; null when it can. */
export function supportProblem(facts: ClusterFacts): string | null {
  const cluster = `\`${facts.name}\` (${facts.clusterId})`;
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
  return null;
}
