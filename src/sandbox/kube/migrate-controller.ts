// The emulated backup component (migrate-controller with csdr-controller and csdr-velero) of every cluster where the
// add-on is installed: it runs ApplicationBackup and DeleteRequest tasks, talking to the OSS emulator over HTTP with the
// credentials the real component uses, so RAM's policy evaluation decides what it may write.
//
// Credentials (the seed's "ACK dedicated" and "Register a cluster" steps; the backup-center FAQ):
// - dedicated: Secret csdr/alibaba-addon-secret (access-key-id, access-key-secret);
// - registered: the same Secret, read in kube-system first (where onectl keeps it), then csdr;
// - managed (also Serverless Pro, Edge): that Secret when the cluster has one (the FAQ's "configure OSS permissions as for
//   dedicated clusters" for a bucket outside cnfs-oss-*), else AliyunCSManagedBackupRestoreRole's token in kube-system.
//   Which one wins when both exist is not documented: the Secret (a guess).
// The AccessKey Secret is read when the component starts (the seed: "restart migrate-controller if you create the Secret
// after installing it"); the role token is read at every use (ACK rotates it).
//
// What a backup does, in Velero's order (vmware-tanzu/velero pkg/persistence/object_store.go with the Alibaba Cloud plugin,
// AliyunContainerService/velero-plugin velero-plugin-for-alibabacloud/object_store.go): validate the vault (ListObjects of the
// prefix with delimiter "/", IsValid), check that the backup is not already there (HEAD ?objectMeta of velero-backup.json,
// BackupExists), upload the files (velero-files.ts). Failures carry the FAQ's messages ("VaultError: backup vault is
// unavailable: …", "check backup files in OSS bucket failed", "upload backup files to OSS bucket failed", "backup already
// exists in OSS bucket") followed by the OSS Go SDK's error text (aliyun-oss-go-sdk oss/error.go ServiceError.Error()).
import OSS from 'ali-oss';
import type { KubeObject, SandboxAccount, SandboxCluster } from '../account.ts';
import { isoSeconds } from '../http.ts';
import { MANAGED_ROLE_TOKEN_SECRET, readRoleToken, renewRoleToken } from './addon-token.ts';
import { nextResourceVersion, objectKey } from './objects.ts';
import { backupDir, metadataKey, veleroFiles } from './velero-files.ts';

const NAMESPACE = 'csdr';
const SECRET = 'alibaba-addon-secret';
const GROUP_VERSION = 'csdr.alibabacloud.com/v1beta1';
const DEFAULT_TTL = '720h0m0s';

interface Credentials { accessKeyId: string; accessKeySecret: string; securityToken?: string; source: string }

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class TaskError extends Error {}

/** An SDK error in the words of the component's Go SDK; never a credential. */
function ossErrorText(error: unknown): string {
  const e = error as { status?: number; code?: string; message?: string; requestId?: string; ecCode?: string };
  if (e.code && e.status && e.status > 0) {
    return `oss: service returned error: StatusCode=${e.status}, ErrorCode=${e.code}, ErrorMessage="${e.message ?? ''}", RequestId=${e.requestId ?? ''}${e.ecCode ? `, Ec=${e.ecCode}` : ''}`;
  }
  return e.message ?? String(error);
}

function secretKeys(cluster: SandboxCluster, namespace: string): Credentials | null {
  const secret = cluster.objects[objectKey('v1', 'Secret', namespace, SECRET)];
  const data = (secret?.data ?? {}) as Record<string, string>;
  const decode = (k: string) => (data[k] ? Buffer.from(data[k], 'base64').toString('utf8') : '');
  const id = decode('access-key-id');
  const key = decode('access-key-secret');
  return id && key ? { accessKeyId: id, accessKeySecret: key, source: `Secret ${namespace}/${SECRET}` } : null;
}

/** The AccessKey the component read when it started, by cluster type. */
function startupSecret(cluster: SandboxCluster): Credentials | null {
  if (cluster.type === 'ExternalKubernetes') return secretKeys(cluster, 'kube-system') ?? secretKeys(cluster, NAMESPACE);
  return secretKeys(cluster, NAMESPACE);
}

function deploymentOf(cluster: SandboxCluster): KubeObject | undefined {
  return cluster.objects[objectKey('apps/v1', 'Deployment', 'kube-system', 'migrate-controller')];
}

