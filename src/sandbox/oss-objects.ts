// OSS object operations as Velero's Alibaba Cloud plugin uses them (PutObject, GetObject, IsObjectExist = HEAD
// ?objectMeta, ListObjects with prefix/delimiter/marker, DeleteObject: velero-plugin-for-alibabacloud/object_store.go in
// AliyunContainerService/velero-plugin) and as the bot checks a test backup (ListObjectsV2). Responses and errors follow
// the OSS API reference (https://www.alibabacloud.com/help/en/oss/developer-reference/putobject, …/getobject,
// …/listobjects, …/listobjectsv2, …/deleteobject, …/headobject, …/getobjectmeta).
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AccountState, OssObject, SandboxAccount } from './account.ts';
import type { OssRequestTarget } from './oss-sign.ts';
import { OssError, type XmlValue } from './oss-xml.ts';

export interface OssResult { status?: number; headers?: Record<string, string>; xml?: [string, XmlValue]; body?: Buffer }
type Operation = (t: OssRequestTarget, req: IncomingMessage, body: Buffer) => OssResult;

/** Object keys are 1 to 1023 bytes of UTF-8 (PutObject "Usage notes"). */
const MAX_KEY_BYTES = 1023;
/** PutObject takes at most 5 GB. */
const MAX_OBJECT_BYTES = 5 * 1024 ** 3;
const MAX_KEYS_LIMIT = 1000;

export function objectOperationOf(method: string | undefined, t: OssRequestTarget): string | null {
  if (!t.bucket) return null;
  if (!t.object) {
    if (method !== 'GET') return null;
    const subresources = Object.keys(t.query).filter((k) => !['prefix', 'marker', 'delimiter', 'max-keys', 'encoding-type', 'list-type', 'continuation-token', 'start-after', 'fetch-owner'].includes(k));
    if (subresources.length > 0) return null;
    return t.query['list-type'] === '2' ? 'ListObjectsV2' : 'ListObjects';
  }
  if (method === 'PUT' && Object.keys(t.query).length === 0) return 'PutObject';
  if (method === 'GET' && Object.keys(t.query).every((k) => k.startsWith('response-'))) return 'GetObject';
  if (method === 'HEAD' && 'objectMeta' in t.query) return 'GetObjectMeta';
  if (method === 'HEAD' && Object.keys(t.query).length === 0) return 'HeadObject';
  if (method === 'DELETE' && Object.keys(t.query).length === 0) return 'DeleteObject';
  return null;
}

const noSuchKey = (key: string) => new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });

function objectsOf(state: AccountState, bucket: string): Record<string, OssObject> {
  return state.oss.objects?.[bucket] ?? {};
}

function objectHeaders(object: OssObject): Record<string, string> {
  return {
    'content-type': object.contentType,
    etag: `"${object.etag}"`,
    'last-modified': new Date(object.lastModified).toUTCString(),
    'x-oss-object-type': 'Normal',
    'x-oss-storage-class': object.storageClass,
  };
}

function maxKeys(query: Record<string, string>): number {
  const raw = query['max-keys'];
  if (raw === undefined) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_KEYS_LIMIT) {
    throw new OssError(400, 'InvalidArgument', `max-keys must be an integer from 1 to ${MAX_KEYS_LIMIT}.`, { ArgumentName: 'max-keys', ArgumentValue: raw });
  }
  return n;
}

/**
 * The keys after `after` under `prefix`, in UTF-8 order, with keys sharing the part up to the next `delimiter`
 * rolled up into one common prefix (each counts once towards max-keys), as ListObjects and ListObjectsV2 return them.
 */
