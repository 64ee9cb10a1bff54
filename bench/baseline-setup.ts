// The engine-overhead baseline: a dedicated cluster's backup setup as a plain script. The same SDK
// clients and request objects as the executor's steps, in the same order, with no flows, store, chat,
// previews or existence checks: each call assumes the one before it worked. It ends, as the engine does,
// with a test backup that is listed in the bucket, removed again, and recorded on the vault.
import { AttachPolicyToUserRequest, CreateAccessKeyRequest, CreatePolicyRequest, CreateUserRequest } from '@alicloud/ram20150501';
import { InstallClusterAddonsRequest, InstallClusterAddonsRequestBody, ListAddonsRequest } from '@alicloud/cs20151215';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ADDON_NAME, ADDON_SECRET_NAME, BACKUP_NAMESPACE, CONTROLLER_DEPLOYMENT, CONTROLLER_NAMESPACE, TEST_BACKUP_NAMESPACE, credentialNames } from '../flows/domain/names.ts';
import { backupVaultName } from '../flows/domain/vault.ts';
import { policyDocument } from '../flows/domain/policy.ts';
import { runtime, type CloudClients } from '../src/executor/clients.ts';
import { APPLICATION_BACKUP, BACKUP_LOCATION, DELETE_REQUEST } from '../src/executor/reads.ts';
import { LAST_TEST_ANNOTATION } from '../src/executor/test-backup-record.ts';
import { backupLocationSpec } from '../src/executor/steps/ensure-backup-vault.ts';
import { statusOf } from '../src/executor/retry.ts';

