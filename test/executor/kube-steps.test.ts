import { InstallClusterAddonsRequest, InstallClusterAddonsRequestBody } from '@alicloud/cs20151215';
import { CreateAccessKeyRequest } from '@alicloud/ram20150501';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { policyDocument } from '../../flows/domain/policy.ts';
import { runtime } from '../../src/executor/clients.ts';
import { startHarness, type Harness } from './helpers.ts';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });
afterEach(async () => { await h.close(); });

const clusterId = 'c-sandbox-dedicated';
const userName = 'ack-backup-c-sandbox-dedicated';
const secretRequest = { step: 'createAccessKeySecret' as const, params: { clusterId, userName, namespace: 'csdr', secretName: 'alibaba-addon-secret' } };

const userKeys = () => h.sandbox.account.state.ram.accessKeys.filter((k) => k.user === userName);
function secretData(): Record<string, string> {
  const object = Object.values(h.sandbox.account.state.clusters[clusterId]!.objects).find((o) => o.kind === 'Secret' && o.metadata.namespace === 'csdr' && o.metadata.name === 'alibaba-addon-secret');
  const data = (object?.data ?? {}) as Record<string, string>;
  const stringData = (object?.stringData ?? {}) as Record<string, string>;
  return { ...Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])), ...stringData };
}

async function prepareUserAndNamespace() {
  await h.executor.apply({ step: 'createRamUser', params: { userName } });
  await h.executor.apply({ step: 'createNamespace', params: { clusterId, namespace: 'csdr' } });
}

describe('createNamespace', () => {
  it('creates once', async () => {
    const request = { step: 'createNamespace' as const, params: { clusterId, namespace: 'csdr' } };
    expect(await h.executor.preview(request)).toEqual({ step: 'createNamespace', upToDate: false, changes: [`create namespace csdr in cluster ${clusterId}`] });
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'created' });
    expect(h.sandbox.publicState().clusters[clusterId]!.namespaces).toContain('csdr');
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'already present' });
  });
});

describe('createAccessKeySecret', () => {
  it('creates a key and writes it to the Secret in one step, never logging the secret; then is already present', async () => {
    await prepareUserAndNamespace();
    const preview = await h.executor.preview(secretRequest);
    expect(preview.changes).toEqual([`create an AccessKey for RAM user ${userName}`, 'create Secret csdr/alibaba-addon-secret with keys access-key-id, access-key-secret']);
    const outcome = await h.executor.apply(secretRequest);
    expect(outcome.outcome).toBe('created');
    const [key] = userKeys();
    expect(userKeys()).toHaveLength(1);
    expect(secretData()).toEqual({ 'access-key-id': key!.id, 'access-key-secret': key!.secret });
    expect(outcome.detail).not.toContain(key!.secret);
    expect(h.logs.join('')).not.toContain(key!.secret);
    expect(h.logs.join('')).toContain(key!.id);
    expect(await h.executor.apply(secretRequest)).toMatchObject({ outcome: 'already present' });
    expect((await h.executor.preview(secretRequest)).upToDate).toBe(true);
    expect(userKeys()).toHaveLength(1);
  });

  it('replaces a Secret with other keys', async () => {
    await prepareUserAndNamespace();
    const kube = await h.clients.kube(clusterId);
    await kube.core.createNamespacedSecret({ namespace: 'csdr', body: { metadata: { name: 'alibaba-addon-secret' }, stringData: { id: 'x', secret: 'y' } } });
    const preview = await h.executor.preview(secretRequest);
    expect(preview.changes.join('\n')).toContain('replace Secret csdr/alibaba-addon-secret (Secret csdr/alibaba-addon-secret has keys id, secret instead of exactly access-key-id, access-key-secret)');
    expect(await h.executor.apply(secretRequest)).toMatchObject({ outcome: 'updated' });
    expect(Object.keys(secretData()).sort()).toEqual(['access-key-id', 'access-key-secret']);
    expect(secretData()['access-key-id']).toBe(userKeys()[0]!.id);
  });

  it('deletes an orphan key (created before a crash) and stores a fresh one', async () => {
    await prepareUserAndNamespace();
    const orphan = await h.clients.ram.createAccessKeyWithOptions(new CreateAccessKeyRequest({ userName }), runtime());
    const orphanId = orphan.body!.accessKey!.accessKeyId!;
    expect((await h.executor.preview(secretRequest)).changes).toContain(`delete AccessKey ${orphanId} of ${userName} (no Secret refers to it)`);
    expect(await h.executor.apply(secretRequest)).toMatchObject({ outcome: 'created' });
    expect(userKeys().map((k) => k.id)).not.toContain(orphanId);
    expect(userKeys()).toHaveLength(1);
    expect(secretData()['access-key-id']).toBe(userKeys()[0]!.id);
    expect(h.logs.join('')).toContain(orphanId);
    expect(h.logs.join('')).not.toContain(orphan.body!.accessKey!.accessKeySecret!);
  });
});

