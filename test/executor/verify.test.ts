import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepRequest } from '../../flows/contract.ts';
import { credentialNames } from '../../flows/domain/names.ts';
import { policyDocument } from '../../flows/domain/policy.ts';
import { startHarness, type Harness } from './helpers.ts';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h.close(); });

const clusterId = 'c-sandbox-dedicated';
const { userName, policyName } = credentialNames('dedicated', clusterId);
const bucket = 'cnfs-oss-sandbox-backups';

describe('verify', () => {
  it('lists the failing requirements of a dedicated cluster, then passes after the setup', async () => {
    const before = await h.executor.verify(clusterId);
    const failing = before.checks.filter((c) => c.status === 'fail');
    expect(failing.map((c) => c.requirement)).toEqual(expect.arrayContaining([
      'migrate-controller installed and current', `RAM user ${userName}`, `Policy ${policyName} attached to ${userName}`,
      `Secret csdr/alibaba-addon-secret holds an Active AccessKey of ${userName}`, 'A backup vault',
    ]));
    for (const check of failing) expect(check.fix).toBeTruthy();
    expect(before.checks.find((c) => c.requirement === 'Kubernetes 1.18 or later')?.status).toBe('pass');
    expect(before.checks.find((c) => c.requirement.startsWith('Cloud Backup authorized'))?.status).toBe('n/a');

    const steps: StepRequest[] = [
      { step: 'createRamUser', params: { userName } },
      { step: 'ensurePolicy', params: { policyName, document: policyDocument({ addonVersion: '1.8.7', bucket }) } },
      { step: 'attachPolicy', params: { policyName, userName } },
      { step: 'createNamespace', params: { clusterId, namespace: 'csdr' } },
      { step: 'createAccessKeySecret', params: { clusterId, userName, namespace: 'csdr', secretName: 'alibaba-addon-secret' } },
      { step: 'installAddon', params: { clusterId, addon: 'migrate-controller', version: '1.8.7', installedVersion: null } },
      { step: 'restartMigrateController', params: { clusterId, namespace: 'kube-system', deployment: 'migrate-controller' } },
      { step: 'createBackupVault', params: { clusterId, name: 'sandbox-dedicated-backups', bucket, prefix: '', region: 'cn-hangzhou', network: 'internal' } },
    ];
    for (const step of steps) await h.executor.apply(step);

    const after = await h.executor.verify(clusterId);
    expect(after.checks.filter((c) => c.status === 'fail' || c.status === 'warn')).toEqual([]);
    expect(after.checks.find((c) => c.requirement.startsWith('Policy grants ECS snapshot actions'))?.status).toBe('pass');
  });

  it('stops at an unsupported kind', async () => {
    const report = await h.executor.verify('c-sandbox-serverless-basic');
    expect(report.checks).toEqual([expect.objectContaining({ status: 'fail', requirement: 'A cluster kind the backup center supports' })]);
  });

  it('flags FlexVolume and an old Kubernetes', async () => {
    expect((await h.executor.verify('c-sandbox-flexvolume')).checks.find((c) => c.requirement.startsWith('CSI'))?.status).toBe('fail');
    expect((await h.executor.verify('c-sandbox-old')).checks.find((c) => c.requirement === 'Kubernetes 1.18 or later')?.status).toBe('fail');
  });

  it('checks the managed role token and the API Gateway role in Ulanqab', async () => {
    const report = await h.executor.verify('c-sandbox-ulanqab');
    expect(report.checks.find((c) => c.requirement === 'AliyunCSManagedBackupRestoreRole authorized')?.status).toBe('fail');
    expect(report.checks.find((c) => c.requirement === 'Cloud Backup authorized to use API Gateway')?.status).toBe('fail');
  });
});
