// The real SDK clients, configured against the sandbox exactly as the executor must configure them.
import Ram from '@alicloud/ram20150501';
import Cs from '@alicloud/cs20151215';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import OSS from 'ali-oss';
import type { Sandbox } from '../../src/sandbox/index.ts';

// Node's ESM loader hands over the CommonJS exports object (class under .default); Vite unwraps it.
function cjsDefault<T>(module: { default: T }): T {
  return ((module as { default?: T }).default ?? module) as T;
}
const RamClient = cjsDefault(Ram);
const CsClient = cjsDefault(Cs);

export interface Keys { accessKeyId: string; accessKeySecret: string }

export function ramClient(sandbox: Sandbox, keys: Keys = sandbox.credentials) {
  return new RamClient(new $OpenApiUtil.Config({ ...keys, endpoint: sandbox.endpoints.ram, protocol: 'http', regionId: 'cn-hangzhou' }));
}

export function csClient(sandbox: Sandbox, keys: Keys = sandbox.credentials) {
  return new CsClient(new $OpenApiUtil.Config({ ...keys, endpoint: sandbox.endpoints.cs, protocol: 'http', regionId: 'cn-hangzhou' }));
}

/** `region` is the OSS region id with its `oss-` prefix, as ali-oss expects it. */
export function ossClient(sandbox: Sandbox, region = 'oss-cn-hangzhou', keys: Keys = sandbox.credentials, authorizationV4 = false) {
  // @types/ali-oss 6.23.3 does not know sldEnable / authorizationV4, which ali-oss 6.23.0 reads.
  const options: OSS.Options & { sldEnable: boolean; authorizationV4: boolean } = {
    endpoint: sandbox.endpoints.oss, region, ...keys, sldEnable: true, authorizationV4,
  };
  return new OSS(options);
}

/** What ali-oss's listBuckets really returns (@types/ali-oss types it as Bucket[]). */
export interface OssListing {
  buckets: { name: string; region: string; creationDate: string; storageClass: string }[] | null;
  owner: { id: string; displayName: string };
  isTruncated: boolean;
  nextMarker: string | null;
}

export async function listBuckets(client: OSS, query: { prefix?: string; marker?: string | null; 'max-keys'?: number } = {}): Promise<OssListing> {
  return (await client.listBuckets(query as never)) as unknown as OssListing;
}

/** The error a call must fail with; a call that succeeds fails the test. */
export async function failure(call: Promise<unknown>): Promise<{ name: string; code: string; statusCode?: number; status?: number; message: string; data?: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    return error as never;
  }
  throw new Error('expected the call to fail, it succeeded');
}
