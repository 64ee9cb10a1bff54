// The executor against rules of the real services that the emulators now model (issue 12): timeouts and writes
// that land although their answer is lost, PutBucket by the owner, a policy shared by several clusters, add-on
// discovery through ListAddons / ListClusterAddonInstances, private-only API servers.
import { afterEach, describe, expect, it } from 'vitest';
import { CreateUserRequest } from '@alicloud/ram20150501';
import { policyDocument } from '../../flows/domain/policy.ts';
import { runtime } from '../../src/executor/clients.ts';
import { StepError } from '../../src/executor/contract.ts';
import { failure, startHarness, type Harness } from './helpers.ts';

let h: Harness;
afterEach(async () => { await h?.close(); });

const calls = (plan: { calls: string[] }, operation: string) => plan.calls.filter((c) => c === operation).length;
const dedicatedPolicy = 'ack-backup-c-sandbox-dedicated-migrate-controller';
const ensure = (document = policyDocument({ addonVersion: '1.8.7', bucket: 'cnfs-oss-a' }), shared = false) =>
  ({ step: 'ensurePolicy' as const, params: { policyName: dedicatedPolicy, document, shared } });

describe('HTTP timeouts per operation', () => {
  it('a CreatePolicy that takes 3.5 s completes the step (the SDK default of 3 s would have failed it)', async () => {
    h = await startHarness();
    h.sandbox.faults.ram.add({ operation: 'CreatePolicy', fault: { kind: 'latency', ms: 3_500 }, times: 1 });
    expect(await h.executor.apply(ensure())).toMatchObject({ outcome: 'created' });
    expect(calls(h.sandbox.faults.ram, 'CreatePolicy')).toBe(1);
  });

  it('after a write times out, reads whether it landed before trying again: created once, reported as created', async () => {
    h = await startHarness({ timeouts: { write: 300 } });
    h.sandbox.faults.ram.add({ operation: 'CreatePolicy', fault: { kind: 'slowAnswer', ms: 800 }, times: 1 });
    expect(await h.executor.apply(ensure())).toMatchObject({ outcome: 'created' });
    expect(calls(h.sandbox.faults.ram, 'CreatePolicy')).toBe(1);
    expect(h.sandbox.publicState().ram.policies.filter((p) => p.name === dedicatedPolicy).map((p) => p.versions)).toEqual([['v1']]);
  });

  it('a timed-out CreateUser that did not land is sent again', async () => {
    h = await startHarness({ timeouts: { write: 300 } });
    h.sandbox.faults.ram.add({ operation: 'CreateUser', fault: { kind: 'drop' }, times: 1 });
    expect(await h.executor.apply({ step: 'createRamUser', params: { userName: 'ack-backup-c-x' } })).toMatchObject({ outcome: 'created' });
    expect(calls(h.sandbox.faults.ram, 'CreateUser')).toBe(2);
  });

  it('a timed-out CreateAccessKey that landed: its key (whose secret never came) is deleted, and a new one is made and stored', async () => {
    h = await startHarness({ timeouts: { write: 300 } });
    const userName = 'ack-backup-c-sandbox-dedicated';
    await h.clients.ram.createUserWithOptions(new CreateUserRequest({ userName }), runtime());
    await h.executor.apply({ step: 'createNamespace', params: { clusterId: 'c-sandbox-dedicated', namespace: 'csdr' } });
    h.sandbox.faults.ram.add({ operation: 'CreateAccessKey', fault: { kind: 'slowAnswer', ms: 800 }, times: 1 });
    const outcome = await h.executor.apply({ step: 'createAccessKeySecret', params: { clusterId: 'c-sandbox-dedicated', userName, namespace: 'csdr', secretName: 'alibaba-addon-secret' } });
    expect(outcome).toMatchObject({ outcome: 'created' });
    expect(calls(h.sandbox.faults.ram, 'CreateAccessKey')).toBe(2);
    const keys = h.sandbox.account.state.ram.accessKeys.filter((k) => k.user === userName);
    expect(keys).toHaveLength(1);
    expect(outcome.detail).toContain(keys[0]!.id);
    expect(await h.store.listAccessKeyCreations(userName)).toEqual([]);
  });

  it("does not claim a key that appeared while another cluster was creating one for the same user", async () => {
    h = await startHarness({ timeouts: { write: 300 } });
    const userName = 'ack-one-user-csandboxre';
    await h.clients.ram.createUserWithOptions(new CreateUserRequest({ userName }), runtime());
    await h.store.beginAccessKeyCreation(userName, 'c-sandbox-registered-2', []);
    h.sandbox.faults.ram.add({ operation: 'CreateAccessKey', fault: { kind: 'slowAnswer', ms: 800 }, times: 1 });
    const error = await failure<StepError>(h.executor.apply({ step: 'createAccessKeySecret', params: { clusterId: 'c-sandbox-registered', userName, namespace: 'kube-system', secretName: 'alibaba-addon-secret', shared: true } }));
    const [landed] = h.sandbox.account.state.ram.accessKeys.filter((k) => k.user === userName);
    expect(error).toMatchObject({ code: 'AccessKeyOutcomeUnknown' });
    expect(error.message).toContain(`RAM now shows AccessKey ${landed!.id}`);
    expect(h.sandbox.account.state.ram.accessKeys.filter((k) => k.user === userName)).toHaveLength(1);
  });

  it('an add-on install whose answer times out starts one task only and is waited for', async () => {
    h = await startHarness({ timeouts: { addonChange: 300 } });
    h.sandbox.faults.cs.add({ operation: 'InstallClusterAddons', fault: { kind: 'slowAnswer', ms: 800 }, times: 1 });
    const request = { step: 'installAddon' as const, params: { clusterId: 'c-sandbox-dedicated', addon: 'migrate-controller', version: '1.8.7', installedVersion: null } };
    expect(await h.executor.apply(request)).toMatchObject({ step: 'installAddon' });
    expect(Object.values(h.sandbox.account.state.tasks).filter((t) => t.clusterId === 'c-sandbox-dedicated')).toHaveLength(1);
    expect(h.sandbox.publicState().clusters['c-sandbox-dedicated']!.addons).toContainEqual({ name: 'migrate-controller', version: '1.8.7' });
  });
});