/** The component runs where the add-on is installed and its Deployment has a ready replica. */
function running(cluster: SandboxCluster): boolean {
  const ready = (deploymentOf(cluster)?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;
  return cluster.addons.some((a) => a.name === 'migrate-controller' && a.state === 'active') && ready >= 1;
}

const tasks = (cluster: SandboxCluster, kind: string) =>
  Object.values(cluster.objects).filter((o) => o.apiVersion === GROUP_VERSION && o.kind === kind && o.metadata.namespace === NAMESPACE);

const phaseOf = (o: KubeObject) => (isMap(o.status) ? o.status.phase : undefined) as string | undefined;

export interface MigrateControllers { stop(): Promise<void> }

export function startMigrateControllers({ account, ossEndpoint }: { account: SandboxAccount; ossEndpoint: string }): MigrateControllers {
  /** Per cluster: the Deployment's pod template the component started with, and the AccessKey it read then. */
  const started = new Map<string, { template: string; secret: Credentials | null }>();
  let stopped = false;

  const setStatus = (clusterId: string, kind: string, name: string, status: Json) =>
    account.change((s) => {
      const object = s.clusters[clusterId]?.objects[objectKey(GROUP_VERSION, kind, NAMESPACE, name)];
      if (!object) return;
      object.status = { ...(isMap(object.status) ? object.status : {}), ...status };
      object.metadata.resourceVersion = nextResourceVersion(s.clusters[clusterId]!);
    });

  /** A (re)started component: remember what it read; tasks it was running when it stopped have failed. */
  const observeStarts = () => {
    for (const cluster of Object.values(account.state.clusters)) {
      if (!running(cluster)) continue;
      const template = JSON.stringify((deploymentOf(cluster)?.spec as Json | undefined)?.template ?? null);
      if (started.get(cluster.id)?.template === template) continue;
      started.set(cluster.id, { template, secret: startupSecret(cluster) });
      for (const backup of tasks(cluster, 'ApplicationBackup').filter((b) => phaseOf(b) === 'InProgress')) {
        setStatus(cluster.id, 'ApplicationBackup', backup.metadata.name, {
          phase: 'Failed', message: 'BackupError: the backup component restarted while the backup was in progress', completionTimestamp: isoSeconds(),
        });
      }
    }
  };

  const credentialsFor = (clusterId: string): Credentials => {
    const cluster = account.state.clusters[clusterId]!;
    const secret = started.get(clusterId)?.secret ?? null;
    if (secret) return secret;
    if (cluster.type === 'ManagedKubernetes') {
      account.change((s) => renewRoleToken(s, s.clusters[clusterId]!));
      const token = readRoleToken(account.state.clusters[clusterId]!.objects[objectKey('v1', 'Secret', 'kube-system', MANAGED_ROLE_TOKEN_SECRET)]);
      if (token) return { ...token, source: 'AliyunCSManagedBackupRestoreRole' };
      throw new TaskError(`no credentials: Secret kube-system/${MANAGED_ROLE_TOKEN_SECRET} is missing (authorize AliyunCSManagedBackupRestoreRole) and there is no Secret ${NAMESPACE}/${SECRET}`);
    }
    const where = cluster.type === 'ExternalKubernetes' ? `kube-system/${SECRET} or ${NAMESPACE}/${SECRET}` : `${NAMESPACE}/${SECRET}`;
    throw new TaskError(`no credentials: the component found no Secret ${where} with access-key-id and access-key-secret when it started`);
  };

  const vaultOf = (cluster: SandboxCluster, name: string) => {
    const location = cluster.objects[objectKey(GROUP_VERSION, 'BackupLocation', NAMESPACE, name)];
    if (!location) throw new TaskError(`VaultError: backup vault ${name} does not exist`);
    const spec = (isMap(location.spec) ? location.spec : {}) as { objectStorage?: { bucket?: string; prefix?: string }; config?: { region?: string } };
    const bucket = spec.objectStorage?.bucket;
    const region = spec.config?.region;
    if (!bucket || !region) throw new TaskError(`VaultError: backup vault ${name} has no objectStorage.bucket or config.region`);
    return { name, bucket, prefix: spec.objectStorage?.prefix ?? '', region };
  };

  const clientFor = (credentials: Credentials, region: string, bucket: string): OSS => {
    const options = {
      endpoint: ossEndpoint, region: `oss-${region}`, bucket, sldEnable: true, retryMax: 0,
      accessKeyId: credentials.accessKeyId, accessKeySecret: credentials.accessKeySecret,
      // The component renews the role's STS token from the token Secret; each task reads it afresh, so this returns the same.
      ...(credentials.securityToken
        ? { stsToken: credentials.securityToken, refreshSTSToken: async () => ({ ...credentials, stsToken: credentials.securityToken }) }
        : {}),
    };
    return new OSS(options as OSS.Options);
  };

  /** Velero's BackupStorageLocation validation (IsValid), recorded on the BackupLocation as the console shows it. */
  const validateVault = async (clusterId: string, oss: OSS, vault: { name: string; prefix: string }) => {
    const root = vault.prefix.replace(/^\/+|\/+$/g, '');
    try {
      await oss.list({ prefix: root ? `${root}/` : '', delimiter: '/', 'max-keys': 50 }, {});
    } catch (error) {
      const message = `VaultError: backup vault is unavailable: ${ossErrorText(error)}`;
      setStatus(clusterId, 'BackupLocation', vault.name, { phase: 'Unavailable', message, lastValidationTime: isoSeconds() });
      throw new TaskError(message);
    }
    setStatus(clusterId, 'BackupLocation', vault.name, { phase: 'Available', message: '', lastValidationTime: isoSeconds() });
  };

  const runBackup = async (clusterId: string, backup: KubeObject) => {
    const name = backup.metadata.name;
    const startedAt = isoSeconds();
    setStatus(clusterId, 'ApplicationBackup', name, { phase: 'InProgress', startTimestamp: startedAt, message: '' });
    const log = [`time="${startedAt}" level=info msg="Setting up backup" backup=${NAMESPACE}/${name}`];
    try {
      const cluster = account.state.clusters[clusterId]!;
      const spec = (isMap(backup.spec) ? backup.spec : {}) as { includedNamespaces?: unknown; storageLocation?: unknown; ttl?: unknown };
      if (typeof spec.storageLocation !== 'string' || !spec.storageLocation) throw new TaskError('spec.storageLocation is required');
      const namespaces = Array.isArray(spec.includedNamespaces) ? spec.includedNamespaces.filter((n): n is string => typeof n === 'string') : [];
      if (namespaces.length === 0) throw new TaskError('spec.includedNamespaces is required');
      const missing = namespaces.find((n) => !cluster.objects[objectKey('v1', 'Namespace', '', n)]);
      if (missing) throw new TaskError(`get target namespace failed: namespaces "${missing}" not found`);
      const vault = vaultOf(cluster, spec.storageLocation);
      const oss = clientFor(credentialsFor(clusterId), vault.region, vault.bucket);
      await validateVault(clusterId, oss, vault);
      try {
        // @types/ali-oss lacks getObjectMeta (HEAD ?objectMeta), which ali-oss 6.23.0 has: what IsObjectExist sends.
        await (oss as unknown as { getObjectMeta(name: string): Promise<unknown> }).getObjectMeta(metadataKey(vault.prefix, name));
        throw new TaskError(`backup already exists in OSS bucket ${vault.bucket}`);
      } catch (error) {
        if (error instanceof TaskError) throw error;
        if ((error as { status?: number }).status !== 404) throw new TaskError(`check backup files in OSS bucket failed: ${ossErrorText(error)}`);
      }
      const items = Object.values(account.state.clusters[clusterId]!.objects).filter((o) =>
        (o.kind === 'Namespace' && namespaces.includes(o.metadata.name)) || (o.metadata.namespace !== undefined && namespaces.includes(o.metadata.namespace)));
      log.push(`time="${isoSeconds()}" level=info msg="Backed up a total of ${items.length} items" backup=${NAMESPACE}/${name}`);
      const files = veleroFiles(vault.prefix, {
        name, namespace: NAMESPACE, items, startedAt, completedAt: isoSeconds(), log,
        spec: { includedNamespaces: namespaces, storageLocation: vault.name, ttl: typeof spec.ttl === 'string' ? spec.ttl : DEFAULT_TTL },
      });
      for (const file of files) {
        try {
          await oss.put(file.key, file.body);
        } catch (error) {
          if (file.bestEffort) continue;
          for (const written of files.slice(1, 3)) await oss.delete(written.key).catch(() => undefined);
          throw new TaskError(`upload backup files to OSS bucket failed: ${ossErrorText(error)}`);
        }
      }
      setStatus(clusterId, 'ApplicationBackup', name, {
        phase: 'Completed', completionTimestamp: isoSeconds(), message: '',
        progress: { totalItems: items.length, itemsBackedUp: items.length },
      });
    } catch (error) {
      if (!(error instanceof TaskError)) throw error;
      setStatus(clusterId, 'ApplicationBackup', name, { phase: 'Failed', message: error.message, completionTimestamp: isoSeconds() });
    }
  };

  /** A DeleteRequest of a backup: its files go from the vault (ListObjects, DeleteObject each), then the task itself. */
  const runDelete = async (clusterId: string, request: KubeObject) => {
    const name = request.metadata.name;
    const spec = (isMap(request.spec) ? request.spec : {}) as { deleteObjectName?: unknown; deleteObjectType?: unknown };
    setStatus(clusterId, 'DeleteRequest', name, { phase: 'InProgress' });
    try {
      if (spec.deleteObjectType !== 'Backup') throw new TaskError(`deleteObjectType ${String(spec.deleteObjectType)} is not modelled by the sandbox (only Backup)`);
      const target = String(spec.deleteObjectName ?? '');
      const cluster = account.state.clusters[clusterId]!;
      const backup = cluster.objects[objectKey(GROUP_VERSION, 'ApplicationBackup', NAMESPACE, target)];
      if (!backup) throw new TaskError(`applicationbackups.csdr.alibabacloud.com "${target}" not found`);
      const location = String((backup.spec as Json | undefined)?.storageLocation ?? '');
      const vault = vaultOf(cluster, location);
      const oss = clientFor(credentialsFor(clusterId), vault.region, vault.bucket);
      const dir = backupDir(vault.prefix, target);
      try {
        for (let marker: string | undefined; ;) {
          const page = (await oss.list({ prefix: dir, 'max-keys': 50, ...(marker ? { marker } : {}) }, {})) as { objects?: { name: string }[]; isTruncated?: boolean; nextMarker?: string };
          for (const object of page.objects ?? []) await oss.delete(object.name);
          if (!page.isTruncated) break;
          marker = page.nextMarker;
        }
      } catch (error) {
        throw new TaskError(`delete backup files in OSS bucket failed: ${ossErrorText(error)}`);
      }
      account.change((s) => {
        const c = s.clusters[clusterId]!;
        delete c.objects[objectKey(GROUP_VERSION, 'ApplicationBackup', NAMESPACE, target)];
        nextResourceVersion(c);
      });
      setStatus(clusterId, 'DeleteRequest', name, { phase: 'Completed', message: '' });
    } catch (error) {
      if (!(error instanceof TaskError)) throw error;
      setStatus(clusterId, 'DeleteRequest', name, { phase: 'Failed', message: error.message });
    }
  };

  /** One task of the cluster, if one is waiting: the backup component of each cluster works through its own tasks. */
  const reconcileOnce = async (clusterId: string): Promise<boolean> => {
    observeStarts();
    const cluster = account.state.clusters[clusterId];
    if (!cluster || !running(cluster)) return false;
    const backup = tasks(cluster, 'ApplicationBackup').find((b) => phaseOf(b) === undefined);
    if (backup) {
      await runBackup(cluster.id, backup);
      return true;
    }
    const request = tasks(cluster, 'DeleteRequest').find((r) => phaseOf(r) === undefined);
    if (request) {
      await runDelete(cluster.id, request);
      return true;
    }
    return false;
  };

  // Every cluster runs its own component, so clusters' tasks run side by side; one cluster's run one after another.
  const workers = new Map<string, { again: boolean; done: Promise<void> }>();
  const schedule = () => {
    if (stopped) return;
    observeStarts();
    for (const cluster of Object.values(account.state.clusters)) {
      const clusterId = cluster.id;
      if (!running(cluster) || !(['ApplicationBackup', 'DeleteRequest'] as const).some((kind) => tasks(cluster, kind).some((t) => phaseOf(t) === undefined))) continue;
      const worker = workers.get(clusterId);
      if (worker) {
        worker.again = true;
        continue;
      }
      const started = { again: true, done: Promise.resolve() };
      workers.set(clusterId, started);
      started.done = (async () => {
        while (started.again && !stopped) {
          started.again = false;
          while (!stopped && (await reconcileOnce(clusterId))) { /* next task */ }
        }
      })().catch(() => undefined).finally(() => workers.delete(clusterId));
    }
  };

  const unsubscribe = account.onChange(schedule);
  schedule();
  return {
    async stop() {
      stopped = true;
      unsubscribe();
      await Promise.all([...workers.values()].map((w) => w.done));
    },
  };
}