export interface PlainSetupOptions {
  clusterId: string;
  /** A bucket that does not exist yet; it is created. */
  bucket: string;
  /** Interval between polls of the add-on task and the Deployment (the engine's pollIntervalMs). */
  pollMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Kube = Awaited<ReturnType<CloudClients['kube']>>;

/** Throws once the setup has taken longer than a real one would be given. */
function deadlineOf(ms: number): (what: string) => void {
  const deadline = Date.now() + ms;
  return (what) => {
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${ms / 1000} s`);
  };
}

/** The cluster's region and name, and the add-on version to install (the policy depends on it). */
async function readCluster(clients: CloudClients, clusterId: string) {
  const detail = await clients.clusterDetail(clusterId);
  const region = detail.regionId;
  if (!region) throw new Error(`cluster ${clusterId} has no region`);
  const offered = await clients.csIn(region).listAddonsWithOptions(new ListAddonsRequest({ clusterId }), {}, runtime());
  const version = offered.body?.addons?.find((a) => a.name === ADDON_NAME)?.version;
  if (!version) throw new Error(`CS offers no ${ADDON_NAME} version for ${clusterId}`);
  return { region, version, name: detail.name ?? '' };
}

export async function plainDedicatedSetup(clients: CloudClients, options: PlainSetupOptions): Promise<void> {
  const { clusterId, bucket, pollMs } = options;
  const { userName, policyName } = credentialNames('dedicated', clusterId);
  const { region, version, name } = await readCluster(clients, clusterId);

  const oss = await clients.oss(region);
  await oss.putBucket(bucket, { acl: 'private', storageClass: 'Standard' } as never);

  await clients.ram.createUserWithOptions(new CreateUserRequest({ userName, comments: 'migrate-controller (ACK backup center), created by the backup-setup bot' }), runtime());
  const document = JSON.stringify(policyDocument({ bucket, addonVersion: version }));
  await clients.ram.createPolicyWithOptions(
    new CreatePolicyRequest({ policyName, policyDocument: document, description: 'migrate-controller (ACK backup center), managed by the backup-setup bot' }),
    runtime(),
  );
  await clients.ram.attachPolicyToUserWithOptions(new AttachPolicyToUserRequest({ policyType: 'Custom', policyName, userName }), runtime());

  const kube = await clients.kube(clusterId);
  await kube.core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BACKUP_NAMESPACE } } });
  const created = await clients.ram.createAccessKeyWithOptions(new CreateAccessKeyRequest({ userName }), runtime());
  const id = created.body?.accessKey?.accessKeyId ?? '';
  const secret = created.body?.accessKey?.accessKeySecret ?? '';
  await kube.core.createNamespacedSecret({
    namespace: BACKUP_NAMESPACE,
    body: {
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
      metadata: { name: ADDON_SECRET_NAME, namespace: BACKUP_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'backup-setup-bot' } },
      data: { 'access-key-id': Buffer.from(id).toString('base64'), 'access-key-secret': Buffer.from(secret).toString('base64') },
    },
  });

  const due = deadlineOf(60_000);
  await installAddon(clients, kube, { clusterId, region, version, pollMs, due });
  const vault = await createVault(kube, { clusterId, name, bucket, region });
  await plainTestBackup(kube, await clients.ossBucket(region, bucket), { vault, bucket, region, pollMs, due });
}

/**
 * A managed cluster whose bucket starts with cnfs-oss-: its managed role reaches the bucket, so the job is the add-on,
 * the vault and the test backup (flows/plans.ts managedPlan). The bucket exists (the fleet's clusters share it).
 */
export async function plainManagedSetup(clients: CloudClients, options: PlainSetupOptions): Promise<void> {
  const { clusterId, bucket, pollMs } = options;
  const { region, version, name } = await readCluster(clients, clusterId);
  const kube = await clients.kube(clusterId);
  const due = deadlineOf(60_000);
  await installAddon(clients, kube, { clusterId, region, version, pollMs, due });
  const vault = await createVault(kube, { clusterId, name, bucket, region });
  await plainTestBackup(kube, await clients.ossBucket(region, bucket), { vault, bucket, region, pollMs, due });
}

/** InstallClusterAddons, then its task and the Deployment polled until ready. */
async function installAddon(
  clients: CloudClients, kube: Kube,
  { clusterId, region, version, pollMs, due }: { clusterId: string; region: string; version: string; pollMs: number; due: (what: string) => void },
): Promise<void> {
  const cs = clients.csIn(region);
  const started = await cs.installClusterAddonsWithOptions(
    clusterId,
    new InstallClusterAddonsRequest({ body: [new InstallClusterAddonsRequestBody({ name: ADDON_NAME, version })] }),
    {},
    runtime(),
  );
  const taskId = started.body?.taskId;
  if (!taskId) throw new Error('InstallClusterAddons returned no task id');
  for (;;) {
    const task = await cs.describeTaskInfoWithOptions(taskId, {}, runtime());
    if (task.body?.state === 'success') break;
    if (task.body?.state === 'fail') throw new Error(`add-on task ${taskId} failed`);
    due(`add-on task ${taskId}`);
    await sleep(pollMs);
  }
  for (;;) {
    const deployment = await kube.apps
      .readNamespacedDeployment({ name: CONTROLLER_DEPLOYMENT, namespace: CONTROLLER_NAMESPACE })
      .catch((error: unknown) => {
        if (statusOf(error) === 404) return null;
        throw error;
      });
    if ((deployment?.status?.readyReplicas ?? 0) >= 1) break;
    due(`Deployment ${CONTROLLER_NAMESPACE}/${CONTROLLER_DEPLOYMENT}`);
    await sleep(pollMs);
  }
}

async function createVault(kube: Kube, { clusterId, name, bucket, region }: { clusterId: string; name: string; bucket: string; region: string }): Promise<string> {
  const vault = backupVaultName({ name, clusterId });
  await kube.custom.createNamespacedCustomObject({
    group: BACKUP_LOCATION.group,
    version: BACKUP_LOCATION.version,
    namespace: BACKUP_NAMESPACE,
    plural: BACKUP_LOCATION.plural,
    body: {
      apiVersion: `${BACKUP_LOCATION.group}/${BACKUP_LOCATION.version}`,
      kind: BACKUP_LOCATION.kind,
      metadata: { name: vault, namespace: BACKUP_NAMESPACE },
      spec: backupLocationSpec({ bucket, prefix: '', region, network: 'internal' }),
    },
  });
  return vault;
}

/** The test backup: an ApplicationBackup of one namespace, its files listed, a DeleteRequest, the files gone, the pass recorded. */
async function plainTestBackup(
  kube: Kube,
  oss: Awaited<ReturnType<CloudClients['oss']>>,
  { vault, bucket, region, pollMs, due }: { vault: string; bucket: string; region: string; pollMs: number; due: (what: string) => void },
): Promise<void> {
  const name = 'plain-test-backup';
  const at = (resource: typeof APPLICATION_BACKUP | typeof DELETE_REQUEST | typeof BACKUP_LOCATION) =>
    ({ group: resource.group, version: resource.version, namespace: BACKUP_NAMESPACE, plural: resource.plural });
  const phase = async (resource: typeof APPLICATION_BACKUP | typeof DELETE_REQUEST, object: string) => {
    const found = await kube.custom.getNamespacedCustomObject({ ...at(resource), name: object }) as { status?: { phase?: string } };
    return found.status?.phase;
  };
  const until = async (resource: typeof APPLICATION_BACKUP | typeof DELETE_REQUEST, object: string) => {
    for (let poll = 0; ; poll++) {
      const now = await phase(resource, object);
      if (now === 'Completed') return;
      if (now === 'Failed' || now === 'PartiallyFailed') throw new Error(`${resource.kind} ${object} is ${now}`);
      due(`${resource.kind} ${object}`);
      await sleep(Math.min(pollMs, 250 * 2 ** poll));
    }
  };
  const files = async () => (await oss.listV2({ prefix: `backups/${name}/`, 'max-keys': '1000' } as never, {})).objects ?? [];

  await kube.custom.createNamespacedCustomObject({
    ...at(APPLICATION_BACKUP),
    body: {
      apiVersion: `${APPLICATION_BACKUP.group}/${APPLICATION_BACKUP.version}`, kind: APPLICATION_BACKUP.kind,
      metadata: {
        name, namespace: BACKUP_NAMESPACE,
        annotations: { 'csdr.alibabacloud.com/backuplocations': JSON.stringify({ name: vault, region, bucket, prefix: '', provider: 'alibabacloud' }) },
      },
      spec: { includedNamespaces: [TEST_BACKUP_NAMESPACE], includeClusterResources: false, pvBackup: { defaultPvBackup: false }, storageLocation: vault, ttl: '1h0m0s' },
    },
  });
  await until(APPLICATION_BACKUP, name);
  if ((await files()).length === 0) throw new Error(`the test backup wrote nothing to ${bucket}`);
  await kube.custom.createNamespacedCustomObject({
    ...at(DELETE_REQUEST),
    body: {
      apiVersion: `${DELETE_REQUEST.group}/${DELETE_REQUEST.version}`, kind: DELETE_REQUEST.kind,
      metadata: { name: `${name}-dbr`, namespace: BACKUP_NAMESPACE },
      spec: { deleteObjectName: name, deleteObjectType: 'Backup' },
    },
  });
  await until(DELETE_REQUEST, `${name}-dbr`);
  if ((await files()).length > 0) throw new Error(`the test backup's files remain in ${bucket}`);
  await kube.custom.patchNamespacedCustomObject(
    { ...at(BACKUP_LOCATION), name: vault, body: { metadata: { annotations: { [LAST_TEST_ANNOTATION]: JSON.stringify({ at: new Date().toISOString() }) } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
