import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as $Cs from '@alicloud/cs20151215';
import { parse } from 'yaml';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { csClient, failure } from './clients.ts';

let sandbox: Sandbox;
let cs: ReturnType<typeof csClient>;
beforeAll(async () => {
  sandbox = await startSandbox({ stateDir: null });
  cs = csClient(sandbox);
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.faults.cs.clear());

const install = (clusterId: string, addons: { name: string; version?: string; config?: string }[]) =>
  cs.installClusterAddons(clusterId, new $Cs.InstallClusterAddonsRequest({ body: addons.map((a) => new $Cs.InstallClusterAddonsRequestBody(a)) }));
const upgrade = (clusterId: string, addons: { componentName: string; nextVersion: string; version?: string }[]) =>
  cs.upgradeClusterAddons(clusterId, new $Cs.UpgradeClusterAddonsRequest({ body: addons.map((a) => new $Cs.UpgradeClusterAddonsRequestBody(a)) }));
const taskState = async (taskId: string) => (await cs.describeTaskInfo(taskId)).body?.state;
/** Polls DescribeTaskInfo until the task ends (at most ten polls) and returns its final state. */
const finished = async (taskId: string) => {
  for (let poll = 0; poll < 10; poll++) {
    const state = await taskState(taskId);
    if (state !== 'running') return state;
  }
  throw new Error(`task ${taskId} still running after ten polls`);
};
const addonsOf = async (clusterId: string) => (await cs.listClusterAddonInstances(clusterId)).body?.addons?.map((a) => ({ name: a.name, version: a.version, state: a.state }));

describe('CS clusters', () => {
  it.each([
    ['c-sandbox-managed', 'ManagedKubernetes', 'Default', 'ack.pro.small', 'cn-hangzhou', '1.31.1-aliyun.1'],
    ['c-sandbox-serverless-pro', 'ManagedKubernetes', 'Serverless', 'ack.pro.small', 'cn-hangzhou', expect.any(String)],
    ['c-sandbox-serverless-basic', 'ManagedKubernetes', 'Serverless', 'ack.standard', 'cn-hangzhou', expect.any(String)],
    ['c-sandbox-edge', 'ManagedKubernetes', 'Edge', 'ack.pro.small', 'cn-hangzhou', expect.any(String)],
    ['c-sandbox-dedicated', 'Kubernetes', expect.any(String), expect.any(String), 'cn-hangzhou', '1.28.9-aliyun.1'],
    ['c-sandbox-registered', 'ExternalKubernetes', expect.any(String), expect.any(String), 'cn-hangzhou', expect.stringMatching(/^1\.30\./)],
    ['c-sandbox-flexvolume', 'Kubernetes', expect.any(String), expect.any(String), 'cn-hangzhou', expect.any(String)],
    ['c-sandbox-old', 'ManagedKubernetes', 'Default', expect.any(String), 'cn-hangzhou', '1.16.9-aliyun.1'],
    ['c-sandbox-ulanqab', 'ManagedKubernetes', 'Default', expect.any(String), 'cn-wulanchabu', expect.any(String)],
  ])('describes %s', async (id, type, profile, spec, region, version) => {
    const detail = await cs.describeClusterDetail(id);
    expect(detail.body).toMatchObject({ clusterId: id, clusterType: type, profile, clusterSpec: spec, regionId: region, currentVersion: version, state: 'running' });
  });

  it('answers ErrorClusterNotFound (404) for an unknown cluster', async () => {
    const error = await failure(cs.describeClusterDetail('c-nope'));
    expect(error).toMatchObject({ name: 'ClientError', code: 'ErrorClusterNotFound', statusCode: 404 });
    expect(error.data).toMatchObject({ code: 'ErrorClusterNotFound', requestId: expect.any(String) });
    expect(await failure(cs.listClusterAddonInstances('c-nope'))).toMatchObject({ code: 'ErrorClusterNotFound' });
  });

  it('lists clusters with filters and paging', async () => {
    const all = await cs.describeClustersV1(new $Cs.DescribeClustersV1Request({ pageSize: 100 }));
    expect(all.body?.pageInfo?.totalCount).toBe(10);
    const dedicated = await cs.describeClustersV1(new $Cs.DescribeClustersV1Request({ clusterType: 'Kubernetes' }));
    expect(dedicated.body?.clusters?.map((c) => c.clusterId).sort()).toEqual(['c-sandbox-dedicated', 'c-sandbox-flexvolume']);
    const ulanqab = await cs.describeClustersV1(new $Cs.DescribeClustersV1Request({ regionId: 'cn-wulanchabu' }));
    expect(ulanqab.body?.clusters?.map((c) => c.clusterId)).toEqual(['c-sandbox-ulanqab']);
    const page = await cs.describeClustersV1(new $Cs.DescribeClustersV1Request({ pageSize: 2, pageNumber: 2 }));
    expect(page.body?.clusters).toHaveLength(2);
    expect(page.body?.pageInfo).toMatchObject({ pageNumber: 2, pageSize: 2, totalCount: 10 });
    expect(await failure(cs.describeClustersV1(new $Cs.DescribeClustersV1Request({ pageSize: 500 })))).toMatchObject({ code: 'InvalidParameter', statusCode: 400 });
  });

  it('returns a kubeconfig that points at the Kubernetes emulator', async () => {
    const answer = await cs.describeClusterUserKubeconfig('c-sandbox-dedicated', new $Cs.DescribeClusterUserKubeconfigRequest({}));
    const kubeconfig = parse(answer.body!.config!) as { clusters: { cluster: { server: string } }[] };
    expect(kubeconfig.clusters[0]!.cluster.server.startsWith(sandbox.endpoints.kube)).toBe(true);
    expect(Date.parse(answer.body!.expiration!)).toBeGreaterThan(Date.now());
    const tooShort = await failure(cs.describeClusterUserKubeconfig('c-sandbox-dedicated', new $Cs.DescribeClusterUserKubeconfigRequest({ temporaryDurationMinutes: 5 })));
    expect(tooShort.code).toBe('InvalidParameter');
  });
});

describe('CS add-ons', () => {
  it('ListClusterAddonInstances and GetClusterAddonInstance report what is installed', async () => {
    expect(await addonsOf('c-sandbox-flexvolume')).toEqual([expect.objectContaining({ name: 'flexvolume', state: 'active' })]);
    expect(await addonsOf('c-sandbox-dedicated')).toEqual([expect.objectContaining({ name: 'csi-plugin' })]);
    const instance = await cs.getClusterAddonInstance('c-sandbox-edge', 'migrate-controller');
    expect(instance.body).toMatchObject({ name: 'migrate-controller', version: '1.7.6', state: 'active' });
    expect(await failure(cs.getClusterAddonInstance('c-sandbox-managed', 'migrate-controller'))).toMatchObject({ code: 'AddonNotFound', statusCode: 404 });
  });

  it('ListAddons offers the versions that can be installed, for a cluster or for a full cluster description', async () => {
    const offered = await cs.listAddons(new $Cs.ListAddonsRequest({ clusterId: 'c-sandbox-dedicated' }));
    expect(offered.body?.addons).toContainEqual(expect.objectContaining({ name: 'migrate-controller', version: '1.8.7', category: 'storage' }));
    const described = await cs.listAddons(new $Cs.ListAddonsRequest({
      regionId: 'cn-hangzhou', clusterType: 'ManagedKubernetes', profile: 'Default', clusterSpec: 'ack.pro.small', clusterVersion: '1.31.1-aliyun.1',
    }));
    expect(described.body?.addons?.map((a) => a.name)).toContain('migrate-controller');
    expect(await failure(cs.listAddons(new $Cs.ListAddonsRequest({ regionId: 'cn-hangzhou', clusterType: 'ManagedKubernetes' })))).toMatchObject({ code: 'InvalidParameter', statusCode: 400 });
    expect(await failure(cs.listAddons(new $Cs.ListAddonsRequest({ clusterId: 'c-nope' })))).toMatchObject({ code: 'ErrorClusterNotFound', statusCode: 404 });
  });

  it('DescribeClusterAddonsVersion (deprecated) lists installed add-ons only: no installable version for an absent add-on', async () => {
    const dedicated = (await cs.describeClusterAddonsVersion('c-sandbox-dedicated')).body as Record<string, Record<string, unknown>>;
    expect(Object.keys(dedicated)).toEqual(['csi-plugin']);
    // What the bot used to read as "the latest version" is simply absent on a cluster without migrate-controller.
    expect(dedicated['migrate-controller']?.next_version ?? '').toBe('');
    const edge = (await cs.describeClusterAddonsVersion('c-sandbox-edge')).body as Record<string, Record<string, unknown>>;
    expect(edge['migrate-controller']).toMatchObject({ component_name: 'migrate-controller', version: '1.7.6', next_version: '1.8.7', can_upgrade: true, exist: true });
  });

  it('tells the public and the internal API server endpoints apart; a private-only cluster gives no public kubeconfig', async () => {
    const masterUrl = (await cs.describeClusterDetail('c-sandbox-managed')).body?.masterUrl ?? '';
    expect(JSON.parse(masterUrl)).toMatchObject({ api_server_endpoint: expect.stringMatching(/^https:/), intranet_api_server_endpoint: expect.stringMatching(/^https:/) });
    sandbox.account.change((s) => { s.clusters['c-sandbox-old']!.apiServerPublic = false; });
    expect(JSON.parse((await cs.describeClusterDetail('c-sandbox-old')).body?.masterUrl ?? '{}')).not.toHaveProperty('api_server_endpoint');
    expect(await failure(cs.describeClusterUserKubeconfig('c-sandbox-old', new $Cs.DescribeClusterUserKubeconfigRequest({})))).toMatchObject({ statusCode: 400 });
    const internal = await cs.describeClusterUserKubeconfig('c-sandbox-old', new $Cs.DescribeClusterUserKubeconfigRequest({ privateIpAddress: true }));
    expect(internal.body?.config).toContain('server:');
    sandbox.account.change((s) => { delete s.clusters['c-sandbox-old']!.apiServerPublic; });
  });

  it('installs asynchronously: the task runs for a few polls, then the add-on and its objects exist', async () => {
    const started = await install('c-sandbox-dedicated', [{ name: 'migrate-controller', version: '1.8.7' }]);
    expect(started.body).toMatchObject({ clusterId: 'c-sandbox-dedicated', taskId: expect.stringMatching(/^T-/), requestId: expect.any(String) });
    const taskId = started.body!.taskId!;
    expect(await addonsOf('c-sandbox-dedicated')).not.toContainEqual(expect.objectContaining({ name: 'migrate-controller' }));
    const again = await failure(install('c-sandbox-dedicated', [{ name: 'migrate-controller' }]));
    expect(again).toMatchObject({ code: 'ErrorClusterState', statusCode: 400 });

    expect(await taskState(taskId)).toBe('running');
    expect(await taskState(taskId)).toBe('running');
    const done = await cs.describeTaskInfo(taskId);
    expect(done.body).toMatchObject({ state: 'success', taskType: 'cluster_addon_install', target: { id: 'c-sandbox-dedicated', type: 'cluster' } });
    expect(await taskState(taskId)).toBe('success');
    expect(await addonsOf('c-sandbox-dedicated')).toContainEqual({ name: 'migrate-controller', version: '1.8.7', state: 'active' });
    expect(sandbox.publicState().clusters['c-sandbox-dedicated']!.namespaces).toContain('csdr');

    const installed = await failure(install('c-sandbox-dedicated', [{ name: 'migrate-controller' }]));
    expect(installed).toMatchObject({ code: 'AddonAlreadyInstalled', statusCode: 400 });
  });

  it('validates the install body', async () => {
    expect(await failure(install('c-sandbox-managed', []))).toMatchObject({ code: 'InvalidParameter', statusCode: 400 });
    const unknown = await failure(install('c-sandbox-managed', [{ name: 'backup-magic' }]));
    expect(unknown).toMatchObject({ code: 'InvalidParameter' });
    expect(unknown.message).toContain('backup-magic');
    const tooNew = await failure(install('c-sandbox-managed', [{ name: 'migrate-controller', version: '9.9.9' }]));
    expect(tooNew.message).toContain('1.8.7');
    const badConfig = await failure(install('c-sandbox-managed', [{ name: 'migrate-controller', config: '{not json' }]));
    expect(badConfig.message).toContain('config');
    expect(await failure(install('c-nope', [{ name: 'migrate-controller' }]))).toMatchObject({ code: 'ErrorClusterNotFound', statusCode: 404 });
    expect(Object.values(sandbox.account.state.tasks).filter((t) => t.clusterId === 'c-sandbox-managed')).toEqual([]);
  });

  it('upgrades an installed add-on: upgrading while the task runs, the new version after', async () => {
    expect(await failure(upgrade('c-sandbox-edge', [{ componentName: 'migrate-controller', nextVersion: '1.7.6' }]))).toMatchObject({ code: 'InvalidParameter' });
    expect(await failure(upgrade('c-sandbox-managed', [{ componentName: 'migrate-controller', nextVersion: '1.8.7' }]))).toMatchObject({ code: 'AddonNotFound' });
    expect(await failure(upgrade('c-sandbox-edge', [{ componentName: 'migrate-controller', nextVersion: '1.8.7', version: '1.7.0' }]))).toMatchObject({
      code: 'InvalidParameter',
    });

    const started = await upgrade('c-sandbox-edge', [{ componentName: 'migrate-controller', nextVersion: '1.8.7', version: '1.7.6' }]);
    const taskId = started.body!.taskId!;
    expect(await addonsOf('c-sandbox-edge')).toContainEqual({ name: 'migrate-controller', version: '1.7.6', state: 'upgrading' });
    expect(await finished(taskId)).toBe('success');
    expect(await addonsOf('c-sandbox-edge')).toContainEqual({ name: 'migrate-controller', version: '1.8.7', state: 'active' });
    expect((await cs.getClusterAddonInstance('c-sandbox-edge', 'migrate-controller')).body).toMatchObject({ version: '1.8.7', state: 'active' });
  });

  it('answers ErrorTaskNotFound for an unknown task', async () => {
    expect(await failure(cs.describeTaskInfo('T-nope'))).toMatchObject({ code: 'ErrorTaskNotFound', statusCode: 404 });
  });
});

describe('CS signatures and faults', () => {
  it('refuses a wrong secret and an unknown AccessKey id', async () => {
    const wrong = csClient(sandbox, { accessKeyId: sandbox.credentials.accessKeyId, accessKeySecret: 'wrong-secret' });
    expect(await failure(wrong.describeClusterDetail('c-sandbox-managed'))).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 400 });
    const unknown = csClient(sandbox, { accessKeyId: 'LTAI' + '1'.repeat(20), accessKeySecret: 'x' });
    expect(await failure(unknown.describeClusterDetail('c-sandbox-managed'))).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', statusCode: 404 });
  });

  it('throttles and fails as the SDK sees it live', async () => {
    sandbox.faults.cs.add({ operation: 'DescribeClusterDetail', fault: { kind: 'throttle' }, times: 1 });
    expect(await failure(cs.describeClusterDetail('c-sandbox-managed'))).toMatchObject({ name: 'ThrottlingError', code: 'Throttling.User' });
    sandbox.faults.cs.add({ operation: 'InstallClusterAddons', fault: { kind: 'error5xx', status: 500 }, times: 1 });
    expect(await failure(install('c-sandbox-registered', [{ name: 'migrate-controller' }]))).toMatchObject({ name: 'ServerError', statusCode: 500 });
    expect(Object.values(sandbox.account.state.tasks).filter((t) => t.clusterId === 'c-sandbox-registered')).toEqual([]);
    expect((await cs.describeClusterDetail('c-sandbox-managed')).body?.clusterId).toBe('c-sandbox-managed');
  });

  it('can make an add-on task fail with a given error', async () => {
    sandbox.faults.cs.add({ operation: 'InstallClusterAddonsTask', fault: { kind: 'error', status: 400, code: 'AddonInstallFailed', message: 'image pull failed' } });
    const taskId = (await install('c-sandbox-serverless-pro', [{ name: 'migrate-controller' }])).body!.taskId!;
    expect(await finished(taskId)).toBe('fail');
    const failed = await cs.describeTaskInfo(taskId);
    expect(failed.body).toMatchObject({ state: 'fail', error: { code: 'AddonInstallFailed', message: 'image pull failed' } });
    expect(await addonsOf('c-sandbox-serverless-pro')).toEqual([]);
  });
});

describe('CS UnInstallClusterAddons (how a person removes the add-on behind the bot\'s back)', () => {
  it('removes the add-on and its Deployment, keeps the vaults, and answers AddonNotFound for one not installed', async () => {
    const own = await startSandbox({ stateDir: null });
    try {
      const client = csClient(own);
      const uninstall = (name: string) => client.unInstallClusterAddons('c-sandbox-edge', new $Cs.UnInstallClusterAddonsRequest({ addons: [new $Cs.UnInstallClusterAddonsRequestAddons({ name })] }));
      const answered = await uninstall('migrate-controller');
      expect(answered.body).toMatchObject({ clusterId: 'c-sandbox-edge', taskId: expect.stringMatching(/^T-/) });
      expect(own.publicState().clusters['c-sandbox-edge']!.addons.map((a) => a.name)).not.toContain('migrate-controller');
      expect(own.account.state.clusters['c-sandbox-edge']!.objects['apps/v1|Deployment|kube-system|migrate-controller']).toBeUndefined();
      expect(await failure(uninstall('migrate-controller'))).toMatchObject({ code: 'AddonNotFound', statusCode: 404 });
    } finally {
      await own.close();
    }
  });
});
