// The executor's testBackup step against the sandbox (its emulated migrate-controller does the backup).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StepRequest } from '../../flows/contract.ts';
import { credentialNames } from '../../flows/domain/names.ts';
import { backupVaultName } from '../../flows/domain/vault.ts';
import { policyDocument } from '../../flows/domain/policy.ts';
import { StepError } from '../../src/executor/contract.ts';
import { LAST_TEST_ANNOTATION } from '../../src/executor/test-backup-record.ts';
import { addObject } from '../../src/sandbox/kube/objects.ts';
import { failure, startHarness, type Harness } from './helpers.ts';

const clusterId = 'c-sandbox-dedicated';
const { userName, policyName } = credentialNames('dedicated', clusterId);
const bucket = 'cnfs-oss-sandbox-backups';
const vault = backupVaultName({ name: 'sandbox-dedicated', clusterId });
const test = (backupName: string, force = false): Extract<StepRequest, { step: 'testBackup' }> =>
  ({ step: 'testBackup', params: { clusterId, vault, namespace: 'kube-public', backupName, force } });

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  const steps: StepRequest[] = [
    { step: 'createRamUser', params: { userName } },
    { step: 'ensurePolicy', params: { policyName, document: policyDocument({ addonVersion: '1.8.7', bucket }) } },
    { step: 'attachPolicy', params: { policyName, userName } },
    { step: 'createNamespace', params: { clusterId, namespace: 'csdr' } },
    { step: 'createAccessKeySecret', params: { clusterId, userName, namespace: 'csdr', secretName: 'alibaba-addon-secret' } },
    { step: 'installAddon', params: { clusterId, addon: 'migrate-controller', version: '1.8.7', installedVersion: null } },
    { step: 'createBackupVault', params: { clusterId, name: vault, bucket, prefix: 'team', region: 'cn-hangzhou', network: 'internal' } },
  ];
  for (const step of steps) await h.executor.apply(step);
});
afterEach(() => h.close());

const objects = () => Object.keys(h.sandbox.account.state.oss.objects?.[bucket] ?? {});
const cluster = () => h.sandbox.account.state.clusters[clusterId]!;

