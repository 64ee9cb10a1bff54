// Verification of the OSS request signatures ali-oss produces: V1 (`OSS <id>:<sig>`, HMAC-SHA1) and
// V4 (`OSS4-HMAC-SHA256`), recomputed from what came over the wire (lib/common/signUtils.js).
import type { IncomingMessage } from 'node:http';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { CallerKey, KeyLookup } from './acs3.ts';

export interface OssRequestTarget { bucket: string; object: string; query: Record<string, string> }
export interface OssAuthError { status: number; code: string; message: string; extra: Record<string, string> }
export type OssAuthResult = { ok: true; caller: CallerKey } | { ok: false; error: OssAuthError };

const MAX_SKEW_MS = 15 * 60 * 1000;
const V4 = /^OSS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/oss\/aliyun_v4_request,(?:AdditionalHeaders=([^,]+),)?Signature=([0-9a-f]{64})$/;
const V1 = /^OSS ([^:]+):(.+)$/;
/** The query parameters V1 signs in the canonicalized resource. */
const SUB_RESOURCES = new Set([
  'acl', 'append', 'bucketInfo', 'callback', 'callback-var', 'cname', 'comp', 'continuation-token', 'cors', 'delete', 'encryption', 'endTime',
  'img', 'inventory', 'lifecycle', 'live', 'location', 'logging', 'objectMeta', 'partNumber', 'policy', 'position', 'qos',
  'referer', 'replication', 'replicationLocation', 'replicationProgress', 'requestPayment', 'resourceGroup', 'restore',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires', 'security-token', 'startTime', 'stat', 'status', 'style', 'styleName',
  'symlink', 'tagging', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'vod', 'website', 'worm', 'wormId',
  'x-oss-process',
]);

const fail = (status: number, code: string, message: string, extra: Record<string, string> = {}): OssAuthResult => ({
  ok: false,
  error: { status, code, message, extra },
});

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return (Array.isArray(value) ? value.join(',') : value) ?? '';
}

