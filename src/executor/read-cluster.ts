// ClusterFacts for the flows: what CS, OSS, RAM and the cluster itself say. Reads only.
import type { ClusterFacts } from '../../flows/contract.ts';
import { classifyCluster, flowFor } from '../../flows/domain/cluster.ts';
import { ADDON_NAME, BACKUP_NAMESPACE, CONTROLLER_NAMESPACE } from '../../flows/domain/names.ts';
import { nearest } from '../../flows/domain/closest.ts';
import { code } from '../../flows/domain/inline.js';
import { StepError } from './contract.ts';
import type { ExecContext } from './context.ts';
import { accountClusters, clusterDetail, installedAddons, listBackupLocations, listBuckets, offeredAddonVersion, readSecret, roleExists, type InstalledAddon } from './reads.ts';
import { cloudBackupState, ossStateOf, snapshotState } from './service-state.ts';
import type { Bucket } from '../../flows/contract.ts';

/** Regions where Cloud Backup must be authorized to use API Gateway (reference §6). */
export const API_GATEWAY_REGIONS: readonly string[] = ['cn-wulanchabu', 'cn-heyuan', 'cn-guangzhou'];
export const API_GATEWAY_ROLE = 'AliyunServiceRoleForHbrMagpieBridge';
export const MANAGED_ROLE_TOKEN_SECRET = 'addon.aliyuncsmanagedbackuprestorerole.token';

/** From the installed add-ons (ListClusterAddonInstances), never from what could be installed. */
export function storagePluginOf(installed: InstalledAddon[]): ClusterFacts['storagePlugin'] {
  const names = new Set(installed.map((a) => a.name));
  if (names.has('flexvolume')) return 'flexvolume';
  if (names.has('csi-plugin')) return 'csi';
  return 'none';
}

export async function managedRoleAuthorized(ctx: ExecContext, clusterId: string): Promise<boolean> {
  return (await readSecret(ctx, clusterId, CONTROLLER_NAMESPACE, MANAGED_ROLE_TOKEN_SECRET)) !== null;
}

export async function apiGatewayAuthorized(ctx: ExecContext, region: string): Promise<boolean | null> {
  return API_GATEWAY_REGIONS.includes(region) ? roleExists(ctx, API_GATEWAY_ROLE) : null;
}

export async function readCluster(ctx: ExecContext, clusterId: string): Promise<ClusterFacts> {
  const detail = await clusterDetail(ctx, clusterId, { fresh: true });
  if (!detail.region) throw new StepError(ctx.step, 'ErrorClusterNotFound', `Cluster ${clusterId} has no region in its CS description; check the cluster in the ACK console.`);
  const kind = classifyCluster(detail);
  const managedKind = flowFor(kind) === 'managed';
  let buckets: Bucket[] = [];
  const [installed, offered, oss, roleToken, gateway, cloudBackup, snapshot, vaults] = await Promise.all([
    installedAddons(ctx, clusterId, detail.region),
    offeredAddonVersion(ctx, clusterId, detail.region, ADDON_NAME),
    // Without OSS there are no buckets to list: ListBuckets tells that it is off.
    ossStateOf(async () => { buckets = await listBuckets(ctx, detail.region); }),
    managedKind ? managedRoleAuthorized(ctx, clusterId) : Promise.resolve(null),
    apiGatewayAuthorized(ctx, detail.region),
    cloudBackupState(ctx, detail.region),
    snapshotState(ctx, detail.region),
    listBackupLocations(ctx, clusterId, BACKUP_NAMESPACE),
  ]);
  return {
    clusterId: detail.clusterId,
    name: detail.name,
    region: detail.region,
    clusterType: detail.clusterType,
    profile: detail.profile,
    clusterSpec: detail.clusterSpec,
    kubernetesVersion: detail.currentVersion,
    storagePlugin: storagePluginOf(installed),
    addon: { installedVersion: installed.find((a) => a.name === ADDON_NAME)?.version ?? null, latestVersion: offered },
    buckets,
    vaults: vaults.flatMap((v) => {
      const spec = (v.spec ?? {}) as { objectStorage?: { bucket?: string }; config?: { region?: string } };
      const bucket = spec.objectStorage?.bucket;
      return bucket ? [{ name: v.metadata?.name ?? '', bucket, region: spec.config?.region ?? detail.region }] : [];
    }),
    managedRoleAuthorized: roleToken,
    apiGatewayAuthorized: gateway,
    services: { cloudBackup, oss, snapshot },
    ...(ctx.emulatedConsole ? { emulatedConsole: true } : {}),
  };
}

/**
 * The cluster, or for an id the account does not have: where it was looked for and the closest ids there (a typo, or
 * the case: CS ids are lower case). The regions searched are those DescribeClustersV1 lists clusters in, and the
 * default region DescribeClusterDetail was asked in. Setup and verify both answer an unknown id with it.
 */
export async function readClusterOrSuggest(ctx: ExecContext, clusterId: string): Promise<ClusterFacts> {
  try {
    return await readCluster(ctx, clusterId);
  } catch (error) {
    if (!(error instanceof StepError) || error.code !== 'ErrorClusterNotFound') throw error;
    const clusters = await accountClusters(ctx);
    const regions = [...new Set([ctx.clients.defaultRegion, ...clusters.map((c) => c.region)])].sort();
    const near = nearest(clusterId, clusters.map((c) => c.clusterId), 3, 3);
    throw new StepError(ctx.step, 'ClusterNotFound',
      `Cluster ${code(clusterId)} was not found in ${regions.join(', ')}` +
        (near.length ? `; did you mean ${near.map(code).join(' or ')}?` : `: the account has ${clusters.length} cluster(s) there; check the id in the ACK console.`));
  }
}
