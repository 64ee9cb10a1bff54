// Read-only views of cloud and cluster state, shared by readCluster, the steps' previews and applies, and verify.
import {
  GetPolicyRequest, GetRoleRequest, GetUserRequest, ListAccessKeysRequest, ListPoliciesForUserRequest, ListPolicyVersionsRequest,
} from '@alicloud/ram20150501';
import { DescribeClustersV1Request, ListAddonsRequest } from '@alicloud/cs20151215';
import type { Bucket } from '../../flows/contract.ts';
import { publicApiServerOf, runtime, type KubeClients, type Pace } from './clients.ts';
import { call, callOrNull, type ExecContext } from './context.ts';
import type { CallContext } from './errors.ts';

// ---- CS ----

export interface ClusterDetail {
  clusterId: string; name: string; region: string; clusterType: string; profile: string; clusterSpec: string; currentVersion: string;
  /** false when the API server has only an internal endpoint (master_url). */
  publicApiServer: boolean;
}

/**
 * DescribeClusterDetail, once per cluster (clients.clusterDetail); `fresh` reads it again, as planning does.
 * ErrorClusterNotFound becomes the StepError of ctx.step.
 */
export async function clusterDetail(ctx: ExecContext, clusterId: string, { fresh = false } = {}): Promise<ClusterDetail> {
  const b = await cachedCsCall(ctx, { service: 'cs', permission: 'cs:DescribeClusterDetail', resource: clusterId }, (pace) =>
    ctx.clients.clusterDetail(clusterId, { ...(pace ? { pace } : {}), fresh }));
  return {
    clusterId: b.clusterId ?? clusterId,
    name: b.name ?? '',
    region: b.regionId ?? '',
    clusterType: b.clusterType ?? '',
    profile: b.profile ?? '',
    clusterSpec: b.clusterSpec ?? '',
    currentVersion: b.currentVersion ?? '',
    publicApiServer: publicApiServerOf(b.masterUrl),
  };
}

export interface InstalledAddon { name: string; version: string; state: string }

/** ListClusterAddonInstances: the add-ons installed in the cluster (state active, updating, upgrading or deleting). */
export async function installedAddons(ctx: ExecContext, clusterId: string, region: string): Promise<InstalledAddon[]> {
  const response = await call(ctx, { service: 'cs', permission: 'cs:ListClusterAddonInstances', resource: `cluster ${clusterId}`, scope: region }, () =>
    ctx.clients.csIn(region).listClusterAddonInstancesWithOptions(clusterId, {}, runtime(ctx.clients.timeouts.read)));
  return (response.body?.addons ?? []).map((a) => ({ name: a.name ?? '', version: a.version ?? '', state: a.state ?? '' }));
}

/** GetClusterAddonInstance: one add-on as installed, or null when it is not (404). */
export async function installedAddon(ctx: ExecContext, clusterId: string, region: string, name: string): Promise<InstalledAddon | null> {
  const found = await callOrNull(ctx, { service: 'cs', permission: 'cs:GetClusterAddonInstance', resource: `add-on ${name} of cluster ${clusterId}`, scope: region }, () =>
    ctx.clients.csIn(region).getClusterAddonInstanceWithOptions(clusterId, name, {}, runtime(ctx.clients.timeouts.read)));
  if (found === null) return null;
  return { name: found.body?.name ?? name, version: found.body?.version ?? '', state: found.body?.state ?? '' };
}

/** ListAddons with cluster_id: the version of each add-on that can be installed in that cluster ('' when none is offered). */
export async function offeredAddonVersion(ctx: ExecContext, clusterId: string, region: string, name: string): Promise<string> {
  const response = await call(ctx, { service: 'cs', permission: 'cs:ListAddons', resource: `cluster ${clusterId}`, scope: region }, () =>
    ctx.clients.csIn(region).listAddonsWithOptions(new ListAddonsRequest({ clusterId }), {}, runtime(ctx.clients.timeouts.read)));
  return (response.body?.addons ?? []).find((a) => a.name === name)?.version ?? '';
}

