// The engine-overhead baseline: a dedicated cluster's backup setup as a plain script. The same SDK
// clients and request objects as the executor's steps, in the same order, with no flows, store, chat,
// previews or existence checks: each call assumes the one before it worked.
import { AttachPolicyToUserRequest, CreateAccessKeyRequest, CreatePolicyRequest, CreateUserRequest } from '@alicloud/ram20150501';
import { InstallClusterAddonsRequest, InstallClusterAddonsRequestBody, ListAddonsRequest } from '@alicloud/cs20151215';
import { ADDON_NAME, ADDON_SECRET_NAME, BACKUP_NAMESPACE, CONTROLLER_DEPLOYMENT, CONTROLLER_NAMESPACE, credentialNames } from '../flows/domain/names.ts';
import { backupVaultName } from '../flows/domain/vault.ts';
import { policyDocument } from '../flows/domain/policy.ts';
import { runtime, type CloudClients } from '../src/executor/clients.ts';
import { BACKUP_LOCATION } from '../src/executor/reads.ts';
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

export async function plainDedicatedSetup(clients: CloudClients, options: PlainSetupOptions): Promise<void> {
  const { clusterId, bucket, pollMs } = options;
  const { userName, policyName } = credentialNames('dedicated', clusterId);

  // Read the cluster: its region, and the add-on version to install (the policy depends on it).
  const detail = await clients.cs.describeClusterDetailWithOptions(clusterId, {}, runtime());
  const region = detail.body?.regionId;
  if (!region) throw new Error(`cluster ${clusterId} has no region`);
  const cs = clients.csIn(region);
  const offered = await cs.listAddonsWithOptions(new ListAddonsRequest({ clusterId }), {}, runtime());
  const version = offered.body?.addons?.find((a) => a.name === ADDON_NAME)?.version;
  if (!version) throw new Error(`CS offers no ${ADDON_NAME} version for ${clusterId}`);

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

  const started = await cs.installClusterAddonsWithOptions(
    clusterId,
    new InstallClusterAddonsRequest({ body: [new InstallClusterAddonsRequestBody({ name: ADDON_NAME, version })] }),
    {},
    runtime(),
  );
  const taskId = started.body?.taskId;
  if (!taskId) throw new Error('InstallClusterAddons returned no task id');
  const deadline = Date.now() + 60_000;
  const due = (what: string) => {
    if (Date.now() > deadline) throw new Error(`${what} not ready within 60 s`);
  };
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

  await kube.custom.createNamespacedCustomObject({
    group: BACKUP_LOCATION.group,
    version: BACKUP_LOCATION.version,
    namespace: BACKUP_NAMESPACE,
    plural: BACKUP_LOCATION.plural,
    body: {
      apiVersion: `${BACKUP_LOCATION.group}/${BACKUP_LOCATION.version}`,
      kind: BACKUP_LOCATION.kind,
      metadata: { name: backupVaultName({ name: detail.body?.name ?? '', clusterId }), namespace: BACKUP_NAMESPACE },
      spec: backupLocationSpec({ bucket, prefix: '', region, network: 'internal' }),
    },
  });
}
