// The real SDK clients (RAM, CS, OSS, Kubernetes) and their quirks, in one place. Everything else in the
// executor talks to these objects and never constructs an SDK client itself.
import Ram from '@alicloud/ram20150501';
import Cs, { DescribeClusterDetailResponseBody, DescribeClusterUserKubeconfigRequest } from '@alicloud/cs20151215';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $dara from '@darabonba/typescript';
import CredentialModule from '@alicloud/credentials';
import OSS from 'ali-oss';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';

// Node's ESM loader hands over the CommonJS exports object (class under .default); Vite unwraps it.
function cjsDefault<T>(module: { default: T }): T {
  return ((module as { default?: T }).default ?? module) as T;
}
const RamClientClass = cjsDefault(Ram);
const CsClientClass = cjsDefault(Cs);
const CredentialClass = cjsDefault(CredentialModule);

export type RamClient = InstanceType<typeof RamClientClass>;
export type CsClient = InstanceType<typeof CsClientClass>;

export interface KubeClients {
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
}

export interface CloudClients {
  ram: RamClient;
  /** The CS client of a region (CS endpoints are regional); `cs` is the one of the default region. */
  cs: CsClient;
  csIn(region: string): CsClient;
  oss(region: string): Promise<OSS>;
  /** An OSS client for the objects of one bucket (ali-oss binds object calls to its `bucket` option). */
  ossBucket(region: string, bucket: string): Promise<OSS>;
  /** `paceCs` paces each CS request made to (re)fetch the kubeconfig; a cached one makes none. */
  kube(clusterId: string, paceCs?: Pace): Promise<KubeClients>;
  /** The cluster's region (it never changes), read once per cluster. */
  regionOf(clusterId: string, paceCs?: Pace): Promise<string>;
}

export type Pace = <T>(request: () => Promise<T>) => Promise<T>;
const unpaced: Pace = (request) => request();

export interface CloudClientOptions {
  credentials?: { accessKeyId: string; accessKeySecret: string };
  /** null = the live default endpoint. ram/cs: `host[:port]`; oss: URL. */
  endpoints: { ram: string | null; cs: string | null; oss: string | null };
  protocol?: 'http' | 'https';
  /** Region of the `cs` client and of CS calls made before a cluster's region is known. */
  defaultRegion?: string;
}

/** openapi-core retries nothing unless config.retryOptions says so; autoretry false also covers old runtimes. */
export function runtime(): $dara.RuntimeOptions {
  return new $dara.RuntimeOptions({ autoretry: false, maxAttempts: 1 });
}

const KUBECONFIG_MINUTES = 60;
/** Renew kubeconfigs and STS credentials this long before they expire. */
const RENEW_MARGIN_MS = 5 * 60_000;

interface StsCredentials { accessKeyId: string; accessKeySecret: string; securityToken?: string; expiresAt: number }