describe('testBackup', () => {
  it('previews what it does and with which credentials, runs, reports progress, removes itself and records the pass', async () => {
    const preview = await h.executor.preview(test('t-1'));
    expect(preview.upToDate).toBe(false);
    expect(preview.changes[0]).toMatch(new RegExp(`^back up namespace \`kube-public\` \\(read only, no volume data\\) as ApplicationBackup csdr/t-1 into vault ${vault}: migrate-controller writes its files to oss://${bucket}/team/backups/t-1/ with its own credentials \\(Secret csdr/alibaba-addon-secret \\(AccessKey LTAI\\w+\\)\\)$`));

    const progress: string[] = [];
    const outcome = await h.executor.apply(test('t-1'), { progress: (text) => progress.push(text) });
    expect(outcome).toMatchObject({ step: 'testBackup', outcome: 'created' });
    expect(outcome.detail).toMatch(new RegExp(`^Test backup of \`kube-public\`: 12 objects \\([\\d.]+ KB\\) written to oss://${bucket}/team/backups/t-1/ in \\d+ s, then removed$`));
    expect(progress[0]).toMatch(/^ApplicationBackup `csdr\/t-1` of the test backup: (New|InProgress|Completed)$/);
    expect(progress).toContain('ApplicationBackup `csdr/t-1` of the test backup: Completed');
    expect(progress).toContainEqual(expect.stringMatching(/^The test backup wrote 12 objects .* removing it$/));
    expect(progress.at(-1)).toBe('DeleteRequest `csdr/t-1-dbr` of the test backup: Completed');
    expect(objects()).toEqual([]);

    const record = JSON.parse(Object.values(cluster().objects).find((o) => o.kind === 'BackupLocation')!.metadata.annotations![LAST_TEST_ANNOTATION]!);
    expect(record).toMatchObject({ backup: 't-1', namespace: 'kube-public', objects: 12, configuration: { policy: expect.stringMatching(new RegExp(`^${policyName} \\(\\d+ grants apply to bucket ${bucket}, fingerprint \\w{8}\\)$`)), vault: `${bucket}/team in cn-hangzhou (internal network)` } });

    // The same configuration is not tested again, unless asked for.
    const again = await h.executor.preview(test('t-2'));
    expect(again).toMatchObject({ upToDate: true, changes: [expect.stringMatching(/^Test backup of kube-public passed at \S+ with this configuration \(12 objects written to oss:\/\/.+\/t-1\/, then removed\); not run again$/)] });
    expect((await h.executor.preview(test('t-2', true))).upToDate).toBe(false);
  });

  it("tests the vault the setup's vault step kept or made, whatever its name", async () => {
    // The planned name points elsewhere (a vault cannot be modified), so the vault step made `<name>-2`.
    const target = { bucket, prefix: '', region: 'cn-hangzhou', network: 'internal' as const };
    await h.executor.apply({ step: 'createBackupVault', params: { clusterId, name: vault, ...target } });
    expect(Object.values(cluster().objects).filter((o) => o.kind === 'BackupLocation').map((o) => o.metadata.name).sort()).toEqual([vault, `${vault}-2`]);
    const preview = await h.executor.preview({ ...test('t-7'), params: { ...test('t-7').params, target } });
    expect(preview.changes[0]).toContain(`into vault ${vault}-2: migrate-controller writes its files to oss://${bucket}/backups/t-7/`);
    // Nothing pointing there: said plainly.
    const nowhere = { ...target, prefix: 'nowhere' };
    const error = await failure<StepError>(h.executor.preview({ ...test('t-8'), params: { ...test('t-8').params, target: nowhere } }));
    expect(error).toMatchObject({ code: 'NoBackupVault', message: expect.stringContaining(`points at bucket ${bucket}/nowhere (cn-hangzhou, internal network)`) });
  });

  it('carries on after a restart that came once the removal was asked for', async () => {
    await h.executor.apply(test('t-3'));
    // As if the bot had died after creating the DeleteRequest: the backup is gone, the request is there.
    h.sandbox.account.change((s) => addObject(s.clusters[clusterId]!, {
      apiVersion: 'csdr.alibabacloud.com/v1beta1', kind: 'DeleteRequest',
      metadata: { name: 't-4-dbr', namespace: 'csdr', annotations: { 'backup-setup/test-result': JSON.stringify({ objects: 12, bytes: 3000, seconds: 1 }) } },
      spec: { deleteObjectName: 't-4', deleteObjectType: 'Backup' }, status: { phase: 'Completed' },
    }));
    const outcome = await h.executor.apply(test('t-4'));
    expect(outcome.detail).toMatch(/^Test backup of `kube-public`: 12 objects \(2\.9 KB\) written to .*\/t-4\/ in 1 s, then removed$/);
    expect(Object.values(cluster().objects).filter((o) => o.kind === 'ApplicationBackup')).toEqual([]);
  });

  it("fails with the component's error and the policy update as the fix when OSS refused the upload", async () => {
    h.sandbox.account.change((s) => {
      const policy = s.ram.policies.find((p) => p.name === policyName)!;
      const document = JSON.parse(policy.versions[0]!.document) as { Statement: { Action: string[] }[] };
      for (const statement of document.Statement) statement.Action = statement.Action.filter((a) => a !== 'oss:PutObject');
      policy.versions[0]!.document = JSON.stringify(document);
    });
    const error = await failure<StepError>(h.executor.apply(test('t-5')));
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ code: 'TestBackupFailed', remedy: 'updatePolicy' });
    expect(error.message).toContain(`Likely fix: the policy \`${policyName}\` lacks \`oss:PutObject\` on \`acs:oss:*:*:${bucket}/*\`; approve the policy update.`);
    expect(error.message).not.toMatch(new RegExp(h.sandbox.account.state.ram.accessKeys.map((k) => k.secret).join('|')));
  });

  it('fails with a fix to try when the AccessKey in the Secret was deleted', async () => {
    const id = h.sandbox.account.state.ram.accessKeys.find((k) => k.user === userName)!.id;
    h.sandbox.account.change((s) => { s.ram.accessKeys = s.ram.accessKeys.filter((k) => k.id !== id); });
    const error = await failure<StepError>(h.executor.apply(test('t-6')));
    expect(error).toMatchObject({ code: 'TestBackupFailed', remedy: 'fixAndRetry' });
    expect(error.message).toContain('ErrorCode=InvalidAccessKeyId');
    expect(error.message).toContain(`the AccessKey in Secret csdr/alibaba-addon-secret (AccessKey ${id}) is not valid`);
  });
});
