// Issue 20: Cloud Backup, OSS and the ECS snapshot service, read through the real SDKs (ECS 2014-05-26, openapi-core's
// generic RPC call for hbr 2017-09-08 and Oss 2019-04-22) against the emulator, as the bot's own RAM user.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StepRequest } from '../../flows/contract.ts';
import { StepError } from '../../src/executor/contract.ts';
import { ensureBotIdentity } from '../../src/sandbox/bot-identity.ts';
import { failure, startHarness, type Harness } from './helpers.ts';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });
afterEach(async () => { await h.close(); });

const activate = (service: 'cloudBackup' | 'oss' | 'snapshot', region = 'cn-hangzhou'): StepRequest => ({
  step: service === 'cloudBackup' ? 'activateCloudBackup' : service === 'oss' ? 'activateOss' : 'activateSnapshot',
  params: { service, region },
});

describe('service prerequisites', () => {
  it('the seeded sandbox: everything on in cn-hangzhou, the snapshot service off in cn-wulanchabu', async () => {
    expect((await h.executor.readCluster('c-sandbox-managed')).services).toEqual({ cloudBackup: 'on', oss: 'on', snapshot: 'on' });
    expect((await h.executor.readCluster('c-sandbox-ulanqab')).services).toEqual({ cloudBackup: 'on', oss: 'on', snapshot: 'off' });
  });

  it('the snapshot service: preview says what activating means, apply opens it in that region only, a second apply finds it on', async () => {
    const preview = await h.executor.preview(activate('snapshot', 'cn-wulanchabu'));
    expect(preview.upToDate).toBe(false);
    expect(preview.changes).toEqual([
      'activate the ECS snapshot service in cn-wulanchabu (OpenSnapshotService): disk volumes are backed up as ECS snapshots',
      'billing: activating it is free; snapshots are then billed by size and retention',
      'activating accepts the service terms and cannot be undone: the service cannot be closed once it is opened',
      'alternative: deny, activate it yourself in the console (https://ecs.console.aliyun.com/#/snapshot) and run the setup again',
    ]);
    expect(h.executor.meta('activateSnapshot')).toMatchObject({ risk: 'high', apis: ['ecs:DescribeSnapshots', 'ecs:OpenSnapshotService'] });
    h.sandbox.account.change((s) => { s.services!.snapshotOffRegions!.push('cn-shanghai'); });
    expect(await h.executor.apply(activate('snapshot', 'cn-wulanchabu'))).toEqual({ step: 'activateSnapshot', outcome: 'created', detail: 'Activated the ECS snapshot service in cn-wulanchabu' });
    expect(h.sandbox.account.state.services?.snapshotOffRegions).toEqual(['cn-shanghai']);
    expect((await h.executor.readCluster('c-sandbox-ulanqab')).services.snapshot).toBe('on');
    expect((await h.executor.preview(activate('snapshot', 'cn-wulanchabu'))).upToDate).toBe(true);
    expect((await h.executor.apply(activate('snapshot', 'cn-wulanchabu'))).outcome).toBe('already present');
  });

  it('OSS off: ListBuckets answers UserDisable, so there are no buckets; OpenOssService turns it on', async () => {
    h.sandbox.account.change((s) => { s.services = { ossOff: true }; });
    const facts = await h.executor.readCluster('c-sandbox-dedicated');
    expect(facts.services.oss).toBe('off');
    expect(facts.buckets).toEqual([]);
    expect((await h.executor.apply(activate('oss'))).detail).toBe('Activated OSS');
    const after = await h.executor.readCluster('c-sandbox-dedicated');
    expect(after.services.oss).toBe('on');
    expect(after.buckets).toContainEqual({ name: 'cnfs-oss-sandbox-backups', region: 'cn-hangzhou' });
  });

  it('Cloud Backup off: DescribeVaults tells it; OpenHbrService opens it; a call that finds it open (ORDER.OPEND) is "already present"', async () => {
    h.sandbox.account.change((s) => { s.services = { cloudBackupOff: true }; });
    expect((await h.executor.readCluster('c-sandbox-managed')).services.cloudBackup).toBe('off');
    expect((await h.executor.apply(activate('cloudBackup'))).outcome).toBe('created');
    expect((await h.executor.readCluster('c-sandbox-managed')).services.cloudBackup).toBe('on');
    expect((await h.executor.apply(activate('cloudBackup'))).detail).toBe('Cloud Backup was already activated');
  });

  it('without the read permission the read fails naming the action to add (a refusal is never taken for "off")', async () => {
    h.sandbox.account.change((s) => {
      ensureBotIdentity(s, JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['cs:*', 'ram:*', 'oss:*', 'ecs:DescribeSnapshots'], Resource: '*' }] }));
    });
    const error = await failure<StepError>(h.executor.readCluster('c-sandbox-managed'));
    expect(error).toBeInstanceOf(StepError);
    expect(error.message).toContain("add `hbr:DescribeVaults` to the bot's RAM policy");
  });
});