function ossHeaderLines(req: IncomingMessage): string[] {
  return Object.keys(req.headers)
    .filter((h) => h.startsWith('x-oss-'))
    .sort()
    .map((h) => `${h}:${header(req, h).trim()}`);
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function encodeString(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function keyProblem(caller: CallerKey | undefined, accessKeyId: string): OssAuthResult | null {
  if (!caller) return fail(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', { OSSAccessKeyId: accessKeyId });
  if (!caller.active) return fail(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided is disabled.', { OSSAccessKeyId: accessKeyId });
  return null;
}

/**
 * Temporary credentials need their security token (ali-oss sends it as x-oss-security-token, which is signed) and
 * must not have expired. Codes from OSS's 403 reference (https://www.alibabacloud.com/help/en/oss/how-to-troubleshoot-403-status-code-when-you-access-oss):
 * InvalidSecurityToken, AccessKeyIdAndSecurityTokenNotMatch; the expired case's exact message is not documented there.
 */
function tokenProblem(caller: CallerKey, req: IncomingMessage, now: number): OssAuthResult | null {
  const token = header(req, 'x-oss-security-token');
  if (!caller.role) return token ? fail(403, 'AccessKeyIdAndSecurityTokenNotMatch', 'The OSS access key id and security token you provided does not match.') : null;
  if (!token) return fail(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', { OSSAccessKeyId: caller.id });
  if (token !== caller.role.securityToken) return fail(403, 'InvalidSecurityToken', 'The security token you provided is invalid.');
  if (Date.parse(caller.role.expiration) <= now) return fail(403, 'InvalidSecurityToken', 'The security token you provided has expired.');
  return null;
}

function skewProblem(requestTime: number, now: number): OssAuthResult | null {
  if (Number.isNaN(requestTime)) return fail(403, 'AccessDenied', 'The request date is missing or not well formatted.');
  if (Math.abs(now - requestTime) > MAX_SKEW_MS) {
    return fail(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  }
  return null;
}

function verifyV1(req: IncomingMessage, target: OssRequestTarget, accessKeyId: string, provided: string, lookup: KeyLookup, now: number): OssAuthResult {
  const date = header(req, 'x-oss-date') || header(req, 'date');
  const skew = skewProblem(Date.parse(date), now);
  if (skew) return skew;
  const caller = lookup(accessKeyId);
  const problem = keyProblem(caller, accessKeyId) ?? (caller ? tokenProblem(caller, req, now) : null);
  if (problem || !caller) return problem as OssAuthResult;
  const subResources = Object.keys(target.query)
    .filter((k) => SUB_RESOURCES.has(k))
    .sort()
    .map((k) => (target.query[k] ? `${k}=${target.query[k]}` : k));
  const resource = `/${target.bucket ? `${target.bucket}/` : ''}${target.object}${subResources.length ? `?${subResources.join('&')}` : ''}`;
  const stringToSign = [req.method, header(req, 'content-md5'), header(req, 'content-type'), date, ...ossHeaderLines(req), resource].join('\n');
  const expected = createHmac('sha1', caller.secret).update(stringToSign, 'utf8').digest();
  if (!sameBytes(Buffer.from(provided, 'base64'), expected)) {
    return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      StringToSign: stringToSign,
      SignatureProvided: provided,
      OSSAccessKeyId: accessKeyId,
    });
  }
  return { ok: true, caller };
}

function verifyV4(req: IncomingMessage, target: OssRequestTarget, parts: string[], lookup: KeyLookup, now: number): OssAuthResult {
  const [, accessKeyId, day, region, additional, provided] = parts as [string, string, string, string, string | undefined, string];
  const date = header(req, 'x-oss-date');
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!match || !date.startsWith(day)) return fail(403, 'AccessDenied', 'The x-oss-date header is missing or does not match the credential scope date.');
  const [, y, mo, d, h, mi, s] = match;
  const skew = skewProblem(Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`), now);
  if (skew) return skew;
  const caller = lookup(accessKeyId);
  const problem = keyProblem(caller, accessKeyId) ?? (caller ? tokenProblem(caller, req, now) : null);
  if (problem || !caller) return problem as OssAuthResult;

  const additionalHeaders = additional ? additional.split(';') : [];
  const canonicalUri = encodeString(`/${target.bucket ? `${target.bucket}/` : ''}${target.object}`).replace(/%2F/g, '/');
  const canonicalQuery = Object.keys(target.query)
    .sort((a, b) => a.localeCompare(b))
    .map((k) => (target.query[k] ? `${encodeString(k)}=${encodeString(target.query[k] as string)}` : encodeString(k)))
    .join('&');
  const signedHeaders = new Set(additionalHeaders);
  for (const h of Object.keys(req.headers)) if (h === 'content-type' || h === 'content-md5' || h.startsWith('x-oss-')) signedHeaders.add(h);
  const canonicalHeaders = [...signedHeaders].sort().map((h) => `${h}:${header(req, h).trim()}\n`).join('');
  const canonicalRequest = [
    req.method, canonicalUri, canonicalQuery, canonicalHeaders, additionalHeaders.join(';'), header(req, 'x-oss-content-sha256') || 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${day}/${region}/oss/aliyun_v4_request`;
  const stringToSign = ['OSS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let key = createHmac('sha256', `aliyun_v4${caller.secret}`).update(day).digest();
  for (const part of [region, 'oss', 'aliyun_v4_request']) key = createHmac('sha256', key).update(part).digest();
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  if (!sameBytes(Buffer.from(provided, 'hex'), expected)) {
    return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      CanonicalRequest: canonicalRequest,
      StringToSign: stringToSign,
      SignatureProvided: provided,
      OSSAccessKeyId: accessKeyId,
    });
  }
  return { ok: true, caller };
}

export function verifyOssSignature(req: IncomingMessage, target: OssRequestTarget, lookup: KeyLookup, now = Date.now()): OssAuthResult {
  const authorization = header(req, 'authorization');
  if (!authorization) return fail(403, 'AccessDenied', 'AccessDenied: Anonymous access is forbidden for this operation.');
  const v4 = V4.exec(authorization);
  if (v4) return verifyV4(req, target, v4, lookup, now);
  const v1 = V1.exec(authorization);
  if (v1) return verifyV1(req, target, v1[1] as string, v1[2] as string, lookup, now);
  return fail(400, 'InvalidArgument', 'Authorization header is invalid.');
}
