// The emulated account a fresh sandbox starts with: one cluster per case of DESIGN.md's Sandbox
// contract, the existing backup bucket, a random AccessKey for the account itself, and the bot's own RAM user.
import type { AccountState, AddonInstance, SandboxCluster } from './account.ts';
import { newAccessKeyId, newAccessKeySecret } from './account.ts';
import { randomDigits } from './http.ts';
import { ensureBotIdentity } from './bot-identity.ts';
import { authorizeManagedRole } from './kube/addon-token.ts';
import { seedClusterObjects } from './kube/objects.ts';

export const LATEST_MIGRATE_CONTROLLER = '1.8.7';
export const SEED_BUCKET = 'cnfs-oss-sandbox-backups';
const CSI_PLUGIN = 'v1.32.1-4ebd3a8-aliyun';

const addon = (name: string, version: string): AddonInstance => ({ name, version, state: 'active' });

interface ClusterCase {
  id: string;
  type: SandboxCluster['type'];
  profile: string;
  spec: string;
  version: string;
  region?: string;
  addons: AddonInstance[];
}

const CASES: ClusterCase[] = [
  { id: 'c-sandbox-managed', type: 'ManagedKubernetes', profile: 'Default', spec: 'ack.pro.small', version: '1.31.1-aliyun.1', addons: [addon('csi-plugin', CSI_PLUGIN)] },
  { id: 'c-sandbox-serverless-pro', type: 'ManagedKubernetes', profile: 'Serverless', spec: 'ack.pro.small', version: '1.31.1-aliyun.1', addons: [] },
  { id: 'c-sandbox-serverless-basic', type: 'ManagedKubernetes', profile: 'Serverless', spec: 'ack.standard', version: '1.31.1-aliyun.1', addons: [] },
  {
    id: 'c-sandbox-edge', type: 'ManagedKubernetes', profile: 'Edge', spec: 'ack.pro.small', version: '1.30.7-aliyun.1',
    addons: [addon('csi-plugin', CSI_PLUGIN), addon('migrate-controller', '1.7.6')],
  },
  { id: 'c-sandbox-dedicated', type: 'Kubernetes', profile: 'Default', spec: '', version: '1.28.9-aliyun.1', addons: [addon('csi-plugin', CSI_PLUGIN)] },
  { id: 'c-sandbox-registered', type: 'ExternalKubernetes', profile: 'Default', spec: '', version: '1.30.4', addons: [] },
  // A second registered cluster: the onectl policy (and the component user its short id maps to) is shared.
  { id: 'c-sandbox-registered-2', type: 'ExternalKubernetes', profile: 'Default', spec: '', version: '1.31.2', addons: [] },
  {
    id: 'c-sandbox-flexvolume', type: 'Kubernetes', profile: 'Default', spec: '', version: '1.26.15-aliyun.1',
    addons: [addon('flexvolume', 'v1.14.8.109-649dc5a-aliyun')],
  },
  { id: 'c-sandbox-old', type: 'ManagedKubernetes', profile: 'Default', spec: 'ack.pro.small', version: '1.16.9-aliyun.1', addons: [addon('csi-plugin', 'v1.16.9.43-f36bb540-aliyun')] },
  { id: 'c-sandbox-ulanqab', type: 'ManagedKubernetes', profile: 'Default', spec: 'ack.pro.small', version: '1.31.1-aliyun.1', region: 'cn-wulanchabu', addons: [addon('csi-plugin', CSI_PLUGIN)] },
];

