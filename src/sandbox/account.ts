// The emulated Alibaba Cloud account shared by the RAM, CS, OSS and Kubernetes emulators.
// It is written to STATE_DIR on every change (write + fsync + rename), so a restart, even after
// kill -9, finds the same buckets, users, keys and clusters.
import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface RamUser { name: string; id: string; createDate: string; displayName?: string; comments?: string; updateDate?: string }
export interface RamPolicyVersion { id: string; document: string; createDate: string }
export interface RamPolicy {
  name: string;
  type: 'Custom';
  description: string;
  defaultVersion: string;
  versions: RamPolicyVersion[];
  /** Next version number to hand out ("v<n>"); versions are never renumbered. */
  nextVersion: number;
  createDate: string;
  updateDate: string;
}
export interface RamAttachment { user: string; policy: string; policyType: 'Custom' | 'System'; attachDate: string }
export interface RamAccessKey { id: string; secret: string; user: string; status: 'Active' | 'Inactive'; createDate: string }
export interface RamRole {
  name: string;
  createDate: string;
  id?: string;
  description?: string;
  assumeRolePolicyDocument?: string;
  /** System policies attached to the role (see iam/system-policies.ts). */
  policies?: string[];
}
/** Temporary credentials of an assumed role (STS AssumeRole), what an ACK add-on token carries. */
export interface StsCredential {
  accessKeyId: string;
  secret: string;
  securityToken: string;
  roleName: string;
  sessionName: string;
  /** ISO 8601, seconds precision. */
  expiration: string;
}

export interface OssBucket { name: string; region: string; createdAt: string; storageClass: string; acl: string; dataRedundancyType?: string }
export interface OssObject { size: number; etag: string; lastModified: string; contentType: string; storageClass: string; data: string }

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface AddonInstance { name: string; version: string; state: 'active' | 'updating' | 'upgrading' | 'deleting' }

export interface CsTask {
  taskId: string;
  clusterId: string;
  taskType: string;
  state: 'running' | 'success' | 'fail';
  created: string;
  updated: string;
  /** Polls left before the task finishes; the emulator counts them down (asynchronous install). */
  pollsLeft: number;
  /** What to do when it finishes. */
  addon: { name: string; version: string; action: 'install' | 'upgrade' };
  /** Every add-on of the task when one call named several (`addon` is then the first). */
  addons?: { name: string; version: string; action: 'install' | 'upgrade' }[];
  error?: { code: string; message: string };
}

export interface SandboxCluster {
  id: string;
  name: string;
  /** CS cluster_type */
  type: 'ManagedKubernetes' | 'Kubernetes' | 'ExternalKubernetes';
  profile: string;
  spec: string;
  region: string;
  version: string;
  state: string;
  vpcId: string;
  created: string;
  addons: AddonInstance[];
  /** false: the API server has only an internal (VPC) endpoint; absent means it also has a public one. */
  apiServerPublic?: boolean;
  /** Every Kubernetes object of the cluster, keyed by "<apiVersion>|<kind>|<namespace>|<name>". */
  objects: Record<string, KubeObject>;
  resourceVersion: number;
}

export interface AccountState {
  accountId: string;
  /** The account's own AccessKey, used by the bot in sandbox mode. */
  rootKey: { id: string; secret: string };
  ram: {
    users: RamUser[];
    policies: RamPolicy[];
    attachments: RamAttachment[];
    accessKeys: RamAccessKey[];
    roles: RamRole[];
  };
  oss: {
    buckets: OssBucket[];
    /** Bucket names other Alibaba Cloud accounts hold (the bucket namespace is global): PutBucket answers 409. */
    foreignBuckets?: string[];
    /** Objects by bucket, then key; `data` is base64. Absent in accounts saved before objects were modelled. */
    objects?: Record<string, Record<string, OssObject>>;
  };
  /**
   * Services that are not activated (src/sandbox/services.ts); absent means every one is on, as in accounts saved before
   * they were modelled. Cloud Backup and OSS are activated per account, the ECS snapshot service per region.
   */
  services?: { cloudBackupOff?: boolean; ossOff?: boolean; snapshotOffRegions?: string[] };
  /** Live temporary credentials (assumed roles). */
  sts?: StsCredential[];
  clusters: Record<string, SandboxCluster>;
  /** Names of backup vaults (BackupLocations) deleted from any cluster of the account: they cannot be reused. */
  deletedBackupVaults?: string[];
  tasks: Record<string, CsTask>;
  /** The latest migrate-controller version CS offers. */
  latestAddonVersions: Record<string, string>;
}

/** `GET /sandbox/state`: the emulated resources, never a secret. Shape fixed by DESIGN.md. */
export interface PublicState {
  ram: {
    users: string[];
    /** `document`: the default version's document, parsed. */
    policies: { name: string; versions: string[]; defaultVersion: string; document: unknown }[];
    attachments: { user: string; policy: string }[];
    accessKeys: { id: string; user: string }[];
  };
  oss: { buckets: { name: string; region: string; objects: number }[] };
  clusters: Record<
    string,
    {
      type: string;
      region: string;
      version: string;
      addons: { name: string; version: string }[];
      namespaces: string[];
      secrets: string[];
      backupVaults: string[];
    }
  >;
}

export function newAccessKeyId(): string {
  // Real ids are "LTAI" + 20 alphanumerics; keep the shape so scanners and UIs behave the same.
  return 'LTAI' + randomAlnum(20);
}

export function newAccessKeySecret(): string {
  return randomAlnum(30);
}

function randomAlnum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

export class SandboxAccount {
  readonly file: string | null;
  state: AccountState;
  private readonly listeners = new Set<() => void>();

  /** With a directory the account persists there (loading what is already there); without, in memory only. */
  constructor(stateDir: string | null, seed: () => AccountState) {
    this.file = stateDir ? join(stateDir, 'sandbox-account.json') : null;
    if (this.file && existsSync(this.file)) {
      this.state = JSON.parse(readFileSync(this.file, 'utf8')) as AccountState;
    } else {
      this.state = seed();
      this.save();
    }
  }

  /** Applies a change and writes it through before returning, so a reply is never ahead of the disk. */
  change<T>(mutate: (state: AccountState) => T): T {
    const result = mutate(this.state);
    this.save();
    for (const listener of this.listeners) listener();
    return result;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(this.state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
