import { InstallClusterAddonsRequest, InstallClusterAddonsRequestBody } from '@alicloud/cs20151215';
import { CreateAccessKeyRequest } from '@alicloud/ram20150501';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { policyDocument } from '../../flows/domain/policy.ts';
import { runtime } from '../../src/executor/clients.ts';
import { StepError } from '../../src/executor/contract.ts';
import { failure, startHarness, type Harness } from './helpers.ts';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });
afterEach(async () => { await h.close(); });

const clusterId = 'c-sandbox-dedicated';
const userName = 'ack-backup-c-sandbox-dedicated';
const secretRequest = { step: 'createAccessKeySecret' as const, params: { clusterId, userName, namespace: 'csdr', secretName: 'alibaba-addon-secret', shared: false } };

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
    expect(await h.executor.preview(request)).toEqual({ step: 'createNamespace', upToDate: false, changes: [`create namespace \`csdr\` in cluster \`${clusterId}\``] });
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'created' });
    expect(h.sandbox.publicState().clusters[clusterId]!.namespaces).toContain('csdr');
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'already present' });
  });
});

describe('createAccessKeySecret', () => {
  it('creates a long-lived key, records it as the bot\'s before writing the Secret, never logs the secret; then is already present', async () => {
    await prepareUserAndNamespace();
    const preview = await h.executor.preview(secretRequest);
    expect(preview.changes).toEqual([
      `create an AccessKey for RAM user \`${userName}\`, a long-lived AccessKey: it does not expire by itself, so rotate it, and delete it when the cluster no longer needs it`,
      'create Secret `csdr/alibaba-addon-secret` with keys access-key-id, access-key-secret',
    ]);
    const outcome = await h.executor.apply(secretRequest);
    expect(outcome.outcome).toBe('created');
    const [key] = userKeys();
    expect(userKeys()).toHaveLength(1);
    expect(secretData()).toEqual({ 'access-key-id': key!.id, 'access-key-secret': key!.secret });
    expect((await h.store.listCreatedAccessKeys(userName)).map((k) => [k.accessKeyId, k.clusterId])).toEqual([[key!.id, clusterId]]);
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
    expect(preview.changes.join('\n')).toContain('replace Secret `csdr/alibaba-addon-secret` (Secret `csdr/alibaba-addon-secret` has keys id, secret instead of exactly access-key-id, access-key-secret)');
    expect(await h.executor.apply(secretRequest)).toMatchObject({ outcome: 'updated' });
    expect(Object.keys(secretData()).sort()).toEqual(['access-key-id', 'access-key-secret']);
    expect(secretData()['access-key-id']).toBe(userKeys()[0]!.id);
  });

  it('deletes an orphan key the bot created for this cluster (a crash before the Secret), and stores a fresh one', async () => {
    await prepareUserAndNamespace();
    const orphan = await h.clients.ram.createAccessKeyWithOptions(new CreateAccessKeyRequest({ userName }), runtime());
    const orphanId = orphan.body!.accessKey!.accessKeyId!;
    await h.store.recordCreatedAccessKey({ userName, accessKeyId: orphanId, clusterId });
    expect((await h.executor.preview(secretRequest)).changes).toContain(`delete AccessKey \`${orphanId}\` of \`${userName}\`: the bot created it for this cluster and no Secret holds it`);
    expect(await h.executor.apply(secretRequest)).toMatchObject({ outcome: 'created' });
    expect(userKeys().map((k) => k.id)).not.toContain(orphanId);
    expect(userKeys()).toHaveLength(1);
    expect(secretData()['access-key-id']).toBe(userKeys()[0]!.id);
    expect((await h.store.listCreatedAccessKeys(userName)).map((k) => k.accessKeyId)).toEqual([userKeys()[0]!.id]);
    expect(h.logs.join('')).toContain(orphanId);
    expect(h.logs.join('')).not.toContain(orphan.body!.accessKey!.accessKeySecret!);
  });

  it('never deletes a key it did not create: a key made by hand stays, next to the new one', async () => {
    await prepareUserAndNamespace();
    const byHand = (await h.clients.ram.createAccessKeyWithOptions(new CreateAccessKeyRequest({ userName }), runtime())).body!.accessKey!.accessKeyId!;
    const preview = await h.executor.preview(secretRequest);
    expect(preview.changes.join('\n')).not.toContain(`delete AccessKey ${byHand}`);
    expect(await h.executor.apply(secretRequest)).toMatchObject({ outcome: 'created' });
    expect(userKeys().map((k) => k.id)).toContain(byHand);
    expect(userKeys()).toHaveLength(2);
  });

  it('stops, naming them, when the user already has 2 keys it did not create; nothing changes', async () => {
    await prepareUserAndNamespace();
    const ids = [];
    for (let i = 0; i < 2; i++) ids.push((await h.clients.ram.createAccessKeyWithOptions(new CreateAccessKeyRequest({ userName }), runtime())).body!.accessKey!.accessKeyId!);
    for (const attempt of [h.executor.preview(secretRequest), h.executor.apply(secretRequest)]) {
      const error = await failure<StepError>(attempt);
      expect(error).toMatchObject({ code: 'LimitExceeded.User.AccessKey' });
      for (const id of ids) expect(error.message).toContain(`${id} (Active, not created by the bot)`);
    }
    expect(userKeys().map((k) => k.id).sort()).toEqual([...ids].sort());
    expect(secretData()).toEqual({});
  });

  it('deletes the new key at once when the Secret write is refused, and says so in the error the session audits', async () => {
    await prepareUserAndNamespace();
    h.sandbox.faults.kube.add({ operation: 'kube:create', fault: { kind: 'error', status: 403, code: 'Forbidden', message: 'secrets is forbidden: User "bot" cannot create resource "secrets" in the namespace "csdr"' } });
    const error = await failure<StepError>(h.executor.apply(secretRequest));
    expect(error).toBeInstanceOf(StepError);
    expect(error.message).toMatch(/^The kubeconfig the bot gets from CS may not create\/update secrets on Secret `csdr\/alibaba-addon-secret`/);
    expect(error.message).toMatch(/The new AccessKey `LTAI\w{20}` was deleted at once, so it is not left behind\.$/);
    expect(userKeys()).toEqual([]);
    expect(await h.store.listCreatedAccessKeys(userName)).toEqual([]);
  });
});

