// ClusterFacts for the flows: what CS, OSS, RAM and the cluster itself say. Reads only.
import type { ClusterFacts } from '../../flows/contract.ts';
import { classifyCluster, flowFor } from '../../flows/domain/cluster.ts';
import { ADDON_NAME, CONTROLLER_NAMESPACE } from '../../flows/domain/names.ts';
import { StepError } from './contract.ts';
import type { ExecContext } from './context.ts';
import { clusterDetail, installedAddons, listBuckets, offeredAddonVersion, readSecret, roleExists, type InstalledAddon } from './reads.ts';

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
  const [installed, offered, buckets, roleToken, gateway] = await Promise.all([
    installedAddons(ctx, clusterId, detail.region),
    offeredAddonVersion(ctx, clusterId, detail.region, ADDON_NAME),
    listBuckets(ctx, detail.region),
    managedKind ? managedRoleAuthorized(ctx, clusterId) : Promise.resolve(null),
    apiGatewayAuthorized(ctx, detail.region),
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
    managedRoleAuthorized: roleToken,
    apiGatewayAuthorized: gateway,
  };
}