describe('createBucket: PutBucket by the owner answers 200 and re-applies settings', () => {
  it('reads first: an existing bucket is reported already present and its settings are never overwritten', async () => {
    h = await startHarness();
    h.sandbox.account.change((s) => { s.oss.buckets.push({ name: 'cnfs-oss-team', region: 'cn-hangzhou', createdAt: new Date().toISOString(), storageClass: 'IA', acl: 'public-read' }); });
    const request = { step: 'createBucket' as const, params: { bucket: 'cnfs-oss-team', region: 'cn-hangzhou' } };
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'already present' });
    expect(calls(h.sandbox.faults.oss, 'PutBucket')).toBe(0);
    expect(h.sandbox.account.state.oss.buckets.find((b) => b.name === 'cnfs-oss-team')).toMatchObject({ storageClass: 'IA', acl: 'public-read' });
  });

  it('a retry after creating reports "already present", not "created" again', async () => {
    h = await startHarness();
    const request = { step: 'createBucket' as const, params: { bucket: 'cnfs-oss-fresh', region: 'cn-hangzhou' } };
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'created' });
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'already present' });
    expect(calls(h.sandbox.faults.oss, 'PutBucket')).toBe(1);
  });

  it("a name another account holds: a clear refusal, nothing created", async () => {
    h = await startHarness();
    h.sandbox.account.change((s) => { s.oss.foreignBuckets = ['cnfs-oss-taken']; });
    const error = await failure<StepError>(h.executor.apply({ step: 'createBucket', params: { bucket: 'cnfs-oss-taken', region: 'cn-hangzhou' } }));
    expect(error).toMatchObject({ code: 'BucketAlreadyExists', message: expect.stringContaining('taken by another Alibaba Cloud account') });
  });

  it('the region is full (100 buckets): says so, per region', async () => {
    h = await startHarness();
    h.sandbox.account.change((s) => {
      for (let i = 0; i < 99; i++) s.oss.buckets.push({ name: `bucket-${i}`, region: 'cn-hangzhou', createdAt: new Date().toISOString(), storageClass: 'Standard', acl: 'private' });
    });
    const error = await failure<StepError>(h.executor.apply({ step: 'createBucket', params: { bucket: 'cnfs-oss-one-more', region: 'cn-hangzhou' } }));
    expect(error).toMatchObject({ code: 'TooManyBuckets', message: expect.stringContaining('100 per region') });
    expect(await h.executor.apply({ step: 'createBucket', params: { bucket: 'cnfs-oss-one-more', region: 'cn-shanghai' } })).toMatchObject({ outcome: 'created' });
  });
});

