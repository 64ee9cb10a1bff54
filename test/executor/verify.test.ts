import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepRequest } from '../../flows/contract.ts';
import { credentialNames } from '../../flows/domain/names.ts';
import { policyDocument } from '../../flows/domain/policy.ts';
import { backupVaultName } from '../../flows/domain/vault.ts';
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

    // Everything is in place, but nothing has proven yet that migrate-controller can write to the bucket.
    const configured = await h.executor.verify(clusterId);
    expect(configured.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(configured.checks.filter((c) => c.status === 'warn')).toEqual([expect.objectContaining({
      requirement: 'A passed test backup of the current configuration',
      detail: `no test backup is recorded on vault ${backupVaultName({ name: 'sandbox-dedicated', clusterId })}`,
      fix: expect.stringContaining(`/backup-setup verify ${clusterId} --test-backup`),
    })]);

    await h.executor.apply({ step: 'testBackup', params: { clusterId, vault: backupVaultName({ name: 'sandbox-dedicated', clusterId }), namespace: 'kube-public', backupName: 'verify-test-1', force: false } });
    const after = await h.executor.verify(clusterId);
    expect(after.checks.filter((c) => c.status === 'fail' || c.status === 'warn')).toEqual([]);
    expect(after.checks.find((c) => c.requirement.startsWith('Policy grants ECS snapshot actions'))?.status).toBe('pass');
    const tested = after.checks.find((c) => c.requirement === 'A passed test backup of the current configuration')!;
    expect(tested.detail).toMatch(/^passed at \S+ \(kube-public: 12 objects \(.+\) written to oss:\/\/cnfs-oss-sandbox-backups\/backups\/verify-test-1\/ in \d+ s, then removed\); nothing changed since$/);

    // A new version of a shared policy that only adds another cluster's bucket changes nothing for this vault.
    await h.executor.apply({ step: 'ensurePolicy', params: { policyName, shared: true, document: policyDocument({ addonVersion: '1.8.7', bucket: 'cnfs-oss-other-cluster' }) } });
    expect(h.sandbox.account.state.ram.policies.find((p) => p.name === policyName)?.defaultVersion).toBe('v2');
    const stillTested = (await h.executor.verify(clusterId)).checks.find((c) => c.requirement === 'A passed test backup of the current configuration')!;
    expect(stillTested).toMatchObject({ status: 'pass', detail: expect.stringContaining('nothing changed since') });

    // A new policy version that changes what the component may do with this bucket is a configuration the test did not prove.
    await h.executor.apply({ step: 'ensurePolicy', params: { policyName, document: policyDocument({ addonVersion: '1.8.7' }) } });
    const changed = (await h.executor.verify(clusterId)).checks.find((c) => c.requirement === 'A passed test backup of the current configuration')!;
    expect(changed).toMatchObject({ status: 'warn', detail: expect.stringMatching(new RegExp(`but since then policy: ${policyName} \\(\\d+ grants apply to bucket ${bucket}, fingerprint \\w{8}\\) → ${policyName} \\(\\d+ grants apply to bucket ${bucket}, fingerprint \\w{8}\\)`)) });
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

describe('verify: the seed\'s service prerequisites and accuracy (issues 20 and 15)', () => {
  it('checks Cloud Backup, OSS and the snapshot service; the one that is off says how to activate it', async () => {
    const report = await h.executor.verify('c-sandbox-ulanqab');
    const by = (requirement: string) => report.checks.find((c) => c.requirement === requirement);
    expect(by('OSS activated')).toMatchObject({ status: 'pass', detail: 'activated' });
    expect(by('Cloud Backup activated')).toMatchObject({ status: 'pass' });
    expect(by('The ECS snapshot service in cn-wulanchabu activated')).toEqual({
      requirement: 'The ECS snapshot service in cn-wulanchabu activated',
      status: 'fail',
      detail: 'not activated (disk volumes are backed up as ECS snapshots)',
      fix: 'Run /backup-setup: its first step activates it after an approval (activating it is free; snapshots are then billed by size and retention; it cannot be undone), or activate it in the console: https://ecs.console.aliyun.com/#/snapshot',
    });
  });

  it("checks the vault's bucket in the vault's region, not any bucket of that name", async () => {
    const passing = (await h.executor.verify(clusterId)).checks.find((c) => c.requirement.startsWith('An OSS bucket'));
    expect(passing).toMatchObject({ status: 'pass', detail: `${bucket} (cn-hangzhou)` });
    h.sandbox.account.change((s) => { s.oss.buckets.find((b) => b.name === bucket)!.region = 'cn-shanghai'; });
    try {
      const moved = (await h.executor.verify(clusterId)).checks.find((c) => c.requirement.startsWith('An OSS bucket'));
      expect(moved).toMatchObject({ requirement: "An OSS bucket for backups, in the vault's region", status: 'fail', detail: `vault bucket ${bucket} does not exist in cn-hangzhou` });
    } finally {
      h.sandbox.account.change((s) => { s.oss.buckets.find((b) => b.name === bucket)!.region = 'cn-hangzhou'; });
    }
  });

  it('suggests /backup-setup only for a cluster it can set up', async () => {
    const blocked = await h.executor.verify('c-sandbox-flexvolume');
    const fixes = blocked.checks.filter((c) => c.status !== 'pass' && c.fix).map((c) => c.fix!);
    expect(fixes.length).toBeGreaterThan(1);
    // The blocker's own fix says what to do first; no other line sends people to a setup that would refuse the cluster.
    expect(fixes.filter((f) => f.includes('/backup-setup'))).toEqual([]);
    expect(blocked.checks.find((c) => c.requirement === 'A backup vault')?.fix).toBe('Create a backup vault in the ACK console (Backup Center → Backup Vault).');
    const open = await h.executor.verify('c-sandbox-managed');
    expect(open.checks.find((c) => c.requirement === 'A backup vault')?.fix).toMatch(/^Run \/backup-setup/);
  });

  it('an unknown cluster: where it was looked for, and the nearest ids', async () => {
    const { failure } = await import('./helpers.ts');
    const error = await failure<Error & { code: string }>(h.executor.verify('c-sandbox-manged'));
    expect(error.code).toBe('ClusterNotFound');
    expect(error.message).toBe('Cluster `c-sandbox-manged` was not found in cn-hangzhou, cn-wulanchabu; did you mean `c-sandbox-managed`?');
    const far = await failure<Error>(h.executor.verify('c-nothing-like-it'));
    expect(far.message).toMatch(/^Cluster `c-nothing-like-it` was not found in cn-hangzhou, cn-wulanchabu: the account has \d+ cluster\(s\) there; check the id in the ACK console\.$/);
  });
});
