import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as $Cs from '@alicloud/cs20151215';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { selfSignedCertificate } from '../../src/sandbox/kube/kubeconfig.ts';
import { applyAddonInstalled } from '../../src/sandbox/kube/objects.ts';
import { toolPath } from '../support/tools.ts';
import { csClient } from './clients.ts';

const run = promisify(execFile);
const clusterId = 'c-sandbox-dedicated';
let sandbox: Sandbox;
let kubeconfig: string;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  dir = mkdtempSync(join(tmpdir(), 'kube-emulator-'));
  const response = await csClient(sandbox).describeClusterUserKubeconfig(clusterId, new $Cs.DescribeClusterUserKubeconfigRequest({ temporaryDurationMinutes: 60 }));
  kubeconfig = response.body!.config!;
});
afterAll(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function clients(config = kubeconfig) {
  const kc = new KubeConfig();
  kc.loadFromString(config);
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

async function failure(call: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    const e = error as { code: number; body: string };
    return { code: e.code, body: JSON.parse(e.body) as Record<string, unknown> };
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** A bare HTTPS GET to the emulator, trusting the kubeconfig's CA, with an optional bearer token. */
function rawGet(url: string, token?: string): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  const ca = Buffer.from(/certificate-authority-data: "([^"]+)"/.exec(kubeconfig)![1]!, 'base64').toString('utf8');
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end();
  });
}
/** A bare HTTPS request with a JSON body and no Content-Type header (what Debian's kubectl 1.20 sends on create). */
function rawSendWithoutContentType(method: string, url: string, token: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const ca = Buffer.from(/certificate-authority-data: "([^"]+)"/.exec(kubeconfig)![1]!, 'base64').toString('utf8');
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
const serverOf = (config: string) => /server: "([^"]+)"/.exec(config)![1]!;
const tokenOf = (config: string) => /token: "([^"]+)"/.exec(config)![1]!;

const installMigrateController = () =>
  sandbox.account.change((s) => applyAddonInstalled(s.clusters[clusterId]!, 'migrate-controller', '1.8.7'));

const vault = (name: string) => ({
  apiVersion: 'csdr.alibabacloud.com/v1beta1', kind: 'BackupLocation', metadata: { name, namespace: 'csdr' },
  spec: {
    backupSyncPeriod: '0s', provider: 'alibabacloud',
    objectStorage: { bucket: 'cnfs-oss-sandbox-backups', prefix: '' }, config: { region: 'cn-hangzhou', network: 'internal' },
  },
});

