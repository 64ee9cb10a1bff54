// The real SDK clients (RAM, CS, OSS, Kubernetes) and their quirks, in one place. Everything else in the
// executor talks to these objects and never constructs an SDK client itself.
import Ram from '@alicloud/ram20150501';
import Cs, { DescribeClusterDetailResponseBody, DescribeClusterUserKubeconfigRequest } from '@alicloud/cs20151215';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $dara from '@darabonba/typescript';
import CredentialModule from '@alicloud/credentials';
import OSS from 'ali-oss';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { PooledKubeConfig } from './kube-config.ts';

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

/**
 * How long one request may take, by kind of operation, in ms. Without them httpx gives every request 3,000 ms
 * (node_modules/httpx/lib/index.js TIMEOUT; @darabonba/typescript core.ts doAction passes runtime.readTimeout /
 * connectTimeout; @alicloud/openapi-core client.ts uses runtime.readTimeout || config.readTimeout), and a RAM write
 * that takes 3.5 s fails although it was carried out. httpx also hands connectTimeout to http.request as `timeout`,
 * the socket's idle timeout, so a response slower than connectTimeout fails as a ConnectTimeout whatever
 * readTimeout says (measured: readTimeout 20 s, connectTimeout 5 s, an answer after 21 s fails at 5 s): both are set
 * to the operation's budget. Add-on installs and kubeconfig issuance are the slow ones.
 */