describe("createAccessKeySecret on a registered cluster: onectl's kube-system/alibaba-addon-secret, shared with other add-ons", () => {
  const registered = 'c-sandbox-registered';
  const user = 'ack-one-user-csandboxre';
  const shared = { step: 'createAccessKeySecret' as const, params: { clusterId: registered, userName: user, namespace: 'kube-system', secretName: 'alibaba-addon-secret', shared: true } };
  const sharedSecret = () => {
    const object = Object.values(h.sandbox.account.state.clusters[registered]!.objects).find((o) => o.kind === 'Secret' && o.metadata.namespace === 'kube-system' && o.metadata.name === 'alibaba-addon-secret');
    return Object.fromEntries(Object.entries((object?.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  };
  async function onectlSecret(keyId: string, keySecret: string) {
    const kube = await h.clients.kube(registered);
    await kube.core.createNamespacedSecret({ namespace: 'kube-system', body: { metadata: { name: 'alibaba-addon-secret' }, stringData: {
      'access-key-id': keyId, 'access-key-secret': keySecret, 'logtail-project': 'k8s-log-c-sandbox-registered',
    } } });
  }

  it('reuses the valid key onectl left there: no new key, the Secret untouched', async () => {
    await h.executor.apply({ step: 'createRamUser', params: { userName: user } });
    const made = (await h.clients.ram.createAccessKeyWithOptions(new CreateAccessKeyRequest({ userName: user }), runtime())).body!.accessKey!;
    await onectlSecret(made.accessKeyId!, made.accessKeySecret!);
    const before = sharedSecret();
    const preview = await h.executor.preview(shared);
    expect(preview).toMatchObject({ upToDate: true, changes: [`Secret \`kube-system/alibaba-addon-secret\` already holds Active AccessKey \`${made.accessKeyId}\` of \`${user}\`; it is used as it is`] });
    expect(await h.executor.apply(shared)).toMatchObject({ outcome: 'already present' });
    expect(sharedSecret()).toEqual(before);
    expect(h.sandbox.account.state.ram.accessKeys.filter((k) => k.user === user).map((k) => k.id)).toEqual([made.accessKeyId]);
  });

  it("does not replace another user's key other add-ons may use: stops and says what to do", async () => {
    await h.executor.apply({ step: 'createRamUser', params: { userName: user } });
    await h.executor.apply({ step: 'createRamUser', params: { userName: 'logtail-user' } });
    const other = (await h.clients.ram.createAccessKeyWithOptions(new CreateAccessKeyRequest({ userName: 'logtail-user' }), runtime())).body!.accessKey!;
    await onectlSecret(other.accessKeyId!, other.accessKeySecret!);
    const error = await failure<StepError>(h.executor.preview(shared));
    expect(error).toMatchObject({ code: 'SharedSecretInUse' });
    expect(error.message).toContain(`holds AccessKey \`${other.accessKeyId}\`, which is not a key of RAM user \`${user}\``);
    await failure(h.executor.apply(shared));
    expect(sharedSecret()['access-key-id']).toBe(other.accessKeyId);
    expect(h.sandbox.account.state.ram.accessKeys.filter((k) => k.user === user)).toEqual([]);
  });

  it("replaces an Inactive key of the user, keeps the Secret's other keys, and leaves the old key it did not create", async () => {
    await h.executor.apply({ step: 'createRamUser', params: { userName: user } });
    const made = (await h.clients.ram.createAccessKeyWithOptions(new CreateAccessKeyRequest({ userName: user }), runtime())).body!.accessKey!;
    await onectlSecret(made.accessKeyId!, made.accessKeySecret!);
    h.sandbox.account.change((s) => { s.ram.accessKeys.find((k) => k.id === made.accessKeyId)!.status = 'Inactive'; });
    const preview = await h.executor.preview(shared);
    expect(preview.changes).toContain(`leave AccessKey \`${made.accessKeyId}\` it held before in RAM (the bot did not create it)`);
    const outcome = await h.executor.apply(shared);
    expect(outcome).toMatchObject({ outcome: 'updated' });
    const after = sharedSecret();
    expect(after['logtail-project']).toBe('k8s-log-c-sandbox-registered');
    expect(after['access-key-id']).not.toBe(made.accessKeyId);
    expect(h.sandbox.account.state.ram.accessKeys.filter((k) => k.user === user).map((k) => k.id)).toEqual([made.accessKeyId, after['access-key-id']]);
  });
});

describe('installAddon', () => {
  it('upgrades migrate-controller from 1.7.6 on c-sandbox-edge and waits for it', async () => {
    const request = { step: 'installAddon' as const, params: { clusterId: 'c-sandbox-edge', addon: 'migrate-controller', version: '1.8.7', installedVersion: '1.7.6' } };
    expect((await h.executor.preview(request)).changes).toEqual(['upgrade add-on `migrate-controller` from 1.7.6 to 1.8.7 in cluster `c-sandbox-edge`']);
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
  const vault = (prefix: string, network: 'internal' | 'public' = 'internal') => ({ step: 'createBackupVault' as const, params: { clusterId, name: 'sandbox-dedicated-backups', bucket: 'cnfs-oss-sandbox-backups', prefix, region: 'cn-hangzhou', network } });
  const stored = (name: string) => Object.values(h.sandbox.account.state.clusters[clusterId]!.objects).find((o) => o.kind === 'BackupLocation' && o.metadata.name === name);

  it('creates the complete spec of the kubectl example, then is already present', async () => {
    await h.executor.apply({ step: 'installAddon', params: { clusterId, addon: 'migrate-controller', version: '1.8.7', installedVersion: null } });
    expect((await h.executor.preview(vault(''))).upToDate).toBe(false);
    expect(await h.executor.apply(vault(''))).toMatchObject({ outcome: 'created', detail: 'Created backup vault `sandbox-dedicated-backups` (bucket `cnfs-oss-sandbox-backups`, cn-hangzhou, internal network)' });
    expect(stored('sandbox-dedicated-backups')?.spec).toEqual({
      backupSyncPeriod: '0s', provider: 'alibabacloud',
      objectStorage: { bucket: 'cnfs-oss-sandbox-backups', prefix: '' }, config: { network: 'internal', region: 'cn-hangzhou' },
    });
    expect(await h.executor.apply(vault(''))).toMatchObject({ outcome: 'already present' });
  });

  it('never modifies a vault: another prefix or network gets a new vault under the next name', async () => {
    await h.executor.apply({ step: 'installAddon', params: { clusterId, addon: 'migrate-controller', version: '1.8.7', installedVersion: null } });
    await h.executor.apply(vault(''));
    const preview = await h.executor.preview(vault('', 'public'));
    expect(preview.changes).toEqual([expect.stringMatching(/^create backup vault \(BackupLocation `csdr\/sandbox-dedicated-backups-2`\) for .*; `sandbox-dedicated-backups` exists and points elsewhere, and a vault cannot be modified/)]);
    expect(await h.executor.apply(vault('', 'public'))).toMatchObject({ outcome: 'created', detail: expect.stringContaining('sandbox-dedicated-backups-2') });
    expect((stored('sandbox-dedicated-backups')?.spec as { config: { network: string } }).config.network).toBe('internal');
    expect(h.sandbox.publicState().clusters[clusterId]!.backupVaults.sort()).toEqual(['sandbox-dedicated-backups', 'sandbox-dedicated-backups-2']);
  });

  it("takes the next name when a deleted vault had the one asked for (the service refuses the reuse)", async () => {
    await h.executor.apply({ step: 'installAddon', params: { clusterId, addon: 'migrate-controller', version: '1.8.7', installedVersion: null } });
    await h.executor.apply(vault(''));
    const kube = await h.clients.kube(clusterId);
    await kube.custom.deleteNamespacedCustomObject({ group: 'csdr.alibabacloud.com', version: 'v1beta1', namespace: 'csdr', plural: 'backuplocations', name: 'sandbox-dedicated-backups' });
    expect((await h.executor.preview(vault(''))).changes.join('\n')).toContain('if a deleted vault had the name, which cannot be reused, the next of `sandbox-dedicated-backups-2`');
    const outcome = await h.executor.apply(vault(''));
    expect(outcome).toMatchObject({ outcome: 'created', detail: 'Created backup vault `sandbox-dedicated-backups-2` (bucket `cnfs-oss-sandbox-backups`, cn-hangzhou, internal network)' });
    expect(await h.executor.apply(vault(''))).toMatchObject({ outcome: 'already present', detail: expect.stringContaining('sandbox-dedicated-backups-2') });
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
