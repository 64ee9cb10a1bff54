// What a kubeconfig for a sandbox cluster carries: the emulator's address and CA, and the cluster's
// admin service-account token. The emulator serves TLS because kubectl (client-go) sends no credentials
// to an http:// server; each emulator makes its own self-signed certificate for 127.0.0.1 at start.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { SandboxCluster } from '../account.ts';
import { ADMIN_TOKEN_SECRET, adminTokenOf } from './objects.ts';

/** The CA (PEM) of every running emulator, by its base URL, for kubeconfigs to trust. */
/** Where the Kubernetes emulator listens, and the certificate clients must trust to reach it. */
export interface KubeServerAddress {
  url: string;
  certificatePem: string;
}

/** Every cluster is served under `<server url>/clusters/<id>`. */
export function kubeconfigFor(cluster: SandboxCluster, server: KubeServerAddress): string {
  const token = adminTokenOf(cluster);
  if (!token) throw new Error(`cluster ${cluster.id} has no admin token Secret kube-system/${ADMIN_TOKEN_SECRET}`);
  const { url, certificatePem: authority } = server;
  // JSON strings are valid YAML scalars, so every value is quoted safely.
  const q = JSON.stringify;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${q(Buffer.from(authority).toString('base64'))}`,
    `    server: ${q(`${url}/clusters/${cluster.id}`)}`,
    `  name: ${q(cluster.id)}`,
    'contexts:',
    '- context:',
    `    cluster: ${q(cluster.id)}`,
    `    user: ${q(cluster.id)}`,
    `  name: ${q(cluster.id)}`,
    `current-context: ${q(cluster.id)}`,
    'preferences: {}',
    'users:',
    `- name: ${q(cluster.id)}`,
    '  user:',
    `    token: ${q(token)}`,
    '',
  ].join('\n');
}

// ---- a self-signed serving certificate, DER-encoded by hand (node:crypto signs but builds no certificates) ----

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : (() => {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    return Buffer.from([0x80 | bytes.length, ...bytes]);
  })();
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const value of rest) {
    const chunk = [value & 0x7f];
    for (let v = value >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}
/** A random positive serial number whose first byte is 0x01–0x7f: DER forbids a leading zero byte and a high bit would make it negative. */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return tlv(0x02, bytes);
}
const utcTime = (date: Date) => tlv(0x17, Buffer.from(date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
const name = (commonName: string) => seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName)))));
const extension = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));

/** An ECDSA P-256 certificate for 127.0.0.1 and localhost that is its own CA, valid for a year. */
export function selfSignedCertificate(): { certificatePem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const now = Date.now();
  const subject = name('sandbox-kube-apiserver');
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    serialNumber(),
    ecdsaWithSha256,
    subject,
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 365 * 24 * 3600_000))),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(
      extension('2.5.29.19', true, seq(tlv(0x01, Buffer.from([0xff])))),
      // digitalSignature and keyCertSign
      extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x02, 0x84]))),
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
      extension('2.5.29.17', false, seq(tlv(0x87, Buffer.from([127, 0, 0, 1])), tlv(0x82, Buffer.from('localhost')))),
    )),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return {
    certificatePem: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
