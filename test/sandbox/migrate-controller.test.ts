// The emulated backup component: ApplicationBackup and DeleteRequest through the Kubernetes API, run with the
// credentials the real component uses, against the OSS emulator, where RAM decides.
import * as $Cs from '@alicloud/cs20151215';
import * as $Ram from '@alicloud/ram20150501';
import { CustomObjectsApi, KubeConfig, PatchStrategy, AppsV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { addObject, applyAddonInstalled, objectKey } from '../../src/sandbox/kube/objects.ts';
import { csClient, ossClient, ramClient } from './clients.ts';

let sandbox: Sandbox;
beforeEach(async () => {
  sandbox = await startSandbox({ stateDir: null });
});
afterEach(() => sandbox.close());

const GROUP = { group: 'csdr.alibabacloud.com', version: 'v1beta1', namespace: 'csdr' };
const BUCKET = 'cnfs-oss-sandbox-backups';
const OSS_ACTIONS = ['oss:PutObject', 'oss:GetObject', 'oss:DeleteObject', 'oss:GetBucket', 'oss:ListObjects', 'oss:ListBuckets', 'oss:GetBucketStat'];

async function kube(clusterId: string) {
  const config = (await csClient(sandbox).describeClusterUserKubeconfig(clusterId, new $Cs.DescribeClusterUserKubeconfigRequest({}))).body!.config!;
  const kc = new KubeConfig();
  kc.loadFromString(config);
  return { custom: kc.makeApiClient(CustomObjectsApi), apps: kc.makeApiClient(AppsV1Api) };
}

/** A RAM user with an OSS policy on `resources` (minus `missing`) and its key in the cluster's Secret. */
async function accessKeySecret(clusterId: string, namespace: string, name: string, resources: string[], missing: string[] = []) {
  const ram = ramClient(sandbox);
  await ram.createUser(new $Ram.CreateUserRequest({ userName: name }));
  const document = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: OSS_ACTIONS.filter((a) => !missing.includes(a)), Resource: resources }] });
  await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: name, policyDocument: document }));
  await ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'Custom', policyName: name, userName: name }));
  const key = (await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: name }))).body!.accessKey!;
  sandbox.account.change((s) => {
    const cluster = s.clusters[clusterId]!;
    if (!cluster.objects[objectKey('v1', 'Namespace', '', namespace)]) addObject(cluster, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    addObject(cluster, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'alibaba-addon-secret', namespace }, type: 'Opaque',
      data: { 'access-key-id': Buffer.from(key.accessKeyId!).toString('base64'), 'access-key-secret': Buffer.from(key.accessKeySecret!).toString('base64') },
    });
  });
}

function install(clusterId: string) {
  sandbox.account.change((s) => {
    const cluster = s.clusters[clusterId]!;
    if (!cluster.addons.some((a) => a.name === 'migrate-controller')) cluster.addons.push({ name: 'migrate-controller', version: '1.8.7', state: 'active' });
    applyAddonInstalled(cluster, 'migrate-controller', '1.8.7');
  });
}

async function vault(clusterId: string, bucket = BUCKET, prefix = '', name = 'vault1') {
  const { custom } = await kube(clusterId);
  await custom.createNamespacedCustomObject({ ...GROUP, plural: 'backuplocations', body: {
    apiVersion: 'csdr.alibabacloud.com/v1beta1', kind: 'BackupLocation', metadata: { name },
    spec: { backupSyncPeriod: '0s', objectStorage: { bucket, prefix }, config: { region: 'cn-hangzhou', network: 'internal' }, provider: 'alibabacloud' },
  } });
}

type Task = { status?: { phase?: string; message?: string } };

