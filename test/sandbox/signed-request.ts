// Sends one RAM call signed by openapi-core's own signer, so a test can replay or alter it on the wire.
import { request } from 'node:http';
import { stringify } from 'node:querystring';
import { OpenApiUtil } from '@alicloud/openapi-core';
import type { Keys } from './clients.ts';

export interface SignedCall { headers: Record<string, string>; query: Record<string, string> }

export function signRamCall(endpoint: string, keys: Keys, action: string, query: Record<string, string>, date = OpenApiUtil.getTimestamp()): SignedCall {
  const headers: Record<string, string> = {
    host: endpoint,
    'x-acs-version': '2015-05-01',
    'x-acs-action': action,
    'x-acs-date': date,
    'x-acs-signature-nonce': OpenApiUtil.getNonce(),
    'x-acs-content-sha256': OpenApiUtil.hash(Buffer.from(''), 'ACS3-HMAC-SHA256').toString('hex'),
    accept: 'application/json',
  };
  const signed = { method: 'POST', pathname: '/', query, headers } as unknown as Parameters<typeof OpenApiUtil.getAuthorization>[0];
  headers.authorization = OpenApiUtil.getAuthorization(signed, 'ACS3-HMAC-SHA256', headers['x-acs-content-sha256']!, keys.accessKeyId, keys.accessKeySecret);
  return { headers, query };
}

export function send(endpoint: string, call: SignedCall): Promise<{ status: number; body: Record<string, unknown> }> {
  const [host, port] = endpoint.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method: 'POST', path: `/?${stringify(call.query)}`, headers: call.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}
