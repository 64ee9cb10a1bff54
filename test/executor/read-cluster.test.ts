import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepError } from '../../src/executor/contract.ts';
import { failure, startHarness, type Harness } from './helpers.ts';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h.close(); });

const SEED_BUCKET = { name: 'cnfs-oss-sandbox-backups', region: 'cn-hangzhou' };

describe('readCluster', () => {
  it.each([
    ['c-sandbox-managed', { clusterType: 'ManagedKubernetes', profile: 'Default', clusterSpec: 'ack.pro.small', storagePlugin: 'csi', installed: null, managedRoleAuthorized: true }],
    ['c-sandbox-serverless-pro', { clusterType: 'ManagedKubernetes', profile: 'Serverless', clusterSpec: 'ack.pro.small', storagePlugin: 'none', installed: null, managedRoleAuthorized: true }],
    ['c-sandbox-serverless-basic', { clusterType: 'ManagedKubernetes', profile: 'Serverless', clusterSpec: 'ack.standard', storagePlugin: 'none', installed: null, managedRoleAuthorized: null }],
    ['c-sandbox-edge', { clusterType: 'ManagedKubernetes', profile: 'Edge', clusterSpec: 'ack.pro.small', storagePlugin: 'csi', installed: '1.7.6', managedRoleAuthorized: true }],
    ['c-sandbox-dedicated', { clusterType: 'Kubernetes', profile: 'Default', clusterSpec: '', storagePlugin: 'csi', installed: null, managedRoleAuthorized: null }],
    ['c-sandbox-registered', { clusterType: 'ExternalKubernetes', profile: 'Default', clusterSpec: '', storagePlugin: 'none', installed: null, managedRoleAuthorized: null }],
    ['c-sandbox-flexvolume', { clusterType: 'Kubernetes', profile: 'Default', clusterSpec: '', storagePlugin: 'flexvolume', installed: null, managedRoleAuthorized: null }],
    ['c-sandbox-old', { clusterType: 'ManagedKubernetes', profile: 'Default', clusterSpec: 'ack.pro.small', storagePlugin: 'csi', installed: null, managedRoleAuthorized: true }],
  ] as const)('%s', async (clusterId, expected) => {
    const facts = await h.executor.readCluster(clusterId);
    const seeded = h.sandbox.account.state.clusters[clusterId]!;
    expect(facts).toMatchObject({
      clusterId, name: seeded.name, region: 'cn-hangzhou',
      clusterType: expected.clusterType, profile: expected.profile, clusterSpec: expected.clusterSpec,
      kubernetesVersion: seeded.version, storagePlugin: expected.storagePlugin,
      addon: { installedVersion: expected.installed, latestVersion: h.sandbox.account.state.latestAddonVersions['migrate-controller'] },
      managedRoleAuthorized: expected.managedRoleAuthorized, apiGatewayAuthorized: null,
    });
    expect(facts.buckets).toContainEqual(SEED_BUCKET);
  });

  it('c-sandbox-ulanqab: role token missing, API Gateway role checked (missing, then present)', async () => {
    const facts = await h.executor.readCluster('c-sandbox-ulanqab');
    expect(facts).toMatchObject({ region: 'cn-wulanchabu', managedRoleAuthorized: false, apiGatewayAuthorized: false, storagePlugin: 'csi' });
    h.sandbox.account.change((s) => { s.ram.roles.push({ name: 'AliyunServiceRoleForHbrMagpieBridge', createDate: new Date().toISOString() }); });
    expect((await h.executor.readCluster('c-sandbox-ulanqab')).apiGatewayAuthorized).toBe(true);
  });

  it('explains a cluster that does not exist', async () => {
    const error = await failure<StepError>(h.executor.readCluster('c-does-not-exist'));
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ step: 'readCluster', code: 'ClusterNotFound' });
    // Nothing near it: where it was looked for, and what to check.
    expect(error.message).toMatch(/^Cluster `c-does-not-exist` was not found in cn-hangzhou(, [a-z0-9-]+)*: the account has \d+ cluster\(s\) there; check the id in the ACK console\.$/);
  });

  it('lists the clusters of a region', async () => {
    const ids = await h.executor.listClusters('cn-hangzhou');
    const expected = Object.values(h.sandbox.account.state.clusters).filter((c) => c.region === 'cn-hangzhou').map((c) => c.id);
    expect(ids.sort()).toEqual(expected.sort());
    expect(ids).not.toContain('c-sandbox-ulanqab');
  });
});