export async function clusterIdsIn(ctx: ExecContext, region: string): Promise<string[]> {
  const ids: string[] = [];
  for (let page = 1; ; page++) {
    const response = await call(ctx, { service: 'cs', permission: 'cs:DescribeClustersV1', resource: `region ${region}`, scope: region }, () =>
      ctx.clients.csIn(region).describeClustersV1WithOptions(new DescribeClustersV1Request({ regionId: region, pageNumber: page, pageSize: 100 }), {}, runtime(ctx.clients.timeouts.read)));
    const clusters = response.body?.clusters ?? [];
    for (const c of clusters) if (c.clusterId) ids.push(c.clusterId);
    const total = response.body?.pageInfo?.totalCount ?? ids.length;
    if (clusters.length === 0 || ids.length >= total) return ids;
  }
}

// ---- RAM ----

export async function userExists(ctx: ExecContext, userName: string): Promise<boolean> {
  const found = await callOrNull(ctx, { service: 'ram', permission: 'ram:GetUser', resource: `RAM user ${userName}` }, () =>
    ctx.clients.ram.getUserWithOptions(new GetUserRequest({ userName }), runtime(ctx.clients.timeouts.read)));
  return found !== null;
}

export interface PolicyVersion { versionId: string; isDefault: boolean; document: string; createDate: string }

/** The custom policy's versions, or null when the policy does not exist. */
export async function policyVersions(ctx: ExecContext, policyName: string): Promise<PolicyVersion[] | null> {
  const listed = await callOrNull(ctx, { service: 'ram', permission: 'ram:ListPolicyVersions', resource: `policy ${policyName}` }, () =>
    ctx.clients.ram.listPolicyVersionsWithOptions(new ListPolicyVersionsRequest({ policyName, policyType: 'Custom' }), runtime(ctx.clients.timeouts.read)));
  if (listed === null) return null;
  return (listed.body?.policyVersions?.policyVersion ?? []).map((v) => ({
    versionId: v.versionId ?? '',
    isDefault: v.isDefaultVersion === true,
    document: v.policyDocument ?? '',
    createDate: v.createDate ?? '',
  }));
}

/** The default version of a custom policy (its id and document), or null when the policy does not exist. */
export async function policyDefaultVersion(ctx: ExecContext, policyName: string): Promise<{ versionId: string; document: string } | null> {
  const found = await callOrNull(ctx, { service: 'ram', permission: 'ram:GetPolicy', resource: `policy ${policyName}` }, () =>
    ctx.clients.ram.getPolicyWithOptions(new GetPolicyRequest({ policyName, policyType: 'Custom' }), runtime(ctx.clients.timeouts.read)));
  if (found === null) return null;
  const current = found.body?.defaultPolicyVersion;
  return { versionId: current?.versionId ?? found.body?.policy?.defaultVersion ?? '', document: current?.policyDocument ?? '' };
}

/** The default version's document, or null when the policy does not exist. */
export async function defaultPolicyDocument(ctx: ExecContext, policyName: string): Promise<string | null> {
  const found = await callOrNull(ctx, { service: 'ram', permission: 'ram:GetPolicy', resource: `policy ${policyName}` }, () =>
    ctx.clients.ram.getPolicyWithOptions(new GetPolicyRequest({ policyName, policyType: 'Custom' }), runtime(ctx.clients.timeouts.read)));
  if (found === null) return null;
  return found.body?.defaultPolicyVersion?.policyDocument ?? '';
}

export async function policyAttached(ctx: ExecContext, userName: string, policyName: string): Promise<boolean> {
  const listed = await callOrNull(ctx, { service: 'ram', permission: 'ram:ListPoliciesForUser', resource: `RAM user ${userName}` }, () =>
    ctx.clients.ram.listPoliciesForUserWithOptions(new ListPoliciesForUserRequest({ userName }), runtime(ctx.clients.timeouts.read)));
  return (listed?.body?.policies?.policy ?? []).some((p) => p.policyName === policyName && p.policyType === 'Custom');
}