export function createCloudClients(options: CloudClientOptions): CloudClients {
  const protocol = options.protocol ?? 'https';
  const defaultRegion = options.defaultRegion ?? 'cn-hangzhou';
  // Without explicit keys: env AK, RRSA OIDC, profile files, ECS role… (the @alicloud/credentials chain).
  const credential = options.credentials ? null : new CredentialClass();
  const openApiConfig = (endpoint: string, regionId: string) =>
    new $OpenApiUtil.Config({
      ...(options.credentials ?? {}),
      ...(credential ? { credential } : {}),
      endpoint,
      protocol,
      regionId,
    });

  const ram = new RamClientClass(openApiConfig(options.endpoints.ram ?? 'ram.aliyuncs.com', defaultRegion));
  const csClients = new Map<string, CsClient>();
  const csIn = (region: string): CsClient => {
    let client = csClients.get(region);
    if (!client) {
      client = new CsClientClass(openApiConfig(options.endpoints.cs ?? `cs.${region}.aliyuncs.com`, region));
      csClients.set(region, client);
    }
    return client;
  };

  // ali-oss takes fixed keys only: fetch them from the chain and rebuild the client when they expire.
  const ossClients = new Map<string, { client: OSS; expiresAt: number }>();
  const ossBucketClients = new Map<string, { client: OSS; expiresAt: number }>();
  const ossCredentials = async (): Promise<StsCredentials> => {
    if (options.credentials) return { ...options.credentials, expiresAt: Number.POSITIVE_INFINITY };
    const model = await credential!.getCredential();
    const expiration = (model as { expiration?: number }).expiration;
    return {
      accessKeyId: model.accessKeyId ?? '',
      accessKeySecret: model.accessKeySecret ?? '',
      ...(model.securityToken ? { securityToken: model.securityToken } : {}),
      // Provider models carry no expiry for static keys; STS tokens last at least 15 minutes.
      expiresAt: model.securityToken ? (expiration ? expiration * (expiration < 1e12 ? 1000 : 1) : Date.now() + 15 * 60_000) : Number.POSITIVE_INFINITY,
    };
  };
  const freshSts = async () => {
    const keys = await ossCredentials();
    return { accessKeyId: keys.accessKeyId, accessKeySecret: keys.accessKeySecret, stsToken: keys.securityToken ?? '' };
  };
  const oss = (region: string) => ossClient(region);
  const ossBucket = (region: string, bucket: string) => ossClient(region, bucket);
  const ossClient = async (region: string, bucket?: string): Promise<OSS> => {
    const cache = bucket ? ossBucketClients : ossClients;
    const cacheKey = bucket ? `${region}/${bucket}` : region;
    const cached = cache.get(cacheKey);
    if (cached && cached.expiresAt - RENEW_MARGIN_MS > Date.now()) return cached.client;
    const keys = await ossCredentials();
    // @types/ali-oss does not know sldEnable, which ali-oss 6.23.0 reads: path-style /<bucket>/ for IP endpoints.
    const ossOptions: OSS.Options & { sldEnable?: boolean } = {
      region: `oss-${region}`,
      accessKeyId: keys.accessKeyId,
      accessKeySecret: keys.accessKeySecret,
      // STS keys (RRSA, an ECS role): ali-oss asks for fresh ones itself before they expire.
      ...(keys.securityToken ? { stsToken: keys.securityToken, refreshSTSToken: () => freshSts() } : {}),
      secure: protocol === 'https',
      ...(options.endpoints.oss ? { endpoint: options.endpoints.oss, sldEnable: true } : { endpoint: `https://oss-${region}.aliyuncs.com` }),
      retryMax: 0,
      ...(bucket ? { bucket } : {}),
    } as OSS.Options & { sldEnable?: boolean; retryMax: number };
    const client = new OSS(ossOptions);
    cache.set(cacheKey, { client, expiresAt: keys.expiresAt });
    return client;
  };

  const clusterRegions = new Map<string, string>();
  const regionOf = async (clusterId: string, pace: Pace = unpaced): Promise<string> => {
    const known = clusterRegions.get(clusterId);
    if (known) return known;
    const detail = await pace(() => csIn(defaultRegion).describeClusterDetailWithOptions(clusterId, {}, runtime()));
    const region = (detail.body as DescribeClusterDetailResponseBody | undefined)?.regionId ?? defaultRegion;
    clusterRegions.set(clusterId, region);
    return region;
  };

  const kubeClients = new Map<string, { clients: KubeClients; expiresAt: number }>();
  const kube = async (clusterId: string, pace: Pace = unpaced): Promise<KubeClients> => {
    const cached = kubeClients.get(clusterId);
    if (cached && cached.expiresAt - RENEW_MARGIN_MS > Date.now()) return cached.clients;
    const region = await regionOf(clusterId, pace);
    const response = await pace(() =>
      csIn(region).describeClusterUserKubeconfigWithOptions(
        clusterId,
        new DescribeClusterUserKubeconfigRequest({ privateIpAddress: false, temporaryDurationMinutes: KUBECONFIG_MINUTES }),
        {},
        runtime(),
      ),
    );
    const config = new KubeConfig();
    config.loadFromString(response.body?.config ?? '');
    const clients: KubeClients = {
      core: config.makeApiClient(CoreV1Api),
      apps: config.makeApiClient(AppsV1Api),
      custom: config.makeApiClient(CustomObjectsApi),
    };
    const expiration = Date.parse(response.body?.expiration ?? '');
    kubeClients.set(clusterId, { clients, expiresAt: Number.isNaN(expiration) ? Date.now() + KUBECONFIG_MINUTES * 60_000 : expiration });
    return clients;
  };

  return { ram, cs: csIn(defaultRegion), csIn, oss, ossBucket, kube, regionOf };
}
