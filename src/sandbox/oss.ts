// OSS emulator: path-style bucket and object operations (ali-oss with sldEnable), V1/V4 signatures, RAM's
// decision on every request of a RAM user or role, XML responses and XML errors shaped like the real service.
// The region of a request is the one its Host names (`<bucket>.oss-<region>.aliyuncs.com`, which ali-oss sends from its `region` option when
// the endpoint is an IP); a Host that names no OSS region means the default region, cn-hangzhou.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AccountState, OssBucket, SandboxAccount } from './account.ts';
import { splitUrl } from './acs3.ts';
import { findAccessKey } from './credentials.ts';
import { applyFaults, type FaultPlan } from './faults.ts';
import { found, newRequestId, readBody, type Handler } from './http.ts';
import { accessDeniedDetail, gate, type Refusal } from './iam/authorize.ts';
import { objectOperationOf, objectOperations, type OssResult } from './oss-objects.ts';
import { verifyOssSignature, type OssRequestTarget } from './oss-sign.ts';
import { OssError, toXml, type XmlValue } from './oss-xml.ts';
import type { RequestLog } from './request-log.ts';

export const OSS_DEFAULT_REGION = 'cn-hangzhou';
export const MAX_BUCKETS_PER_REGION = 100;
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const HOST_REGION = /^(?:([^.]*)\.)?oss-([a-z0-9-]+?)(-internal)?\.aliyuncs\.com(?::\d+)?$/;
const STORAGE_CLASSES = ['Standard', 'IA', 'Archive', 'ColdArchive', 'DeepColdArchive'];
const REDUNDANCY_TYPES = ['LRS', 'ZRS'];
const ACLS = ['private', 'public-read', 'public-read-write'];

const noSuchBucket = (name: string) => new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: name });

/** Parses the optional PutBucket body: <CreateBucketConfiguration> with simple child elements. */
function createBucketConfiguration(body: Buffer): Record<string, string> {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  const malformed = new OssError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  const root = /^(?:<\?xml[^>]*\?>\s*)?<CreateBucketConfiguration>([\s\S]*)<\/CreateBucketConfiguration>$/.exec(text);
  if (!root) throw malformed;
  const fields: Record<string, string> = {};
  const rest = (root[1] as string).replace(/<(\w+)>([^<]*)<\/\1>/g, (_, name: string, value: string) => {
    fields[name] = value.trim();
    return '';
  });
  if (rest.trim() !== '') throw malformed;
  return fields;
}

/** The RAM action OSS authorizes each operation as (https://www.alibabacloud.com/help/en/oss/user-guide/authorization-syntax-and-elements). */
const OSS_ACTIONS: Record<string, string> = {
  ListBuckets: 'oss:ListBuckets',
  PutBucket: 'oss:PutBucket',
  DeleteBucket: 'oss:DeleteBucket',
  GetBucketInfo: 'oss:GetBucketInfo',
  GetBucketLocation: 'oss:GetBucketLocation',
  ListObjects: 'oss:ListObjects',
  ListObjectsV2: 'oss:ListObjects',
  PutObject: 'oss:PutObject',
  GetObject: 'oss:GetObject',
  HeadObject: 'oss:GetObject',
  GetObjectMeta: 'oss:GetObject',
  DeleteObject: 'oss:DeleteObject',
};

/**
 * OSS's refusal of a RAM identity: 403 AccessDenied with AccessDeniedDetail, EC and RecommendDoc
 * (https://www.alibabacloud.com/help/en/oss/support/0003-00000201 shows the body). EC 0003-00000201 is an explicit
 * Deny; 0003-00000001 is the missing Allow on an existing bucket or object (https://www.alibabacloud.com/help/en/oss/support/0003-00000001)
 * and 0003-00000202 on a service-level request or a bucket not yet created (https://help.aliyun.com/en/oss/user-guide/0003-00000202).
 * The messages of the last two are not printed in the docs; these are the ones OSS is commonly seen answering (a guess for 0003-00000202).
 */