describe('installAddon', () => {
  it('upgrades migrate-controller from 1.7.6 on c-sandbox-edge and waits for it', async () => {
    const request = { step: 'installAddon' as const, params: { clusterId: 'c-sandbox-edge', addon: 'migrate-controller', version: '1.8.7', installedVersion: '1.7.6' } };
    expect((await h.executor.preview(request)).changes).toEqual(['upgrade add-on migrate-controller from 1.7.6 to 1.8.7 in cluster c-sandbox-edge']);
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'updated' });
    expect(h.sandbox.publicState().clusters['c-sandbox-edge']!.addons).toContainEqual({ name: 'migrate-controller', version: '1.8.7' });
    expect(h.sandbox.faults.cs.calls.filter((c) => c === 'DescribeTaskInfo').length).toBeGreaterThanOrEqual(2);
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'already present' });
  });

  it('installs on a cluster without it', async () => {
    const request = { step: 'installAddon' as const, params: { clusterId, addon: 'migrate-controller', version: '1.8.7', installedVersion: null } };
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'created' });
    expect(h.sandbox.publicState().clusters[clusterId]!.addons).toContainEqual({ name: 'migrate-controller', version: '1.8.7' });
  });

  it('waits for an install task already running (started before a crash) instead of starting another', async () => {
    await h.clients.cs.installClusterAddonsWithOptions(
      clusterId, new InstallClusterAddonsRequest({ body: [new InstallClusterAddonsRequestBody({ name: 'migrate-controller', version: '1.8.7' })] }), {}, runtime());
    const request = { step: 'installAddon' as const, params: { clusterId, addon: 'migrate-controller', version: '1.8.7', installedVersion: null } };
    expect(await h.executor.apply(request)).toMatchObject({ step: 'installAddon' });
    expect(h.sandbox.publicState().clusters[clusterId]!.addons.filter((a) => a.name === 'migrate-controller')).toEqual([{ name: 'migrate-controller', version: '1.8.7' }]);
    expect(Object.values(h.sandbox.account.state.tasks).filter((t) => t.clusterId === clusterId)).toHaveLength(1);
  });

  it('reports a failed CS task with what to do', async () => {
    h.sandbox.faults.cs.add({ operation: 'InstallClusterAddonsTask', fault: { kind: 'error', status: 500, code: 'AddonInstallFailed', message: 'image pull failed' } });
    const request = { step: 'installAddon' as const, params: { clusterId, addon: 'migrate-controller', version: '1.8.7', installedVersion: null } };
    await expect(h.executor.apply(request)).rejects.toMatchObject({ step: 'installAddon', code: 'AddonInstallFailed', message: expect.stringContaining('ACK console') });
  });
});

describe('restartMigrateController', () => {
  it('stamps restartedAt on the pod template', async () => {
    await h.executor.apply({ step: 'installAddon', params: { clusterId, addon: 'migrate-controller', version: '1.8.7', installedVersion: null } });
    const request = { step: 'restartMigrateController' as const, params: { clusterId, namespace: 'kube-system', deployment: 'migrate-controller' } };
    expect((await h.executor.preview(request)).upToDate).toBe(false);
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'updated' });
    const kube = await h.clients.kube(clusterId);
    const deployment = await kube.apps.readNamespacedDeployment({ name: 'migrate-controller', namespace: 'kube-system' });
    expect(deployment.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

describe('createBackupVault', () => {
  const vault = (prefix: string) => ({ step: 'createBackupVault' as const, params: { clusterId, name: 'backupcsandboxde', bucket: 'cnfs-oss-sandbox-backups', prefix, region: 'cn-hangzhou', network: 'internal' as const } });

  it('creates, is already present, and updates a changed spec', async () => {
    // The BackupLocation kind exists once migrate-controller is installed.
    await h.executor.apply({ step: 'installAddon', params: { clusterId, addon: 'migrate-controller', version: '1.8.7', installedVersion: null } });
    expect((await h.executor.preview(vault(''))).upToDate).toBe(false);
    expect(await h.executor.apply(vault(''))).toMatchObject({ outcome: 'created' });
    expect(h.sandbox.publicState().clusters[clusterId]!.backupVaults).toEqual(['backupcsandboxde']);
    expect(await h.executor.apply(vault(''))).toMatchObject({ outcome: 'already present' });
    expect((await h.executor.preview(vault('team-a'))).changes).toEqual(['update backup vault backupcsandboxde:', 'objectStorage.prefix: "" → "team-a"']);
    expect(await h.executor.apply(vault('team-a'))).toMatchObject({ outcome: 'updated' });
    expect(await h.executor.apply(vault('team-a'))).toMatchObject({ outcome: 'already present' });
  });
});

describe('the whole dedicated setup', () => {
  it('ends with every step already present on a second run', async () => {
    const requests = [
      { step: 'createRamUser' as const, params: { userName } },
      { step: 'ensurePolicy' as const, params: { policyName: `${userName}-migrate-controller`, document: policyDocument({ addonVersion: '1.8.7', bucket: 'cnfs-oss-sandbox-backups' }) } },
      { step: 'attachPolicy' as const, params: { policyName: `${userName}-migrate-controller`, userName } },
      { step: 'createNamespace' as const, params: { clusterId, namespace: 'csdr' } },
      secretRequest,
      { step: 'installAddon' as const, params: { clusterId, addon: 'migrate-controller', version: '1.8.7', installedVersion: null } },
    ];
    for (const request of requests) expect((await h.executor.apply(request)).outcome).not.toBe('already present');
    for (const request of requests) expect((await h.executor.apply(request)).outcome).toBe('already present');
  });
});