export interface AccessKeyInfo { accessKeyId: string; status: string }

export async function accessKeys(ctx: ExecContext, userName: string): Promise<AccessKeyInfo[]> {
  const listed = await callOrNull(ctx, { service: 'ram', permission: 'ram:ListAccessKeys', resource: `RAM user ${userName}` }, () =>
    ctx.clients.ram.listAccessKeysWithOptions(new ListAccessKeysRequest({ userName }), runtime(ctx.clients.timeouts.read)));
  return (listed?.body?.accessKeys?.accessKey ?? []).map((k) => ({ accessKeyId: k.accessKeyId ?? '', status: k.status ?? '' }));
}

export async function roleExists(ctx: ExecContext, roleName: string): Promise<boolean> {
  const found = await callOrNull(ctx, { service: 'ram', permission: 'ram:GetRole', resource: `RAM role ${roleName}` }, () =>
    ctx.clients.ram.getRoleWithOptions(new GetRoleRequest({ roleName }), runtime(ctx.clients.timeouts.read)));
  return found !== null;
}

// ---- OSS ----

interface OssListing { buckets: { name: string; region: string }[] | null; isTruncated?: boolean; nextMarker?: string | null }

export async function listBuckets(ctx: ExecContext, region: string): Promise<Bucket[]> {
  const oss = await ctx.clients.oss(region);
  const buckets: Bucket[] = [];
  let marker: string | null | undefined;
  do {
    const page = (await call(ctx, { service: 'oss', permission: 'oss:ListBuckets', resource: 'the account' }, () =>
      oss.listBuckets({ ...(marker ? { marker } : {}), 'max-keys': 1000 } as never))) as unknown as OssListing;
    // ali-oss reports regions as "oss-<region>".
    for (const b of page.buckets ?? []) buckets.push({ name: b.name, region: b.region.replace(/^oss-/, '') });
    marker = page.isTruncated ? page.nextMarker : null;
  } while (marker);
  return buckets;
}

// ---- Kubernetes ----

/** Calls whose CS requests happen only on a cache miss: each request takes the CS rate, a hit costs nothing. */
function cachedCsCall<T>(ctx: ExecContext, context: CallContext, fetch: (pace: Pace | undefined) => Promise<T>): Promise<T> {
  const { limiter, ...unpacedCtx } = ctx;
  const pace = limiter ? <R>(request: () => Promise<R>, region: string) => limiter.run('cs', request, region) : undefined;
  return call(unpacedCtx, context, () => fetch(pace));
}

export function kubeOf(ctx: ExecContext, clusterId: string): Promise<KubeClients> {
  return cachedCsCall(ctx, { service: 'cs', permission: 'cs:DescribeClusterUserKubeconfig', resource: `cluster ${clusterId}` }, (pace) =>
    ctx.clients.kube(clusterId, pace));
}

export async function regionOf(ctx: ExecContext, clusterId: string): Promise<string> {
  return (await clusterDetail(ctx, clusterId)).region;
}

export interface SecretView { keys: string[]; data: Record<string, string>; labels: Record<string, string>; resourceVersion: string }

/** The Secret's keys and decoded values, or null when absent. Callers must not log `data`. */
export async function readSecret(ctx: ExecContext, clusterId: string, namespace: string, name: string): Promise<SecretView | null> {
  const kube = await kubeOf(ctx, clusterId);
  const secret = await callOrNull(ctx, { service: 'kube', permission: 'get secrets', resource: `Secret ${namespace}/${name} in cluster ${clusterId}`, scope: clusterId }, () =>
    kube.core.readNamespacedSecret({ name, namespace }));
  if (secret === null) return null;
  const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = v;
  return { keys: Object.keys(data).sort(), data, labels: secret.metadata?.labels ?? {}, resourceVersion: secret.metadata?.resourceVersion ?? '' };
}

