// A Fix of drift (src/watch/): the flow's answers come from the vault as it was, and only the drifted steps are
// planned, each still previewed and approved, with a test backup at the end that runs even when one is recorded.
import { describe, expect, it } from 'vitest';
import { initialContext } from '../../flows/blocks/context.ts';
import { accessKeyPlan, managedPlan } from '../../flows/plans.ts';
import { facts, REQUESTER, SESSION } from './harness.ts';

const dedicated = facts({ clusterId: 'c-test-dedicated', clusterType: 'Kubernetes', profile: '', clusterSpec: '', addon: { installedVersion: '1.8.7', latestVersion: '1.8.7' }, buckets: [{ name: 'cnfs-oss-b', region: 'cn-hangzhou' }] });

describe('a Fix plans only what drifted', () => {
  it('answers the bucket questions with the vault\'s bucket and region', () => {
    const context = initialContext({ sessionId: SESSION, requester: REQUESTER, facts: dedicated, repair: { steps: ['createBackupVault'], bucket: 'cnfs-oss-b', region: 'cn-hangzhou' } });
    expect(context).toMatchObject({ bucket: 'cnfs-oss-b', region: 'cn-hangzhou', bucketScope: 'bucket', repair: { steps: ['createBackupVault'] } });
    expect(initialContext({ sessionId: SESSION, requester: REQUESTER, facts: dedicated })).toMatchObject({ bucket: null, region: null, repair: null });
  });

  it('keeps the drifted steps and the test backup (forced), and the restart with a new Secret', () => {
    const context = initialContext({ sessionId: SESSION, requester: REQUESTER, facts: dedicated, repair: { steps: ['createNamespace', 'createAccessKeySecret'], bucket: 'cnfs-oss-b', region: 'cn-hangzhou' } });
    const plan = accessKeyPlan(context, 'dedicated');
    expect(plan.steps.map((s) => s.request.step)).toEqual(['createNamespace', 'createAccessKeySecret', 'restartMigrateController', 'testBackup']);
    expect(plan.steps.at(-1)!.request.params).toMatchObject({ force: true, target: { bucket: 'cnfs-oss-b', region: 'cn-hangzhou' } });
    // The same cluster set up from scratch plans every step, and a recorded test is not repeated.
    const setup = accessKeyPlan({ ...context, repair: null }, 'dedicated');
    expect(setup.steps.map((s) => s.request.step)).toEqual(['createRamUser', 'ensurePolicy', 'attachPolicy', 'createNamespace', 'createAccessKeySecret', 'restartMigrateController', 'createBackupVault', 'testBackup']);
    expect(setup.steps.at(-1)!.request.params).toMatchObject({ force: false });
  });

  it('on a managed cluster with a cnfs-oss- bucket, a deleted vault is the whole plan', () => {
    const managed = facts({ addon: { installedVersion: '1.8.7', latestVersion: '1.8.7' }, buckets: [{ name: 'cnfs-oss-b', region: 'cn-hangzhou' }] });
    const context = initialContext({ sessionId: SESSION, requester: REQUESTER, facts: managed, repair: { steps: ['createBackupVault'], bucket: 'cnfs-oss-b', region: 'cn-hangzhou' } });
    expect(managedPlan(context).steps.map((s) => s.request.step)).toEqual(['createBackupVault', 'testBackup']);
  });
});
