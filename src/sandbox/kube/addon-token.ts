// What ACK keeps in a managed cluster once a managed add-on role is authorized: Secret
// kube-system/addon.<role, lower case>.token whose `addon.token.config` is JSON with the role's STS credentials, each
// value AES-128-CBC encrypted with `keyring` (random IV prepended, PKCS#7 padding, base64) and `expiration` as
// 2006-01-02T15:04:05Z. Format as add-ons decode it (AliyunContainerService/alibabacloud-erdma-controller,
// internal/controller credential.go: EncryptedCredentialInfo and decrypt) and as the CSI driver's e2e scripts write it.
// ACK rotates the credentials before they expire; the emulator renews them when they are read within RENEW_MS of it.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { AccountState, KubeObject, SandboxCluster, StsCredential } from '../account.ts';
import { isoSeconds } from '../http.ts';
import { assumeRole } from '../iam/sts.ts';
import { MANAGED_BACKUP_ROLE_POLICY } from '../iam/system-policies.ts';
import { addObject, nextResourceVersion, objectKey } from './objects.ts';

export const MANAGED_BACKUP_ROLE = 'AliyunCSManagedBackupRestoreRole';
export const MANAGED_ROLE_TOKEN_SECRET = 'addon.aliyuncsmanagedbackuprestorerole.token';
const TOKEN_KEY = 'addon.token.config';
const RENEW_MS = 10 * 60_000;

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function encrypt(plain: string, keyring: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(keyring, 'utf8'), iv);
  return Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

function decrypt(encoded: string, keyring: string): string {
  const data = Buffer.from(encoded, 'base64');
  const decipher = createDecipheriv('aes-128-cbc', Buffer.from(keyring, 'utf8'), data.subarray(0, 16));
  return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString('utf8');
}

function tokenConfig(credential: StsCredential): string {
  const keyring = randomBytes(8).toString('hex');
  return JSON.stringify({
    'access.key.id': encrypt(credential.accessKeyId, keyring),
    'access.key.secret': encrypt(credential.secret, keyring),
    'security.token': encrypt(credential.securityToken, keyring),
    expiration: isoSeconds(new Date(credential.expiration)),
    keyring,
  });
}

/** The RAM quick authorization of AliyunCSManagedBackupRestoreRole: the role exists with its system policy. */
function ensureManagedRole(state: AccountState): void {
  const role = state.ram.roles.find((r) => r.name === MANAGED_BACKUP_ROLE);
  if (role) {
    role.policies = [...new Set([...(role.policies ?? []), MANAGED_BACKUP_ROLE_POLICY.name])];
    return;
  }
  state.ram.roles.push({
    name: MANAGED_BACKUP_ROLE,
    createDate: isoSeconds(),
    description: 'ACK managed clusters use this role to back up and restore applications.',
    policies: [MANAGED_BACKUP_ROLE_POLICY.name],
  });
}

function writeToken(state: AccountState, cluster: SandboxCluster): void {
  const credential = assumeRole(state, MANAGED_BACKUP_ROLE, `migrate-controller-${cluster.id}`);
  const data = { [TOKEN_KEY]: base64(tokenConfig(credential)) };
  const existing = cluster.objects[objectKey('v1', 'Secret', 'kube-system', MANAGED_ROLE_TOKEN_SECRET)];
  if (existing) {
    existing.data = data;
    existing.metadata.resourceVersion = nextResourceVersion(cluster);
    return;
  }
  addObject(cluster, { apiVersion: 'v1', kind: 'Secret', metadata: { name: MANAGED_ROLE_TOKEN_SECRET, namespace: 'kube-system' }, type: 'Opaque', data });
}

/** The account authorizes the role (once) and ACK writes its token into the managed cluster. Call inside account.change. */
export function authorizeManagedRole(state: AccountState, cluster: SandboxCluster): void {
  ensureManagedRole(state);
  writeToken(state, cluster);
}

export interface RoleCredentials { accessKeyId: string; accessKeySecret: string; securityToken: string }

/** The credentials in the cluster's role token Secret, as the add-on decodes them; null when there is none. */
export function readRoleToken(secret: KubeObject | undefined): (RoleCredentials & { expiration: string }) | null {
  const encoded = (secret?.data as Record<string, string> | undefined)?.[TOKEN_KEY];
  if (!encoded) return null;
  try {
    const config = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Record<string, string>;
    const keyring = config.keyring ?? '';
    return {
      accessKeyId: decrypt(config['access.key.id'] ?? '', keyring),
      accessKeySecret: decrypt(config['access.key.secret'] ?? '', keyring),
      securityToken: decrypt(config['security.token'] ?? '', keyring),
      expiration: config.expiration ?? '',
    };
  } catch {
    return null;
  }
}

/**
 * ACK's rotation: a token Secret whose credentials expire soon (or that an older sandbox wrote as a placeholder) gets
 * fresh ones. A cluster without the Secret stays unauthorized. Call inside account.change.
 */
export function renewRoleToken(state: AccountState, cluster: SandboxCluster, now = Date.now()): void {
  const secret = cluster.objects[objectKey('v1', 'Secret', 'kube-system', MANAGED_ROLE_TOKEN_SECRET)];
  const current = readRoleToken(secret);
  if (!secret || (current && Date.parse(current.expiration) - now > RENEW_MS)) return;
  authorizeManagedRole(state, cluster);
}