export async function namespaceExists(ctx: ExecContext, clusterId: string, namespace: string): Promise<boolean> {
  const kube = await kubeOf(ctx, clusterId);
  const found = await callOrNull(ctx, { service: 'kube', permission: 'get namespaces', resource: `namespace ${namespace} in cluster ${clusterId}`, scope: clusterId }, () =>
    kube.core.readNamespace({ name: namespace }));
  return found !== null;
}

/** The image the Deployment's first container runs, or null when the Deployment does not exist. */
export async function deploymentImage(ctx: ExecContext, clusterId: string, namespace: string, name: string): Promise<string | null> {
  const kube = await kubeOf(ctx, clusterId);
  const found = await callOrNull(ctx, { service: 'kube', permission: 'get deployments', resource: `Deployment ${namespace}/${name} in cluster ${clusterId}`, scope: clusterId }, () =>
    kube.apps.readNamespacedDeployment({ name, namespace }));
  return found === null ? null : (found.spec?.template?.spec?.containers?.[0]?.image ?? '');
}

export async function readyReplicas(ctx: ExecContext, clusterId: string, namespace: string, name: string): Promise<number | null> {
  const kube = await kubeOf(ctx, clusterId);
  const found = await callOrNull(ctx, { service: 'kube', permission: 'get deployments', resource: `Deployment ${namespace}/${name} in cluster ${clusterId}`, scope: clusterId }, () =>
    kube.apps.readNamespacedDeployment({ name, namespace }));
  return found === null ? null : (found.status?.readyReplicas ?? 0);
}

export const BACKUP_LOCATION = { group: 'csdr.alibabacloud.com', version: 'v1beta1', plural: 'backuplocations', kind: 'BackupLocation' } as const;

/** The backup center's task resources (sandbox/kube/backup-center.ts says where they are documented). */
export const APPLICATION_BACKUP = { group: 'csdr.alibabacloud.com', version: 'v1beta1', plural: 'applicationbackups', kind: 'ApplicationBackup' } as const;
export const DELETE_REQUEST = { group: 'csdr.alibabacloud.com', version: 'v1beta1', plural: 'deleterequests', kind: 'DeleteRequest' } as const;

export interface CustomObject {
  metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: unknown;
  status?: unknown;
}

type CustomResource = typeof BACKUP_LOCATION | typeof APPLICATION_BACKUP | typeof DELETE_REQUEST;

/** A namespaced custom object, or null when absent. */
export async function readCustomObject(ctx: ExecContext, clusterId: string, resource: CustomResource, namespace: string, name: string): Promise<CustomObject | null> {
  const kube = await kubeOf(ctx, clusterId);
  return callOrNull(ctx, { service: 'kube', permission: `get ${resource.plural}.${resource.group}`, resource: `${resource.kind} ${namespace}/${name} in cluster ${clusterId}`, scope: clusterId }, () =>
    kube.custom.getNamespacedCustomObject({ group: resource.group, version: resource.version, namespace, plural: resource.plural, name }) as Promise<CustomObject>);
}

export function readBackupLocation(ctx: ExecContext, clusterId: string, namespace: string, name: string): Promise<CustomObject | null> {
  return readCustomObject(ctx, clusterId, BACKUP_LOCATION, namespace, name);
}

export async function listBackupLocations(ctx: ExecContext, clusterId: string, namespace: string): Promise<CustomObject[]> {
  const kube = await kubeOf(ctx, clusterId);
  const listed = await callOrNull(ctx, { service: 'kube', permission: 'list backuplocations.csdr.alibabacloud.com', resource: `namespace ${namespace} in cluster ${clusterId}`, scope: clusterId }, () =>
    kube.custom.listNamespacedCustomObject({ group: BACKUP_LOCATION.group, version: BACKUP_LOCATION.version, namespace, plural: BACKUP_LOCATION.plural }) as Promise<{ items?: CustomObject[] }>);
  return listed?.items ?? [];
}