function refusalError(refusal: Refusal, operation: string, target: OssRequestTarget): OssError {
  const serviceLevel = operation === 'ListBuckets' || operation === 'PutBucket';
  const [ec, message] = refusal.decision === 'ExplicitDeny'
    ? ['0003-00000201', 'Access denied by bucket policy.']
    : serviceLevel
      ? ['0003-00000202', 'You are not authorized to do this action. You should be authorized by RAM.']
      : ['0003-00000001', 'You have no right to access this object because of bucket acl.'];
  return new OssError(403, 'AccessDenied', message, {
    AccessDeniedDetail: accessDeniedDetail(refusal),
    ...(target.bucket ? { Bucket: target.bucket } : {}),
    EC: ec,
    RecommendDoc: `https://api.aliyun.com/troubleshoot?q=${ec}`,
  });
}

export function ossHandler(account: SandboxAccount, faults?: FaultPlan, log?: RequestLog): Handler {
  const state = () => account.state;
  const location = (region: string) => `oss-${region}`;
  const endpoints = (region: string) => ({
    ExtranetEndpoint: `oss-${region}.aliyuncs.com`,
    IntranetEndpoint: `oss-${region}-internal.aliyuncs.com`,
  });
  const owner = (s: AccountState) => ({ ID: s.accountId, DisplayName: s.accountId });
  const bucket = (s: AccountState, name: string): OssBucket => found(s.oss.buckets.find((b) => b.name === name), () => noSuchBucket(name));

  /** A bucket is addressed at the endpoint of its own region; elsewhere OSS answers AccessDenied with the right endpoint. */
  const inRegion = (info: OssBucket, region: string): OssBucket => {
    if (info.region !== region) {
      throw new OssError(403, 'AccessDenied', 'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.', {
        Bucket: info.name,
        Endpoint: endpoints(info.region).ExtranetEndpoint,
      });
    }
    return info;
  };

  const operations: Record<string, (t: OssRequestTarget, region: string, req: IncomingMessage, body: Buffer) => OssResult> = {
    ListBuckets: ({ query }) => {
      const s = state();
      const prefix = query.prefix ?? '';
      const marker = query.marker ?? '';
      const maxKeys = query['max-keys'] === undefined ? 100 : Number(query['max-keys']);
      if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1000) {
        throw new OssError(400, 'InvalidArgument', 'max-keys must be an integer from 1 to 1000.', { ArgumentName: 'max-keys', ArgumentValue: String(query['max-keys']) });
      }
      const matching = s.oss.buckets.filter((b) => b.name.startsWith(prefix) && b.name > marker).sort((a, b) => (a.name < b.name ? -1 : 1));
      const page = matching.slice(0, maxKeys);
      const truncated = matching.length > maxKeys;
      const paging: Record<string, XmlValue> = ['prefix', 'marker', 'max-keys'].some((k) => k in query) ? { Prefix: prefix, Marker: marker, MaxKeys: maxKeys } : {};
      const truncation: Record<string, XmlValue> = truncated ? { IsTruncated: true, NextMarker: page.at(-1)!.name } : {};
      return {
        xml: ['ListAllMyBucketsResult', {
          ...paging,
          ...truncation,
          Owner: owner(s),
          Buckets: { Bucket: page.map((b) => ({
            CreationDate: b.createdAt, ...endpoints(b.region), Location: location(b.region), Name: b.name, Region: b.region, StorageClass: b.storageClass,
          })) },
        }],
      };
    },
    PutBucket: ({ bucket: name }, region, req, body) => {
      if (!BUCKET_NAME.test(name)) throw new OssError(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
      const acl = String(req.headers['x-oss-acl'] ?? 'private');
      if (!ACLS.includes(acl)) throw new OssError(400, 'InvalidArgument', 'no such bucket access control exists', { ArgumentName: 'x-oss-acl', ArgumentValue: acl });
      const md5 = req.headers['content-md5'];
      if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('base64')) {
        throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
      }
      const config = createBucketConfiguration(body);
      const storageClass = config.StorageClass ?? 'Standard';
      if (!STORAGE_CLASSES.includes(storageClass)) throw new OssError(400, 'InvalidArgument', `Unsupported storage class ${storageClass}.`, { ArgumentName: 'StorageClass', ArgumentValue: storageClass });
      const redundancy = config.DataRedundancyType ?? 'LRS';
      if (!REDUNDANCY_TYPES.includes(redundancy)) throw new OssError(400, 'InvalidArgument', `Unsupported data redundancy type ${redundancy}.`, { ArgumentName: 'DataRedundancyType', ArgumentValue: redundancy });
      account.change((s) => {
        // The bucket namespace is global: a name another account holds is refused with 409 BucketAlreadyExists.
        if ((s.oss.foreignBuckets ?? []).includes(name)) {
          throw new OssError(409, 'BucketAlreadyExists', 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', { BucketName: name });
        }
        // PutBucket by the bucket's own owner answers 200 and applies the request's ACL and storage class to the
        // existing bucket (https://help.aliyun.com/document_detail/31959.html): a repeat is not an error and
        // overwrites settings. A request without x-oss-acl is read, strictly, as asking for the default (private).
        const owned = s.oss.buckets.find((b) => b.name === name);
        if (owned) {
          if (owned.region !== region) {
            throw new OssError(409, 'BucketAlreadyExists', 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', { BucketName: name });
          }
          owned.acl = acl;
          owned.storageClass = storageClass;
          return;
        }
        // "You can create up to 100 buckets in each region within an Alibaba Cloud account"
        // (OSS limits, https://www.alibabacloud.com/help/en/oss/product-overview/limits): the limit is per region.
        if (s.oss.buckets.filter((b) => b.region === region).length >= MAX_BUCKETS_PER_REGION) {
          throw new OssError(400, 'TooManyBuckets', `You have attempted to create more buckets than allowed (${MAX_BUCKETS_PER_REGION} in ${region}).`, { BucketName: name });
        }
        s.oss.buckets.push({ name, region, createdAt: new Date().toISOString(), storageClass, acl, dataRedundancyType: redundancy });
      });
      return { headers: { location: `/${name}` } };
    },
    GetBucketInfo: ({ bucket: name }, region) => {
      const s = state();
      if ((s.oss.foreignBuckets ?? []).includes(name)) throw new OssError(403, 'AccessDenied', 'You have no right to access this bucket.', { BucketName: name });
      const info = inRegion(bucket(s, name), region);
      return {
        xml: ['BucketInfo', { Bucket: {
          AccessMonitor: 'Disabled', CreationDate: info.createdAt, ...endpoints(info.region), Location: location(info.region),
          StorageClass: info.storageClass, TransferAcceleration: 'Disabled', CrossRegionReplication: 'Disabled',
          DataRedundancyType: info.dataRedundancyType ?? 'LRS', Name: info.name, Region: info.region, ResourceGroupId: 'rg-sandbox',
          Owner: owner(s), AccessControlList: { Grant: info.acl }, Comment: '',
          ServerSideEncryptionRule: { SSEAlgorithm: 'None' }, BucketPolicy: { LogBucket: '', LogPrefix: '' },
        } }],
      };
    },
    GetBucketLocation: ({ bucket: name }) => ({ xml: ['LocationConstraint', location(bucket(state(), name).region)] }),
    // DeleteBucket (https://www.alibabacloud.com/help/en/oss/developer-reference/deletebucket): 204 No Content; a bucket that
    // still holds objects is refused with 409 BucketNotEmpty. The bot never deletes buckets: a test (or a newcomer) removes
    // one behind its back this way.
    DeleteBucket: ({ bucket: name }, region) => {
      inRegion(bucket(state(), name), region);
      account.change((s) => {
        if (Object.keys(s.oss.objects?.[name] ?? {}).length > 0) {
          throw new OssError(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty.', { BucketName: name });
        }
        s.oss.buckets = s.oss.buckets.filter((b) => b.name !== name);
        if (s.oss.objects) delete s.oss.objects[name];
      });
      return { status: 204 };
    },
  };

  const objects = objectOperations(account);
  for (const [name, run] of Object.entries(objects)) {
    operations[name] = (t, region, req, body) => {
      inRegion(bucket(state(), t.bucket), region);
      return run(t, req, body);
    };
  }
  /** The ARN OSS authorizes a request on: `acs:oss:<region>:<owner>:<bucket>[/<object>]`, `…:*` for the bucket list. */
  const resourceOf = (t: OssRequestTarget, region: string): string => {
    const s = state();
    const bucketRegion = s.oss.buckets.find((b) => b.name === t.bucket)?.region ?? region;
    if (!t.bucket) return `acs:oss:${region}:${s.accountId}:*`;
    return `acs:oss:${bucketRegion}:${s.accountId}:${t.bucket}${t.object ? `/${t.object}` : ''}`;
  };

  const operationOf = (method: string | undefined, t: OssRequestTarget): string | null => {
    if (!t.bucket) return method === 'GET' ? 'ListBuckets' : null;
    const objectOperation = objectOperationOf(method, t);
    if (objectOperation) return objectOperation;
    if (t.object) return null;
    if (method === 'PUT' && Object.keys(t.query).length === 0) return 'PutBucket';
    if (method === 'DELETE' && Object.keys(t.query).length === 0) return 'DeleteBucket';
    if (method === 'GET' && 'bucketInfo' in t.query) return 'GetBucketInfo';
    if (method === 'GET' && 'location' in t.query) return 'GetBucketLocation';
    return null;
  };

  return async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const requestId = newRequestId();
    const { path, query } = splitUrl(req.url ?? '/');
    const [, bucketName = '', ...objectParts] = path.split('/').map((p) => decodeURIComponent(p));
    const target: OssRequestTarget = { bucket: bucketName, object: objectParts.join('/'), query };
    const host = String(req.headers.host ?? '');
    const region = HOST_REGION.exec(host)?.[2] ?? OSS_DEFAULT_REGION;
    const send = (status: number, headers: Record<string, string>, text = '') => {
      res.writeHead(status, { server: 'AliyunOSS', 'x-oss-request-id': requestId, 'content-length': String(Buffer.byteLength(text)), ...headers });
      res.end(text);
    };
    const answerError = (status: number, code: string, message: string, extra: Record<string, XmlValue> = {}) => {
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n${toXml('Error', { Code: code, Message: message, RequestId: requestId, HostId: host, ...extra })}`;
      const ec: Record<string, string> = typeof extra.EC === 'string' ? { 'x-oss-ec': extra.EC } : {};
      // A HEAD answer has no body: OSS puts the error document, base64, in x-oss-err (ali-oss lib/client.js requestError reads it).
      if (req.method === 'HEAD') return send(status, { ...ec, 'x-oss-err': Buffer.from(xml).toString('base64') });
      send(status, { 'content-type': 'application/xml', ...ec }, xml);
    };

    const verified = verifyOssSignature(req, target, (id) => findAccessKey(state(), id));
    if (!verified.ok) return answerError(verified.error.status, verified.error.code, verified.error.message, verified.error.extra);
    // An account without OSS (or suspended) is refused every operation: 403 UserDisable
    // (https://www.alibabacloud.com/help/en/oss/how-to-troubleshoot-403-status-code-when-you-access-oss).
    if (state().services?.ossOff) return answerError(403, 'UserDisable', 'UserDisable');
    const operation = operationOf(req.method, target);
    if (!operation) return answerError(501, 'NotImplemented', `The sandbox OSS does not implement ${req.method} ${path}.`);
    try {
      // A bucket that does not exist is answered as such before permissions are looked at (the owner decides them).
      // Another account's bucket exists: anything but PutBucket (409, above) is refused with 403 AccessDenied.
      if (operation !== 'ListBuckets' && operation !== 'PutBucket' && (state().oss.foreignBuckets ?? []).includes(target.bucket)) {
        throw new OssError(403, 'AccessDenied', 'You have no right to access this bucket.', { BucketName: target.bucket });
      }
      if (operation !== 'ListBuckets' && operation !== 'PutBucket') bucket(state(), target.bucket);
      const refusal = gate(state(), log, 'oss', verified.caller, { action: OSS_ACTIONS[operation]!, resources: [resourceOf(target, region)] });
      if (refusal) throw refusalError(refusal, operation, target);
    } catch (error) {
      if (!(error instanceof OssError)) throw error;
      return answerError(error.status, error.code, error.message, error.extra);
    }
    if (await applyFaults(faults, operation, req, res, answerError, 'SlowDown', 503)) return;
    try {
      const result = operations[operation]!(target, region, req, body);
      if (result.body) {
        res.writeHead(result.status ?? 200, { server: 'AliyunOSS', 'x-oss-request-id': requestId, 'content-length': String(result.body.length), ...result.headers });
        res.end(req.method === 'HEAD' ? undefined : result.body);
        return;
      }
      const xml = result.xml ? `<?xml version="1.0" encoding="UTF-8"?>\n${toXml(...result.xml)}` : '';
      send(result.status ?? 200, { ...(xml ? { 'content-type': 'application/xml' } : {}), ...result.headers }, xml);
    } catch (error) {
      if (!(error instanceof OssError)) throw error;
      answerError(error.status, error.code, error.message, error.extra);
    }
  };
}