describe('ensurePolicy on a policy shared by several clusters', () => {
  it('a new version keeps every bucket already granted (the union), and the preview says which are kept', async () => {
    h = await startHarness();
    await h.executor.apply(ensure(policyDocument({ addonVersion: '1.8.7', bucket: 'cnfs-oss-a' }), true));
    const second = ensure(policyDocument({ addonVersion: '1.8.7', bucket: 'cnfs-oss-b' }), true);
    const preview = await h.executor.preview(second);
    expect(preview.changes).toContain("keeps access to bucket `cnfs-oss-a`: the policy is shared by the account's registered clusters and another cluster may use it");
    expect(preview.changes.join('\n')).toContain('adds Allow on `acs:oss:*:*:cnfs-oss-b`');
    expect(preview.changes.join('\n')).not.toContain('removes');
    expect(await h.executor.apply(second)).toMatchObject({ outcome: 'updated', detail: expect.stringContaining('kept `cnfs-oss-a`') });
    const document = h.sandbox.publicState().ram.policies.find((p) => p.name === dedicatedPolicy)!.document as { Statement: { Resource: string | string[] }[] };
    const resources = document.Statement.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
    expect(resources).toEqual(expect.arrayContaining(['acs:oss:*:*:cnfs-oss-a', 'acs:oss:*:*:cnfs-oss-a/*', 'acs:oss:*:*:cnfs-oss-b', 'acs:oss:*:*:cnfs-oss-b/*']));
    // Running the first cluster's step again changes nothing: its bucket is still there.
    expect(await h.executor.apply(ensure(policyDocument({ addonVersion: '1.8.7', bucket: 'cnfs-oss-a' }), true))).toMatchObject({ outcome: 'already present' });
  });

  it("a policy not shared (one cluster's) still gets exactly its document", async () => {
    h = await startHarness();
    await h.executor.apply(ensure(policyDocument({ addonVersion: '1.8.7', bucket: 'cnfs-oss-a' })));
    expect((await h.executor.preview(ensure(policyDocument({ addonVersion: '1.8.7', bucket: 'cnfs-oss-b' })))).changes.join('\n')).toContain('removes Allow on `acs:oss:*:*:cnfs-oss-a`');
  });
});

describe('add-on discovery', () => {
  it('a cluster without migrate-controller gets the installable version from ListAddons, and never reads DescribeClusterAddonsVersion', async () => {
    h = await startHarness();
    const facts = await h.executor.readCluster('c-sandbox-registered-2');
    expect(facts.addon).toEqual({ installedVersion: null, latestVersion: '1.8.7' });
    expect(calls(h.sandbox.faults.cs, 'ListAddons')).toBe(1);
    expect(calls(h.sandbox.faults.cs, 'ListClusterAddonInstances')).toBe(1);
    expect(calls(h.sandbox.faults.cs, 'DescribeClusterAddonsVersion')).toBe(0);
  });

  it('FlexVolume comes from the installed add-ons only', async () => {
    h = await startHarness();
    expect((await h.executor.readCluster('c-sandbox-flexvolume')).storagePlugin).toBe('flexvolume');
    // flexvolume can be installed anywhere (ListAddons offers it), which says nothing about this cluster.
    expect((await h.executor.readCluster('c-sandbox-dedicated')).storagePlugin).toBe('csi');
  });
});

describe('a private-only API server', () => {
  it('gets the internal kubeconfig (PrivateIpAddress=true) instead of failing on the public one', async () => {
    h = await startHarness();
    h.sandbox.account.change((s) => { s.clusters['c-sandbox-dedicated']!.apiServerPublic = false; });
    expect(await h.executor.apply({ step: 'createNamespace', params: { clusterId: 'c-sandbox-dedicated', namespace: 'csdr' } })).toMatchObject({ outcome: 'created' });
  });
});