/** What each seeded cluster shows a newcomer (the sandbox chat page lists them when its channel is empty). */
export const SANDBOX_GUIDE: readonly { id: string; shows: string }[] = [
  { id: 'c-sandbox-managed', shows: 'ACK managed Pro: the managed role and a cnfs-oss- bucket, no AccessKey.' },
  { id: 'c-sandbox-dedicated', shows: 'ACK dedicated: a RAM user, its policy and an AccessKey Secret, step by step.' },
  { id: 'c-sandbox-registered', shows: 'Registered (ACK One): onectl’s shared user and policy.' },
  { id: 'c-sandbox-registered-2', shows: 'A second registered cluster: the shared policy keeps the first one’s bucket.' },
  { id: 'c-sandbox-edge', shows: 'ACK Edge: migrate-controller 1.7.6 upgraded, a public-network vault.' },
  { id: 'c-sandbox-ulanqab', shows: 'Managed in cn-wulanchabu: the snapshot service is off, and authorizations only the console can give.' },
  { id: 'c-sandbox-serverless-pro', shows: 'ACK Serverless Pro: the add-on without CSI.' },
  { id: 'c-sandbox-serverless-basic', shows: 'ACK Serverless Basic: unsupported, and why.' },
  { id: 'c-sandbox-flexvolume', shows: 'FlexVolume storage: unsupported until migrated to CSI.' },
  { id: 'c-sandbox-old', shows: 'Kubernetes 1.16: too old for the backup center.' },
];

/** Managed kinds have authorized AliyunCSManagedBackupRestoreRole (and hold its token), except the Ulanqab cluster (a case to guide). */
const withoutRoleToken = new Set(['c-sandbox-ulanqab']);

/** SANDBOX_FLEET=<n>: n more managed clusters c-sandbox-fleet-001 … in cn-hangzhou (DESIGN.md's Sandbox contract). */
export function fleetCases(n: number): ClusterCase[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `c-sandbox-fleet-${String(i + 1).padStart(3, '0')}`,
    type: 'ManagedKubernetes' as const,
    profile: 'Default',
    spec: 'ack.pro.small',
    version: '1.31.1-aliyun.1',
    addons: [addon('csi-plugin', CSI_PLUGIN)],
  }));
}

/** Adds the fleet clusters an account lacks (an account persisted before SANDBOX_FLEET was raised). */
export function addFleetClusters(state: AccountState, n: number): boolean {
  const missing = fleetCases(n).filter((c) => !state.clusters[c.id]);
  for (const c of missing) {
    const cluster = clusterOf(c, new Date());
    state.clusters[c.id] = cluster;
    authorizeManagedRole(state, cluster);
  }
  return missing.length > 0;
}

export function seedAccount(options: { fleet?: number } = {}): AccountState {
  const clusters: Record<string, SandboxCluster> = {};
  const now = new Date();
  for (const c of [...CASES, ...fleetCases(options.fleet ?? 0)]) clusters[c.id] = clusterOf(c, now);
  const state: AccountState = {
    accountId: randomDigits(16),
    rootKey: { id: newAccessKeyId(), secret: newAccessKeySecret() },
    ram: { users: [], policies: [], attachments: [], accessKeys: [], roles: [] },
    oss: { buckets: [{ name: SEED_BUCKET, region: 'cn-hangzhou', createdAt: new Date().toISOString(), storageClass: 'Standard', acl: 'private' }] },
    clusters,
    // One case of a service that is off: the ECS snapshot service in the Ulanqab cluster's region (README "Sandbox").
    services: { snapshotOffRegions: ['cn-wulanchabu'] },
    tasks: {},
    latestAddonVersions: {
      'migrate-controller': LATEST_MIGRATE_CONTROLLER,
      'csi-plugin': 'v1.33.1-67e8986-aliyun',
      'csi-provisioner': 'v1.33.1-67e8986-aliyun',
      flexvolume: 'v1.14.8.109-649dc5a-aliyun',
    },
  };
  for (const cluster of Object.values(clusters)) {
    if (cluster.type === 'ManagedKubernetes' && !withoutRoleToken.has(cluster.id)) authorizeManagedRole(state, cluster);
  }
  ensureBotIdentity(state);
  return state;
}

function clusterOf(c: ClusterCase, at: Date): SandboxCluster {
  const created = at.toISOString().replace(/\.\d{3}Z$/, '+08:00');
  const cluster: SandboxCluster = {
    id: c.id,
    name: c.id.replace(/^c-/, ''),
    type: c.type,
    profile: c.profile,
    spec: c.spec,
    region: c.region ?? 'cn-hangzhou',
    version: c.version,
    state: 'running',
    vpcId: `vpc-${c.id.replace(/^c-/, '')}`,
    created,
    addons: c.addons.map((a) => ({ ...a })),
    objects: {},
    resourceVersion: 1,
  };
  seedClusterObjects(cluster);
  return cluster;
}