function listing(state: AccountState, bucket: string, prefix: string, delimiter: string, after: string, limit: number) {
  const keys = Object.keys(objectsOf(state, bucket)).filter((k) => k.startsWith(prefix)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const contents: string[] = [];
  const prefixes: string[] = [];
  let last = '';
  let truncated = false;
  for (const key of keys) {
    const rolled = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const entry = rolled >= 0 ? key.slice(0, rolled + delimiter.length) : key;
    if (entry <= after || (rolled >= 0 && prefixes.at(-1) === entry)) continue;
    if (contents.length + prefixes.length === limit) {
      truncated = true;
      break;
    }
    if (rolled >= 0) prefixes.push(entry);
    else contents.push(entry);
    last = entry;
  }
  return { contents, prefixes, truncated, last };
}

export function objectOperations(account: SandboxAccount): Record<string, Operation> {
  const state = () => account.state;
  const owner = () => ({ ID: state().accountId, DisplayName: state().accountId });
  const stored = (bucket: string, key: string) => {
    const object = objectsOf(state(), bucket)[key];
    if (!object) throw noSuchKey(key);
    return object;
  };
  const contentsOf = (bucket: string, keys: string[], withOwner: boolean): XmlValue[] =>
    keys.map((key) => {
      const o = objectsOf(state(), bucket)[key]!;
      return { Key: key, LastModified: o.lastModified, ETag: `"${o.etag}"`, Type: 'Normal', Size: o.size, StorageClass: o.storageClass, ...(withOwner ? { Owner: owner() } : {}) };
    });

  return {
    PutObject: ({ bucket, object: key }, req, body) => {
      if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new OssError(400, 'InvalidObjectName', 'The specified object is not valid.', { ObjectName: key });
      if (body.length > MAX_OBJECT_BYTES) throw new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
      const md5 = createHash('md5').update(body);
      const digest = md5.digest();
      const claimed = req.headers['content-md5'];
      if (claimed !== undefined && claimed !== digest.toString('base64')) throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
      const object: OssObject = {
        size: body.length,
        etag: digest.toString('hex').toUpperCase(),
        lastModified: new Date().toISOString().replace(/\.\d{3}Z$/, '.000Z'),
        contentType: String(req.headers['content-type'] ?? 'application/octet-stream'),
        storageClass: String(req.headers['x-oss-storage-class'] ?? 'Standard'),
        data: body.toString('base64'),
      };
      account.change((s) => {
        s.oss.objects ??= {};
        (s.oss.objects[bucket] ??= {})[key] = object;
      });
      return { headers: { etag: `"${object.etag}"`, 'content-md5': digest.toString('base64') } };
    },
    GetObject: ({ bucket, object: key }) => {
      const object = stored(bucket, key);
      return { headers: objectHeaders(object), body: Buffer.from(object.data, 'base64') };
    },
    HeadObject: ({ bucket, object: key }) => {
      const object = stored(bucket, key);
      return { headers: { ...objectHeaders(object), 'content-length': String(object.size) } };
    },
    GetObjectMeta: ({ bucket, object: key }) => {
      const object = stored(bucket, key);
      return { headers: { etag: `"${object.etag}"`, 'last-modified': new Date(object.lastModified).toUTCString(), 'content-length': String(object.size) } };
    },
    // Deleting a key that does not exist also answers 204 (DeleteObject "Usage notes").
    DeleteObject: ({ bucket, object: key }) => {
      if (objectsOf(state(), bucket)[key]) account.change((s) => void delete s.oss.objects![bucket]![key]);
      return { status: 204 };
    },
    ListObjects: ({ bucket, query }) => {
      const limit = maxKeys(query);
      const prefix = query.prefix ?? '';
      const delimiter = query.delimiter ?? '';
      const marker = query.marker ?? '';
      const page = listing(state(), bucket, prefix, delimiter, marker, limit);
      return {
        xml: ['ListBucketResult', {
          Name: bucket, Prefix: prefix, Marker: marker, MaxKeys: limit, Delimiter: delimiter, IsTruncated: page.truncated,
          ...(page.truncated ? { NextMarker: page.last } : {}),
          Contents: contentsOf(bucket, page.contents, true),
          CommonPrefixes: page.prefixes.map((p) => ({ Prefix: p })),
        }],
      };
    },
    ListObjectsV2: ({ bucket, query }) => {
      const limit = maxKeys(query);
      const prefix = query.prefix ?? '';
      const delimiter = query.delimiter ?? '';
      const token = query['continuation-token'];
      const after = token !== undefined ? Buffer.from(token, 'base64').toString('utf8') : (query['start-after'] ?? '');
      const page = listing(state(), bucket, prefix, delimiter, after, limit);
      return {
        xml: ['ListBucketResult', {
          Name: bucket, Prefix: prefix, MaxKeys: limit, Delimiter: delimiter,
          ...(query['start-after'] !== undefined ? { StartAfter: query['start-after'] } : {}),
          ...(token !== undefined ? { ContinuationToken: token } : {}),
          IsTruncated: page.truncated,
          ...(page.truncated ? { NextContinuationToken: Buffer.from(page.last).toString('base64') } : {}),
          KeyCount: page.contents.length + page.prefixes.length,
          Contents: contentsOf(bucket, page.contents, query['fetch-owner'] === 'true'),
          CommonPrefixes: page.prefixes.map((p) => ({ Prefix: p })),
        }],
      };
    },
  };
}