describe('Kubernetes emulator with @kubernetes/client-node', () => {
  it('creates a namespace once, then answers 409 AlreadyExists', async () => {
    const { core } = clients();
    const created = await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.status?.phase).toBe('Active');
    const again = await failure(core.createNamespace({ body: { metadata: { name: 'team-a' } } }));
    expect(again.code).toBe(409);
    expect(again.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'AlreadyExists', details: { name: 'team-a', kind: 'namespaces' }, message: 'namespaces "team-a" already exists' });
    expect(sandbox.publicState().clusters[clusterId]!.namespaces).toContain('team-a');
  });

  it('rejects bad names (422) and a missing namespace (404)', async () => {
    const { core } = clients();
    expect(await failure(core.createNamespace({ body: { metadata: { name: 'Team_A' } } }))).toMatchObject({ code: 422, body: { reason: 'Invalid' } });
    expect(await failure(core.createNamespace({ body: { metadata: {} } }))).toMatchObject({ code: 422, body: { reason: 'Invalid', details: { causes: [{ field: 'metadata.name' }] } } });
    const missing = await failure(core.createNamespacedSecret({ namespace: 'nowhere', body: { metadata: { name: 's' }, stringData: { a: 'b' } } }));
    expect(missing).toMatchObject({ code: 404, body: { reason: 'NotFound', message: 'namespaces "nowhere" not found' } });
  });

  it('creates, reads and replaces a Secret; a stale resourceVersion is a 409 Conflict', async () => {
    const { core } = clients();
    await core.createNamespace({ body: { metadata: { name: 'secrets-ns' } } });
    await core.createNamespacedSecret({ namespace: 'secrets-ns', body: { metadata: { name: 'creds' }, stringData: { user: 'alice' } } });
    const read = await core.readNamespacedSecret({ namespace: 'secrets-ns', name: 'creds' });
    expect(read.data).toEqual({ user: Buffer.from('alice').toString('base64') });
    expect(read.stringData).toBeUndefined();
    expect(read.type).toBe('Opaque');
    const replaced = await core.replaceNamespacedSecret({ namespace: 'secrets-ns', name: 'creds', body: { ...read, data: undefined, stringData: { user: 'bob' } } });
    expect(replaced.data).toEqual({ user: Buffer.from('bob').toString('base64') });
    expect(Number(replaced.metadata!.resourceVersion)).toBeGreaterThan(Number(read.metadata!.resourceVersion));
    expect(replaced.metadata!.uid).toBe(read.metadata!.uid);
    const stale = await failure(core.replaceNamespacedSecret({ namespace: 'secrets-ns', name: 'creds', body: read }));
    expect(stale).toMatchObject({ code: 409, body: { reason: 'Conflict' } });
    const absent = await failure(core.replaceNamespacedSecret({ namespace: 'secrets-ns', name: 'other', body: { metadata: { name: 'other' }, stringData: { a: 'b' } } }));
    expect(absent).toMatchObject({ code: 404, body: { message: 'secrets "other" not found' } });
    const listed = await core.listNamespacedSecret({ namespace: 'secrets-ns' });
    expect(listed.items.map((s) => s.metadata?.name)).toEqual(['creds']);
    expect(listed.metadata?.resourceVersion).toMatch(/^\d+$/);
  });

  it('restarts migrate-controller by patching its pod template, which rolls out at once', async () => {
    const { apps } = clients();
    expect((await failure(apps.readNamespacedDeployment({ namespace: 'kube-system', name: 'migrate-controller' }))).code).toBe(404);
    installMigrateController();
    const before = await apps.readNamespacedDeployment({ namespace: 'kube-system', name: 'migrate-controller' });
    expect(before.status).toMatchObject({ readyReplicas: 1, replicas: 1, availableReplicas: 1, updatedReplicas: 1, observedGeneration: before.metadata!.generation });
    expect(before.spec!.template.spec!.containers[0]!.image).toMatch(/:v1\.8\.7$/);
    const patch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } } } } };
    const after = await apps.patchNamespacedDeployment({ namespace: 'kube-system', name: 'migrate-controller', body: patch }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    expect(after.spec!.template.metadata!.annotations).toEqual({ 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' });
    expect(after.spec!.template.metadata!.labels).toEqual(before.spec!.template.metadata!.labels);
    expect(after.metadata!.generation).toBe(before.metadata!.generation! + 1);
    expect(after.status).toMatchObject({ observedGeneration: after.metadata!.generation, readyReplicas: 1 });
    const jsonPatched = await apps.patchNamespacedDeployment(
      { namespace: 'kube-system', name: 'migrate-controller', body: [{ op: 'replace', path: '/spec/replicas', value: 2 }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.status).toMatchObject({ replicas: 2, readyReplicas: 2 });
  });

  it('merges patches as the apiserver does and deletes a namespace with its contents', async () => {
    const { core, apps } = clients();
    installMigrateController();
    const image = 'registry.example/migrate-controller:v9';
    const patched = await apps.patchNamespacedDeployment(
      { namespace: 'kube-system', name: 'migrate-controller', body: { spec: { template: { spec: { containers: [{ name: 'migrate-controller', image }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.spec!.template.spec!.containers).toEqual([{ name: 'migrate-controller', image, imagePullPolicy: 'IfNotPresent' }]);

    await core.createNamespace({ body: { metadata: { name: 'doomed', labels: { team: 'a' } } } });
    await core.createNamespacedSecret({ namespace: 'doomed', body: { metadata: { name: 'two-keys' }, stringData: { a: '1', b: '2' } } });
    const merged = await core.patchNamespacedSecret(
      { namespace: 'doomed', name: 'two-keys', body: { data: { a: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(Object.keys(merged.data!)).toEqual(['b']);
    const byLabel = await core.listNamespace({ labelSelector: 'team=a' });
    expect(byLabel.items.map((n) => n.metadata!.name)).toEqual(['doomed']);
    await core.deleteNamespace({ name: 'doomed' });
    expect((await failure(core.readNamespacedSecret({ namespace: 'doomed', name: 'two-keys' }))).code).toBe(404);
    expect((await failure(core.deleteNamespace({ name: 'kube-system' }))).code).toBe(403);
  });

  it('serves BackupLocation only once the CRD is installed', async () => {
    const { core, custom } = clients(kubeconfig);
    const coordinates = { group: 'csdr.alibabacloud.com', version: 'v1beta1', namespace: 'csdr', plural: 'backuplocations' };
    const other = (await csClient(sandbox).describeClusterUserKubeconfig('c-sandbox-managed', new $Cs.DescribeClusterUserKubeconfigRequest({}))).body!.config!;
    const before = await failure(clients(other).custom.listNamespacedCustomObject({ ...coordinates, namespace: 'default' }));
    expect(before).toMatchObject({ code: 404, body: { message: 'the server could not find the requested resource' } });
    installMigrateController();
    await core.readNamespace({ name: 'csdr' });
    const created = (await custom.createNamespacedCustomObject({ ...coordinates, body: vault('sandbox-dedicated-backups') })) as { metadata: { resourceVersion: string; generation: number } };
    expect(created.metadata.generation).toBe(1);
    expect(sandbox.publicState().clusters[clusterId]!.backupVaults).toEqual(['sandbox-dedicated-backups']);
    const read = (await custom.getNamespacedCustomObject({ ...coordinates, name: 'sandbox-dedicated-backups' })) as ReturnType<typeof vault>;
    const updated = (await custom.replaceNamespacedCustomObject({ ...coordinates, name: 'sandbox-dedicated-backups', body: { ...read, spec: { ...read.spec, objectStorage: { bucket: 'cnfs-oss-sandbox-backups', prefix: 'team-a' } } } })) as { metadata: { generation: number } };
    expect(updated.metadata.generation).toBe(2);
    const listed = (await custom.listNamespacedCustomObject(coordinates)) as { kind: string; items: unknown[] };
    expect(listed).toMatchObject({ kind: 'BackupLocationList', items: [{ spec: { objectStorage: { prefix: 'team-a' } } }] });
    expect(await failure(custom.createNamespacedCustomObject({ ...coordinates, body: vault('sandbox-dedicated-backups') }))).toMatchObject({ code: 409, body: { reason: 'AlreadyExists' } });
  });

  it('validates a BackupLocation against its CRD schema: required fields, types, enums; unknown fields pruned', async () => {
    const { custom } = clients(kubeconfig);
    installMigrateController();
    const coordinates = { group: 'csdr.alibabacloud.com', version: 'v1beta1', namespace: 'csdr', plural: 'backuplocations' };
    const partial = { ...vault('partial'), spec: { objectStorage: { bucket: 'cnfs-oss-sandbox-backups' }, config: { region: 'cn-hangzhou', network: 'intranet' } } };
    const refused = await failure(custom.createNamespacedCustomObject({ ...coordinates, body: partial }));
    expect(refused).toMatchObject({ code: 422, body: { reason: 'Invalid' } });
    const causes = (refused.body as { details: { causes: { field: string; reason: string }[] } }).details.causes;
    expect(causes).toEqual(expect.arrayContaining([
      expect.objectContaining({ field: 'spec.provider', reason: 'FieldValueRequired' }),
      expect.objectContaining({ field: 'spec.backupSyncPeriod', reason: 'FieldValueRequired' }),
      expect.objectContaining({ field: 'spec.objectStorage.prefix', reason: 'FieldValueRequired' }),
      expect.objectContaining({ field: 'spec.config.network', reason: 'FieldValueNotSupported' }),
    ]));
    const wrongType = { ...vault('typed'), spec: { ...vault('typed').spec, objectStorage: { bucket: 42, prefix: '' } } };
    expect((await failure(custom.createNamespacedCustomObject({ ...coordinates, body: wrongType }))).body).toMatchObject({ details: { causes: [{ field: 'spec.objectStorage.bucket', reason: 'FieldValueTypeInvalid' }] } });
    expect(sandbox.publicState().clusters[clusterId]!.backupVaults).not.toEqual(expect.arrayContaining(['partial', 'typed']));

    const extra = { ...vault('pruned'), spec: { ...vault('pruned').spec, surprise: 'dropped' } };
    const created = (await custom.createNamespacedCustomObject({ ...coordinates, body: extra })) as { spec: Record<string, unknown> };
    expect(created.spec).not.toHaveProperty('surprise');
    expect(created.spec).toMatchObject({ provider: 'alibabacloud', config: { network: 'internal', region: 'cn-hangzhou' } });
  });

  it("refuses to create a backup vault with a deleted vault's name, in any cluster of the account", async () => {
    const { custom } = clients(kubeconfig);
    installMigrateController();
    const coordinates = { group: 'csdr.alibabacloud.com', version: 'v1beta1', namespace: 'csdr', plural: 'backuplocations' };
    await custom.createNamespacedCustomObject({ ...coordinates, body: vault('once') });
    await custom.deleteNamespacedCustomObject({ ...coordinates, name: 'once' });
    const reused = await failure(custom.createNamespacedCustomObject({ ...coordinates, body: vault('once') }));
    expect(reused).toMatchObject({ code: 400 });
    expect((reused.body as { message: string }).message).toMatch(/cannot be created with the name of a deleted one/);
    sandbox.account.change((s) => applyAddonInstalled(s.clusters['c-sandbox-managed']!, 'migrate-controller', '1.8.7'));
    const managed = (await csClient(sandbox).describeClusterUserKubeconfig('c-sandbox-managed', new $Cs.DescribeClusterUserKubeconfigRequest({}))).body!.config!;
    expect((await failure(clients(managed).custom.createNamespacedCustomObject({ ...coordinates, body: vault('once') }))).code).toBe(400);
    await custom.createNamespacedCustomObject({ ...coordinates, body: vault('once-2') });
  });

  it('answers 401 Unauthorized to a wrong or missing token', async () => {
    const wrong = kubeconfig.replace(/token: "[^"]+"/, 'token: "not-the-token"');
    expect(wrong).not.toBe(kubeconfig);
    // client-node reports 401 without the body (its generated code drops it).
    await expect(clients(wrong).core.listNamespace()).rejects.toMatchObject({ code: 401 });
    const unauthorized = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
    expect(await rawGet(`${serverOf(kubeconfig)}/api/v1/namespaces`, 'not-the-token')).toMatchObject({ status: 401, body: unauthorized });
    expect(await rawGet(`${serverOf(kubeconfig)}/api/v1/namespaces`)).toMatchObject({ status: 401, body: unauthorized });
    expect((await rawGet(`${sandbox.endpoints.kube}/clusters/c-does-not-exist/api/v1/namespaces`, tokenOf(kubeconfig))).status).toBe(404);
    const other = (await csClient(sandbox).describeClusterUserKubeconfig('c-sandbox-managed', new $Cs.DescribeClusterUserKubeconfigRequest({}))).body!.config!;
    expect((await rawGet(`${serverOf(other)}/api/v1/namespaces`, tokenOf(kubeconfig))).status).toBe(401);
  });

  it('throttles with 429 TooManyRequests and Retry-After under a fault', async () => {
    sandbox.faults.kube.add({ operation: 'kube:list', fault: { kind: 'throttle' }, times: 1 });
    const response = await rawGet(`${serverOf(kubeconfig)}/api/v1/namespaces`, tokenOf(kubeconfig));
    expect(response).toMatchObject({ status: 429, headers: { 'retry-after': '1' }, body: { kind: 'Status', reason: 'TooManyRequests', code: 429 } });
    expect((await clients().core.listNamespace()).items.length).toBeGreaterThan(0);
  });
});

describe('Kubernetes emulator: request bodies without Content-Type', () => {
  it('reads a create as JSON, as the apiserver does, and refuses a patch with 415', async () => {
    const created = await rawSendWithoutContentType('POST', `${serverOf(kubeconfig)}/api/v1/namespaces`, tokenOf(kubeconfig), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'no-content-type' } });
    expect(created).toMatchObject({ status: 201, body: { kind: 'Namespace', metadata: { name: 'no-content-type' } } });
    expect(sandbox.publicState().clusters[clusterId]!.namespaces).toContain('no-content-type');
    const patched = await rawSendWithoutContentType('PATCH', `${serverOf(kubeconfig)}/api/v1/namespaces/no-content-type`, tokenOf(kubeconfig), { metadata: { labels: { a: 'b' } } });
    expect(patched).toMatchObject({ status: 415, body: { kind: 'Status', reason: 'UnsupportedMediaType', code: 415 } });
  });
});

const kubectlPath = toolPath('kubectl');

describe.skipIf(!kubectlPath)('Kubernetes emulator with kubectl', () => {
  async function kubectl(...args: string[]): Promise<string> {
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, kubeconfig, { mode: 0o600 });
    try {
      const { stdout } = await run(kubectlPath!, ['--kubeconfig', file, '--cache-dir', join(dir, 'cache'), ...args], { env: { ...process.env, HOME: dir } });
      return stdout;
    } catch (error) {
      throw new Error(`kubectl ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
    }
  }

  it('gets, creates, restarts and lists like a real cluster', async () => {
    const namespaces = JSON.parse(await kubectl('get', 'namespaces', '-o', 'json')) as { kind: string; items: { metadata: { name: string } }[] };
    expect(namespaces.kind).toBe('List');
    expect(namespaces.items.map((n) => n.metadata.name)).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public']));
    expect(await kubectl('create', 'namespace', 'from-kubectl')).toContain('namespace/from-kubectl created');
    expect(sandbox.publicState().clusters[clusterId]!.namespaces).toContain('from-kubectl');
    installMigrateController();
    expect(await kubectl('-n', 'kube-system', 'rollout', 'restart', 'deployment/migrate-controller')).toContain('deployment.apps/migrate-controller restarted');
    const deployment = sandbox.account.state.clusters[clusterId]!.objects['apps/v1|Deployment|kube-system|migrate-controller']!;
    expect((deployment.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBeTruthy();
    expect((await kubectl('get', 'secret', '-n', 'kube-system', '-o', 'name')).split('\n')).toContain('secret/sandbox-cluster-admin-token');
  });
});

describe('the serving certificate', () => {
  it('is valid DER for 127.0.0.1 every time (random serials included)', () => {
    for (let i = 0; i < 600; i++) {
      const certificate = new X509Certificate(selfSignedCertificate().certificatePem);
      expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    }
  });
});