export interface Timeouts {
  read: number;
  write: number;
  /** InstallClusterAddons / UpgradeClusterAddons: CS validates and starts a task before it answers. */
  addonChange: number;
  /** DescribeClusterUserKubeconfig: CS issues a certificate. */
  kubeconfig: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { read: 10_000, write: 20_000, addonChange: 60_000, kubeconfig: 30_000 };

export interface CloudClients {
  /** The timeouts every call of these clients uses, by kind of operation. */
  timeouts: Timeouts;
  ram: RamClient;
  /** The CS client of a region (CS endpoints are regional); `cs` is the one of the default region. */
  cs: CsClient;
  csIn(region: string): CsClient;
  oss(region: string): Promise<OSS>;
  /** An OSS client for the objects of one bucket (ali-oss binds object calls to its `bucket` option). */
  ossBucket(region: string, bucket: string): Promise<OSS>;
  /** `paceCs` paces each CS request made to (re)fetch the kubeconfig; a cached one makes none. */
  kube(clusterId: string, paceCs?: Pace): Promise<KubeClients>;
  /**
   * DescribeClusterDetail, read once per cluster: what the steps use of it (region, type, API server endpoints) does
   * not change. `fresh` reads it again (planning does) and keeps that answer.
   */
  clusterDetail(clusterId: string, options?: { pace?: Pace; fresh?: boolean }): Promise<DescribeClusterDetailResponseBody>;
}

/** What DescribeClusterDetail says about where a cluster is and how its API server is reached. */
export interface ClusterEndpoint {
  region: string;
  /** false: the API server has only an internal (VPC) endpoint (master_url has no api_server_endpoint). */
  publicApiServer: boolean;
}

/** master_url is a JSON string {"api_server_endpoint": …, "intranet_api_server_endpoint": …} (DescribeClusterDetailResponseBody.masterUrl). */
export function publicApiServerOf(masterUrl: string | undefined): boolean {
  if (!masterUrl) return true;
  try {
    const parsed = JSON.parse(masterUrl) as { api_server_endpoint?: unknown; intranet_api_server_endpoint?: unknown };
    return typeof parsed.api_server_endpoint === 'string' && parsed.api_server_endpoint !== '' ? true : typeof parsed.intranet_api_server_endpoint !== 'string';
  } catch {
    return true;
  }
}

/** Paces a CS request sent to `region`'s endpoint. */
export type Pace = <T>(request: () => Promise<T>, region: string) => Promise<T>;
const unpaced: Pace = (request) => request();

export interface CloudClientOptions {
  credentials?: { accessKeyId: string; accessKeySecret: string };
  /** null = the live default endpoint. ram/cs: `host[:port]`; oss: URL. */
  endpoints: { ram: string | null; cs: string | null; oss: string | null };
  /** A CS endpoint per region (`host[:port]`), where one differs from `endpoints.cs`. */
  csEndpoints?: Record<string, string>;
  protocol?: 'http' | 'https';
  /** Region of the `cs` client and of CS calls made before a cluster's region is known. */
  defaultRegion?: string;
  timeouts?: Partial<Timeouts>;
}

/**
 * openapi-core retries nothing unless config.retryOptions says so; autoretry false also covers old runtimes.
 * `timeoutMs`: the operation's budget (Timeouts); the executor always passes one.
 */
export function runtime(timeoutMs?: number): $dara.RuntimeOptions {
  return new $dara.RuntimeOptions({
    autoretry: false,
    maxAttempts: 1,
    ...(timeoutMs ? { connectTimeout: timeoutMs, readTimeout: timeoutMs } : {}),
  });
}

const KUBECONFIG_MINUTES = 60;
/** Renew kubeconfigs and STS credentials this long before they expire. */
const RENEW_MARGIN_MS = 5 * 60_000;

interface StsCredentials { accessKeyId: string; accessKeySecret: string; securityToken?: string; expiresAt: number }

export function createCloudClients(options: CloudClientOptions): CloudClients {
  const protocol = options.protocol ?? 'https';
  const timeouts: Timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
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
      client = new CsClientClass(openApiConfig(options.csEndpoints?.[region] ?? options.endpoints.cs ?? `cs.${region}.aliyuncs.com`, region));
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

  // DescribeClusterDetail goes to the default region's endpoint: the bot learns a cluster's region from it. Whether
  // a regional CS endpoint answers for clusters of other regions is not documented (see README, "Regions").
  const details = new Map<string, DescribeClusterDetailResponseBody>();
  const clusterDetail = async (clusterId: string, { pace = unpaced, fresh = false }: { pace?: Pace; fresh?: boolean } = {}) => {
    const known = fresh ? undefined : details.get(clusterId);
    if (known) return known;
    const response = await pace(() => csIn(defaultRegion).describeClusterDetailWithOptions(clusterId, {}, runtime(timeouts.read)), defaultRegion);
    const body = response.body ?? new DescribeClusterDetailResponseBody({});
    details.set(clusterId, body);
    return body;
  };
  const endpointOf = async (clusterId: string, pace: Pace): Promise<ClusterEndpoint> => {
    const body = await clusterDetail(clusterId, { pace });
    return { region: body.regionId ?? defaultRegion, publicApiServer: publicApiServerOf(body.masterUrl) };
  };

  const kubeClients = new Map<string, { clients: KubeClients; expiresAt: number }>();
  const kube = async (clusterId: string, pace: Pace = unpaced): Promise<KubeClients> => {
    const cached = kubeClients.get(clusterId);
    if (cached && cached.expiresAt - RENEW_MARGIN_MS > Date.now()) return cached.clients;
    const { region, publicApiServer } = await endpointOf(clusterId, pace);
    // A private-only API server has no public kubeconfig: ask for the internal one, which works only where the bot
    // runs inside (or is routed into) the cluster's VPC (DescribeClusterUserKubeconfigRequest.privateIpAddress).
    const response = await pace(() =>
      csIn(region).describeClusterUserKubeconfigWithOptions(
        clusterId,
        new DescribeClusterUserKubeconfigRequest({ privateIpAddress: !publicApiServer, temporaryDurationMinutes: KUBECONFIG_MINUTES }),
        {},
        runtime(timeouts.kubeconfig),
      ),
      region,
    );
    const config = new PooledKubeConfig();
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

  return { timeouts, ram, cs: csIn(defaultRegion), csIn, oss, ossBucket, kube, clusterDetail };
}
