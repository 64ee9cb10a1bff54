// ClusterFacts for the flows: what CS, OSS, RAM and the cluster itself say. Reads only.
import type { ClusterFacts } from '../../flows/contract.ts';
import { classifyCluster, flowFor } from '../../flows/domain/cluster.ts';
import { ADDON_NAME, BACKUP_NAMESPACE, CONTROLLER_NAMESPACE } from '../../flows/domain/names.ts';
import { DescribeClustersV1Request } from '@alicloud/cs20151215';
import { closest } from '../../flows/domain/closest.ts';
import { code } from '../../flows/domain/inline.js';
import { runtime } from './clients.ts';
import { StepError } from './contract.ts';
import { call } from './context.ts';
import type { ExecContext } from './context.ts';
import { clusterDetail, installedAddons, listBackupLocations, listBuckets, offeredAddonVersion, readSecret, roleExists, type InstalledAddon } from './reads.ts';

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
  const [installed, offered, buckets, roleToken, gateway, vaults] = await Promise.all([
    installedAddons(ctx, clusterId, detail.region),
    offeredAddonVersion(ctx, clusterId, detail.region, ADDON_NAME),
    listBuckets(ctx, detail.region),
    managedKind ? managedRoleAuthorized(ctx, clusterId) : Promise.resolve(null),
    apiGatewayAuthorized(ctx, detail.region),
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
  };
}

/**
 * The cluster's facts, or for an id the account does not have: where the account's clusters are and the id nearest to
 * the one typed (`c-sandbox-manged` → `c-sandbox-managed`). DescribeClustersV1 without region_id lists the clusters of
 * every region (https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/developer-reference/api-cs-2015-12-15-describeclustersv1).
 */
export async function readClusterOrSuggest(ctx: ExecContext, clusterId: string): Promise<ClusterFacts> {
  try {
    return await readCluster(ctx, clusterId);
  } catch (error) {
    if (!(error instanceof StepError) || error.code !== 'ErrorClusterNotFound') throw error;
    const clusters = await accountClusters(ctx);
    const regions = [...new Set(clusters.map((c) => c.region))].sort();
    const near = closest(clusterId, clusters.map((c) => c.clusterId), 3);
    throw new StepError(ctx.step, 'ErrorClusterNotFound',
      `Cluster ${code(clusterId)} was not found in this account (its ${clusters.length} cluster(s) are in ${regions.join(', ') || 'no region'})` +
        (near ? `. Did you mean ${code(near)}? Run ${code(`/backup-setup ${near}`)}.` : ': check the id on the Clusters page of the ACK console, and that the bot\'s AccessKey belongs to the cluster\'s account.'));
  }
}

async function accountClusters(ctx: ExecContext): Promise<{ clusterId: string; region: string }[]> {
  const found: { clusterId: string; region: string }[] = [];
  for (let page = 1; ; page++) {
    const response = await call(ctx, { service: 'cs', permission: 'cs:DescribeClustersV1', resource: 'the account' }, () =>
      ctx.clients.cs.describeClustersV1WithOptions(new DescribeClustersV1Request({ pageNumber: page, pageSize: 100 }), {}, runtime(ctx.clients.timeouts.read)));
    const clusters = response.body?.clusters ?? [];
    for (const c of clusters) if (c.clusterId) found.push({ clusterId: c.clusterId, region: c.regionId ?? '' });
    if (clusters.length === 0 || found.length >= (response.body?.pageInfo?.totalCount ?? found.length)) return found;
  }
}
