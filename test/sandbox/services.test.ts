// The service-activation emulator (src/sandbox/services.ts) as the real SDKs see it: the codes a service that is off
// answers, activation, and the RAM evaluation of every call.
import Ecs, { DescribeSnapshotsRequest, OpenSnapshotServiceRequest } from '@alicloud/ecs20140526';
import OpenApi, { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $dara from '@darabonba/typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureBotIdentity } from '../../src/sandbox/bot-identity.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { ossClient, type Keys } from './clients.ts';

function cjsDefault<T>(module: { default: T }): T {
  return ((module as { default?: T }).default ?? module) as T;
}
const EcsClient = cjsDefault(Ecs);
const OpenApiClient = cjsDefault(OpenApi);

let sandbox: Sandbox;
beforeEach(async () => { sandbox = await startSandbox(); });
afterEach(async () => { await sandbox.close(); });

const config = (endpoint: string, keys: Keys, regionId = 'cn-hangzhou') => new $OpenApiUtil.Config({ ...keys, endpoint, protocol: 'http', regionId });
const ecs = (keys: Keys = sandbox.credentials) => new EcsClient(config(sandbox.endpoints.ecs, keys));
const rpc = (action: string, version: string, query: Record<string, string> = {}, keys: Keys = sandbox.credentials) =>
  new OpenApiClient(config(sandbox.endpoints.hbr, keys)).callApi(
    new $OpenApiUtil.Params({ action, version, protocol: 'HTTPS', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' }),
    new $OpenApiUtil.OpenApiRequest({ query }),
    new $dara.RuntimeOptions({}),
  );
const rejection = async (call: Promise<unknown>) => call.then(() => { throw new Error('expected a refusal'); }, (error: { code?: string; statusCode?: number; message?: string }) => error);

describe('service activation emulator', () => {
  it('the snapshot service is off in cn-wulanchabu (seeded): 403 InvalidAccountStatus.SnapshotServiceUnavailable until OpenSnapshotService', async () => {
    const off = await rejection(ecs().describeSnapshotsWithOptions(new DescribeSnapshotsRequest({ regionId: 'cn-wulanchabu', pageSize: 1 }), new $dara.RuntimeOptions({})));
    expect(off).toMatchObject({ code: 'InvalidAccountStatus.SnapshotServiceUnavailable', statusCode: 403 });
    expect(off.message).toContain('Snapshot service has not been opened yet.');
    expect((await ecs().describeSnapshotsWithOptions(new DescribeSnapshotsRequest({ regionId: 'cn-hangzhou', pageSize: 1 }), new $dara.RuntimeOptions({}))).body?.totalCount).toBe(0);
    await ecs().openSnapshotServiceWithOptions(new OpenSnapshotServiceRequest({ regionId: 'cn-wulanchabu' }), new $dara.RuntimeOptions({}));
    expect((await ecs().describeSnapshotsWithOptions(new DescribeSnapshotsRequest({ regionId: 'cn-wulanchabu', pageSize: 1 }), new $dara.RuntimeOptions({}))).statusCode).toBe(200);
  });

  it('Cloud Backup: DescribeVaults refused while off; OpenHbrService opens it once, then answers ORDER.OPEND', async () => {
    sandbox.account.change((s) => { s.services = { cloudBackupOff: true }; });
    expect(await rejection(rpc('DescribeVaults', '2017-09-08', { VaultRegionId: 'cn-hangzhou' }))).toMatchObject({ code: 'ServiceNotActivated', statusCode: 403 });
    expect((await rpc('OpenHbrService', '2017-09-08')).body).toMatchObject({ OrderId: expect.stringMatching(/^\d+$/) });
    expect((await rpc('DescribeVaults', '2017-09-08', { VaultRegionId: 'cn-hangzhou' })).body).toMatchObject({ Success: true, TotalCount: 0 });
    expect(await rejection(rpc('OpenHbrService', '2017-09-08'))).toMatchObject({ code: 'ORDER.OPEND' });
  });

  it('OSS off: every OSS call answers 403 UserDisable; OpenOssService opens it, then answers ORDER.OPEND', async () => {
    sandbox.account.change((s) => { s.services = { ossOff: true }; });
    expect(await rejection(ossClient(sandbox).listBuckets({}))).toMatchObject({ code: 'UserDisable', status: 403 });
    await rpc('OpenOssService', '2019-04-22');
    expect(await ossClient(sandbox).listBuckets({})).toBeTruthy();
    expect(await rejection(rpc('OpenOssService', '2019-04-22'))).toMatchObject({ code: 'ORDER.OPEND' });
  });

  it('RAM decides every call: a RAM user without the action is refused with it named', async () => {
    const keys = sandbox.account.change((s) => ensureBotIdentity(s, JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['ecs:DescribeSnapshots'], Resource: '*' }] })));
    const refused = await rejection(ecs(keys).openSnapshotServiceWithOptions(new OpenSnapshotServiceRequest({ regionId: 'cn-wulanchabu' }), new $dara.RuntimeOptions({})));
    expect(refused).toMatchObject({ code: 'Forbidden.RAM', statusCode: 403 });
    expect(refused.message).toContain('ecs:OpenSnapshotService');
    expect(sandbox.account.state.services?.snapshotOffRegions).toEqual(['cn-wulanchabu']);
    expect(sandbox.requests.entries.at(-1)).toMatchObject({ service: 'ecs', action: 'ecs:OpenSnapshotService', allowed: false });
  });
});
