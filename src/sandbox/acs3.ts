// Verification of the ACS3-HMAC-SHA256 signature that @alicloud/openapi-core puts on RAM (RPC) and
// CS (ROA) requests (utils.getAuthorization): the emulators recompute it from what came over the wire.
import type { IncomingMessage } from 'node:http';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';

export interface CallerKey {
  id: string;
  secret: string;
  active: boolean;
  /** The RAM user the key belongs to; null for the account's own key and for temporary credentials. */
  user: string | null;
  /** Temporary credentials of an assumed role: the token every request must carry, and when it expires. */
  role?: { name: string; sessionName: string; securityToken: string; expiration: string };
}
export type KeyLookup = (accessKeyId: string) => CallerKey | undefined;
export interface ServiceError { status: number; code: string; message: string }
export type Acs3Result = { ok: true; caller: CallerKey; query: Record<string, string> } | { ok: false; error: ServiceError };

const ALGORITHM = 'ACS3-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;
const AUTHORIZATION = /^(\S+) Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$/;

/** Nonces already seen by one emulator; a replayed request is refused as the gateway refuses it. */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  has(nonce: string): boolean {
    return this.seen.has(nonce);
  }
  add(nonce: string, now: number): void {
    this.seen.set(nonce, now);
    for (const [n, at] of this.seen) {
      if (now - at <= MAX_SKEW_MS) break;
      this.seen.delete(n);
    }
  }
}

/** encodeURIComponent plus ! ' ( ) *, as openapi-core's encode(). */
export function acsEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function splitUrl(url: string): { path: string; query: Record<string, string> } {
  const at = url.indexOf('?');
  const raw = at < 0 ? '' : url.slice(at + 1);
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(parseQuery(raw))) {
    query[key] = Array.isArray(value) ? (value.at(-1) ?? '') : (value ?? '');
  }
  return { path: at < 0 ? url : url.slice(0, at), query };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

const fail = (status: number, code: string, message: string): Acs3Result => ({ ok: false, error: { status, code, message } });

export function verifyAcs3(req: IncomingMessage, body: Buffer, lookup: KeyLookup, nonces: NonceCache, now = Date.now()): Acs3Result {
  const { path, query } = splitUrl(req.url ?? '/');
  const authorization = header(req, 'authorization');
  if (!authorization) return fail(400, 'MissingAuthorization', 'Authorization header is mandatory for this action.');
  const parts = AUTHORIZATION.exec(authorization);
  if (!parts) return fail(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
  const [, algorithm, accessKeyId, signedHeaderList, signature] = parts as unknown as [string, string, string, string, string];
  if (algorithm !== ALGORITHM) {
    return fail(400, 'InvalidSignatureMethod', `The signature algorithm ${algorithm} is not supported; use ${ALGORITHM}.`);
  }
  for (const required of ['x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256', 'x-acs-version']) {
    if (!header(req, required)) return fail(400, 'IncompleteSignature', `The request is missing the ${required} header.`);
  }
  const date = header(req, 'x-acs-date') as string;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(date) || Number.isNaN(Date.parse(date))) {
    return fail(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
  }
  if (Math.abs(now - Date.parse(date)) > MAX_SKEW_MS) {
    return fail(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
  }
  const nonce = header(req, 'x-acs-signature-nonce') as string;
  if (nonces.has(nonce)) return fail(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');

  const caller = lookup(accessKeyId);
  if (!caller) return fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  if (!caller.active) return fail(400, 'InvalidAccessKeyId.Inactive', 'Specified access key is disabled.');
  const tokenProblem = securityTokenProblem(caller, header(req, 'x-acs-security-token'), now);
  if (tokenProblem) return { ok: false, error: tokenProblem };

  const payloadHash = createHash('sha256').update(body).digest('hex');
  if (header(req, 'x-acs-content-sha256') !== payloadHash) {
    return fail(400, 'SignatureDoesNotMatch', 'The x-acs-content-sha256 header does not match the request body.');
  }
  const signedHeaders = signedHeaderList.split(';');
  const mustSign = ['host', ...Object.keys(req.headers).filter((h) => h.startsWith('x-acs-'))];
  const unsigned = mustSign.find((h) => !signedHeaders.includes(h));
  if (unsigned) return fail(400, 'SignatureDoesNotMatch', `The header ${unsigned} must be signed.`);

  const canonicalUri = path.replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((key) => `${key}=${acsEncode(query[key] as string)}`)
    .join('&');
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${(header(req, h) ?? '').trim()}\n`).join('');
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), payloadHash].join('\n');
  const stringToSign = `${ALGORITHM}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const expected = createHmac('sha256', caller.secret).update(stringToSign).digest();
  const provided = Buffer.from(signature, 'hex');
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
    return fail(
      400,
      'SignatureDoesNotMatch',
      `Specified signature does not match our calculation. server string to sign is:${stringToSign}`,
    );
  }
  nonces.add(nonce, now);
  return { ok: true, caller, query };
}

/**
 * Temporary credentials are accepted only with their own security token (openapi-core sends it as
 * x-acs-security-token, a signed x-acs-* header) and before they expire. Codes as the API gateway answers
 * them (recalled, not found in a stored source: InvalidSecurityToken.*).
 */
export function securityTokenProblem(caller: CallerKey, token: string | undefined, now: number): ServiceError | null {
  if (!caller.role) return token ? { status: 400, code: 'InvalidSecurityToken.MismatchWithAccessKey', message: 'Specified SecurityToken mismatch with the AccessKey.' } : null;
  if (!token) return { status: 400, code: 'InvalidSecurityToken.Malformed', message: 'Specified SecurityToken is malformed or missing.' };
  if (token !== caller.role.securityToken) return { status: 400, code: 'InvalidSecurityToken.MismatchWithAccessKey', message: 'Specified SecurityToken mismatch with the AccessKey.' };
  if (Date.parse(caller.role.expiration) <= now) return { status: 400, code: 'InvalidSecurityToken.Expired', message: 'Specified SecurityToken is expired.' };
  return null;
}