/** Creates the task and returns it once the component has finished it. */
async function run(clusterId: string, plural: 'applicationbackups' | 'deleterequests', name: string, spec: object): Promise<Task> {
  const { custom } = await kube(clusterId);
  const kind = plural === 'applicationbackups' ? 'ApplicationBackup' : 'DeleteRequest';
  await custom.createNamespacedCustomObject({ ...GROUP, plural, body: { apiVersion: 'csdr.alibabacloud.com/v1beta1', kind, metadata: { name }, spec } });
  for (;;) {
    const task = sandbox.account.state.clusters[clusterId]!.objects[objectKey('csdr.alibabacloud.com/v1beta1', kind, 'csdr', name)] as Task | undefined;
    const phase = task?.status?.phase;
    if (phase && phase !== 'InProgress') return task!;
    if (!task && plural === 'deleterequests') throw new Error('DeleteRequest vanished');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const backup = (clusterId: string, name: string, storageLocation = 'vault1', namespace = 'kube-public') =>
  run(clusterId, 'applicationbackups', name, { includedNamespaces: [namespace], includeClusterResources: false, pvBackup: { defaultPvBackup: false }, storageLocation, ttl: '1h0m0s' });
const keys = (prefix = '') => Object.keys(sandbox.account.state.oss.objects?.[BUCKET] ?? {}).filter((k) => k.startsWith(prefix)).sort();
const writers = () => [...new Set(sandbox.requests.entries.filter((e) => e.action === 'oss:PutObject').map((e) => e.principal))];

describe('the emulated migrate-controller', () => {
  it("dedicated: backs up with the Secret's AccessKey, writing Velero's files; a DeleteRequest removes them", async () => {
    await accessKeySecret('c-sandbox-dedicated', 'csdr', 'ded-user', [`acs:oss:*:*:${BUCKET}`, `acs:oss:*:*:${BUCKET}/*`]);
    install('c-sandbox-dedicated');
    await vault('c-sandbox-dedicated', BUCKET, 'team/');
    expect(await backup('c-sandbox-dedicated', 'b1')).toMatchObject({ status: { phase: 'Completed' } });
    expect(keys('team/backups/b1/')).toEqual([
      'b1-csi-volumesnapshotclasses.json.gz', 'b1-csi-volumesnapshotcontents.json.gz', 'b1-csi-volumesnapshots.json.gz', 'b1-itemoperations.json.gz',
      'b1-logs.gz', 'b1-podvolumebackups.json.gz', 'b1-resource-list.json.gz', 'b1-results.gz', 'b1-volumeinfo.json.gz', 'b1-volumesnapshots.json.gz',
      'b1.tar.gz', 'velero-backup.json',
    ].map((f) => `team/backups/b1/${f}`).sort());
    expect(writers()).toEqual(['user/ded-user']);
    const location = sandbox.account.state.clusters['c-sandbox-dedicated']!.objects[objectKey('csdr.alibabacloud.com/v1beta1', 'BackupLocation', 'csdr', 'vault1')] as Task;
    expect(location.status?.phase).toBe('Available');

    expect(await run('c-sandbox-dedicated', 'deleterequests', 'b1-dbr', { deleteObjectName: 'b1', deleteObjectType: 'Backup' })).toMatchObject({ status: { phase: 'Completed' } });
    expect(keys('team/')).toEqual([]);
    expect(sandbox.account.state.clusters['c-sandbox-dedicated']!.objects[objectKey('csdr.alibabacloud.com/v1beta1', 'ApplicationBackup', 'csdr', 'b1')]).toBeUndefined();
  });

  it('fails the backup with the OSS error when the policy lacks oss:PutObject, and leaves no files', async () => {
    await accessKeySecret('c-sandbox-dedicated', 'csdr', 'no-put', [`acs:oss:*:*:${BUCKET}`, `acs:oss:*:*:${BUCKET}/*`], ['oss:PutObject']);
    install('c-sandbox-dedicated');
    await vault('c-sandbox-dedicated');
    const failed = await backup('c-sandbox-dedicated', 'b2');
    expect(failed.status?.phase).toBe('Failed');
    expect(failed.status?.message).toMatch(/^upload backup files to OSS bucket failed: oss: service returned error: StatusCode=403, ErrorCode=AccessDenied, ErrorMessage="You have no right to access this object because of bucket acl\.", RequestId=[\w-]+, Ec=0003-00000001$/);
    expect(keys()).toEqual([]);
  });

  it('fails with VaultError when the policy names another bucket, and marks the vault Unavailable', async () => {
    await accessKeySecret('c-sandbox-dedicated', 'csdr', 'other-bucket', ['acs:oss:*:*:team-archive', 'acs:oss:*:*:team-archive/*']);
    install('c-sandbox-dedicated');
    await vault('c-sandbox-dedicated');
    const failed = await backup('c-sandbox-dedicated', 'b3');
    expect(failed.status?.message).toMatch(/^VaultError: backup vault is unavailable: oss: service returned error: StatusCode=403, ErrorCode=AccessDenied/);
    const location = sandbox.account.state.clusters['c-sandbox-dedicated']!.objects[objectKey('csdr.alibabacloud.com/v1beta1', 'BackupLocation', 'csdr', 'vault1')] as Task;
    expect(location.status).toMatchObject({ phase: 'Unavailable', message: failed.status!.message });
  });

  it('reads the Secret when it starts: a Secret written later takes a restart', async () => {
    install('c-sandbox-dedicated');
    await accessKeySecret('c-sandbox-dedicated', 'csdr', 'late-user', ['*']);
    await vault('c-sandbox-dedicated');
    expect((await backup('c-sandbox-dedicated', 'b4')).status?.message).toMatch(/^no credentials: the component found no Secret csdr\/alibaba-addon-secret/);
    const { apps } = await kube('c-sandbox-dedicated');
    await apps.patchNamespacedDeployment({ name: 'migrate-controller', namespace: 'kube-system', body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    expect((await backup('c-sandbox-dedicated', 'b5')).status?.phase).toBe('Completed');
  });

  it('registered: the Secret in kube-system (where onectl keeps it) wins over the one in csdr', async () => {
    await accessKeySecret('c-sandbox-registered', 'kube-system', 'onectl-user', ['*']);
    await accessKeySecret('c-sandbox-registered', 'csdr', 'csdr-user', ['*']);
    install('c-sandbox-registered');
    await vault('c-sandbox-registered');
    expect((await backup('c-sandbox-registered', 'b6')).status?.phase).toBe('Completed');
    expect(writers()).toEqual(['user/onectl-user']);
  });

  it("managed: AliyunCSManagedBackupRestoreRole's token writes to a cnfs-oss-* bucket, not to another one", async () => {
    install('c-sandbox-managed');
    await vault('c-sandbox-managed');
    expect((await backup('c-sandbox-managed', 'b7')).status?.phase).toBe('Completed');
    expect(writers()).toEqual(['role/AliyunCSManagedBackupRestoreRole']);

    await ossClient(sandbox).putBucket('team-data-managed');
    const { custom } = await kube('c-sandbox-managed');
    await custom.deleteNamespacedCustomObject({ ...GROUP, plural: 'backuplocations', name: 'vault1' });
    // A deleted vault's name cannot be reused (backup-center FAQ): the new vault gets another.
    await vault('c-sandbox-managed', 'team-data-managed', '', 'vault2');
    expect((await backup('c-sandbox-managed', 'b8', 'vault2')).status?.message).toMatch(/^VaultError: backup vault is unavailable: .*ErrorCode=AccessDenied/);
  });

  it('fails a DeleteRequest when the policy lacks oss:DeleteObject, and keeps the backup', async () => {
    await accessKeySecret('c-sandbox-dedicated', 'csdr', 'no-delete', ['*'], ['oss:DeleteObject']);
    install('c-sandbox-dedicated');
    await vault('c-sandbox-dedicated');
    expect((await backup('c-sandbox-dedicated', 'b9')).status?.phase).toBe('Completed');
    const failed = await run('c-sandbox-dedicated', 'deleterequests', 'b9-dbr', { deleteObjectName: 'b9', deleteObjectType: 'Backup' });
    expect(failed.status).toMatchObject({ phase: 'Failed', message: expect.stringMatching(/^delete backup files in OSS bucket failed: .*ErrorCode=AccessDenied/) });
    expect(keys('backups/b9/')).toHaveLength(12);
  });

  it('refuses a backup already in the bucket, and a namespace that does not exist', async () => {
    await accessKeySecret('c-sandbox-dedicated', 'csdr', 'dup-user', ['*']);
    install('c-sandbox-dedicated');
    await vault('c-sandbox-dedicated');
    sandbox.account.change((s) => {
      s.oss.objects ??= {};
      (s.oss.objects[BUCKET] ??= {})['backups/b10/velero-backup.json'] = { size: 2, etag: '0', lastModified: new Date().toISOString(), contentType: 'application/json', storageClass: 'Standard', data: 'e30=' };
    });
    expect((await backup('c-sandbox-dedicated', 'b10')).status?.message).toBe(`backup already exists in OSS bucket ${BUCKET}`);
    expect((await backup('c-sandbox-dedicated', 'b11', 'vault1', 'no-such-namespace')).status?.message).toBe('get target namespace failed: namespaces "no-such-namespace" not found');
  });
});
