// Every RAM, CS and OSS emulator request of a RAM user or role is decided by RAM's evaluation, and a refusal comes in
// the service's own shape, as the real SDKs read it; the account's own key is never refused; role credentials need
// their security token.
import * as $Cs from '@alicloud/cs20151215';
import * as $Ram from '@alicloud/ram20150501';
import OSS from 'ali-oss';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MANAGED_ROLE_TOKEN_SECRET, readRoleToken } from '../../src/sandbox/kube/addon-token.ts';
import { objectKey } from '../../src/sandbox/kube/objects.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { csClient, failure, ossClient, ramClient, type Keys } from './clients.ts';

let sandbox: Sandbox;
let user: Keys;
beforeAll(async () => {
  sandbox = await startSandbox({ stateDir: null });
  const ram = ramClient(sandbox);
  await ram.createUser(new $Ram.CreateUserRequest({ userName: 'auth-user' }));
  const key = (await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'auth-user' }))).body!.accessKey!;
  user = { accessKeyId: key.accessKeyId!, accessKeySecret: key.accessKeySecret! };
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.requests.clear());

async function grant(name: string, ...statements: object[]) {
  const ram = ramClient(sandbox);
  await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: name, policyDocument: JSON.stringify({ Version: '1', Statement: statements }) }));
  await ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'Custom', policyName: name, userName: 'auth-user' }));
}

describe('RAM', () => {
  it('answers a call the policy does not allow with 403 NoPermission naming the resource and the action', async () => {
    const error = await failure(ramClient(sandbox, user).getUser(new $Ram.GetUserRequest({ userName: 'auth-user' })));
    expect(error).toMatchObject({ code: 'NoPermission', statusCode: 403 });
    expect(error.message).toContain(`You are not authorized to do this action. Resource: acs:ram:*:${sandbox.account.state.accountId}:user/auth-user Action: ram:GetUser`);
    expect((error as { accessDeniedDetail?: unknown }).accessDeniedDetail).toMatchObject({
      AuthAction: 'ram:GetUser', AuthPrincipalType: 'SubUser', NoPermissionType: 'ImplicitDeny', AuthPrincipalOwnerId: sandbox.account.state.accountId,
    });
    expect(sandbox.requests.entries).toEqual([expect.objectContaining({ service: 'ram', action: 'ram:GetUser', principal: 'user/auth-user', allowed: false })]);
  });

  it('allows what the attached policy allows, on the resources it names', async () => {
    await grant('auth-ram', { Effect: 'Allow', Action: 'ram:GetUser', Resource: 'acs:ram:*:*:user/auth-*' });
    expect((await ramClient(sandbox, user).getUser(new $Ram.GetUserRequest({ userName: 'auth-user' }))).body?.user?.userName).toBe('auth-user');
    expect(await failure(ramClient(sandbox, user).getUser(new $Ram.GetUserRequest({ userName: 'backup-setup-bot' })))).toMatchObject({ code: 'NoPermission' });
  });

  it('needs both the user and the policy allowed to attach', async () => {
    await grant('auth-attach', { Effect: 'Allow', Action: 'ram:AttachPolicyToUser', Resource: 'acs:ram:*:*:user/auth-user' });
    const error = await failure(ramClient(sandbox, user).attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'Custom', policyName: 'auth-attach', userName: 'auth-user' })));
    expect(error.message).toContain('policy/auth-attach Action: ram:AttachPolicyToUser');
  });

  it("never refuses the account's own key", async () => {
    await ramClient(sandbox).getUser(new $Ram.GetUserRequest({ userName: 'auth-user' }));
    expect(sandbox.requests.entries).toEqual([expect.objectContaining({ principal: 'account', allowed: true })]);
  });
});

describe('CS', () => {
  it('answers 403 StatusForbidden "RAM policy Forbidden for action cs:…" with accessDeniedDetail', async () => {
    const error = await failure(csClient(sandbox, user).describeClusterDetail('c-sandbox-managed'));
    expect(error).toMatchObject({ code: 'StatusForbidden', statusCode: 403 });
    expect(error.message).toContain('RAM policy Forbidden for action cs:DescribeClusterDetail');
    expect((error as { accessDeniedDetail?: unknown }).accessDeniedDetail).toMatchObject({ AuthAction: 'cs:DescribeClusterDetail', NoPermissionType: 'ImplicitDeny' });
    expect(sandbox.requests.entries[0]).toMatchObject({ resource: `acs:cs:cn-hangzhou:${sandbox.account.state.accountId}:cluster/c-sandbox-managed` });
  });

  it('authorizes per cluster, and DescribeTaskInfo only with Resource "*" (it has no resource-level permission)', async () => {
    await grant('auth-cs', { Effect: 'Allow', Action: ['cs:DescribeClusterDetail', 'cs:InstallClusterAddons', 'cs:DescribeTaskInfo'], Resource: 'acs:cs:*:*:cluster/c-sandbox-managed' });
    const cs = csClient(sandbox, user);
    expect((await cs.describeClusterDetail('c-sandbox-managed')).body?.clusterId).toBe('c-sandbox-managed');
    expect(await failure(cs.describeClusterDetail('c-sandbox-dedicated'))).toMatchObject({ code: 'StatusForbidden' });
    const task = (await cs.installClusterAddons('c-sandbox-managed', new $Cs.InstallClusterAddonsRequest({ body: [new $Cs.InstallClusterAddonsRequestBody({ name: 'migrate-controller' })] }))).body!.taskId!;
    expect(await failure(cs.describeTaskInfo(task))).toMatchObject({ code: 'StatusForbidden' });
  });
});

describe('OSS', () => {
  it('answers 403 AccessDenied with the EC ali-oss reads', async () => {
    const client = ossClient(sandbox, 'oss-cn-hangzhou', user) as unknown as { request(params: object): Promise<unknown> };
    const error = await failure(client.request({ method: 'GET', bucket: 'cnfs-oss-sandbox-backups', query: { 'list-type': 2 }, successStatuses: [200] })) as unknown as {
      code: string; status: number; ecCode: string; message: string;
    };
    expect(error).toMatchObject({ code: 'AccessDenied', status: 403, ecCode: '0003-00000001', message: 'You have no right to access this object because of bucket acl.' });
  });

  it('puts AccessDeniedDetail, EC and RecommendDoc in the XML body, and the EC in x-oss-ec', async () => {
    // Taking 403 as a success status hands over the raw answer.
    const client = ossClient(sandbox, 'oss-cn-hangzhou', user) as unknown as { request(params: object): Promise<{ data: Buffer; res: { headers: Record<string, string> } }> };
    const answer = await client.request({ method: 'PUT', bucket: 'cnfs-oss-sandbox-backups', object: 'probe.txt', content: Buffer.from('x'), successStatuses: [403] });
    const body = String(answer.data);
    expect(body).toMatch(/<Code>AccessDenied<\/Code>/);
    expect(body).toMatch(/<AccessDeniedDetail><PolicyType>AccountLevelIdentityBasedPolicy<\/PolicyType><AuthPrincipalOwnerId>\d+<\/AuthPrincipalOwnerId><AuthPrincipalType>SubUser<\/AuthPrincipalType><AuthPrincipalDisplayName>\d+<\/AuthPrincipalDisplayName><NoPermissionType>ImplicitDeny<\/NoPermissionType><AuthAction>oss:PutObject<\/AuthAction><\/AccessDeniedDetail>/);
    expect(body).toMatch(/<EC>0003-00000001<\/EC><RecommendDoc>https:\/\/api\.aliyun\.com\/troubleshoot\?q=0003-00000001<\/RecommendDoc>/);
    expect(answer.res.headers['x-oss-ec']).toBe('0003-00000001');
  });

  it('says ExplicitDeny (EC 0003-00000201) when a Deny statement refused it, and refuses a HEAD in x-oss-err', async () => {
    await grant('auth-oss', { Effect: 'Allow', Action: 'oss:*', Resource: '*' }, { Effect: 'Deny', Action: 'oss:GetObject', Resource: 'acs:oss:*:*:cnfs-oss-sandbox-backups/secret/*' });
    const asUser = new OSS({ endpoint: sandbox.endpoints.oss, region: 'oss-cn-hangzhou', ...user, sldEnable: true, bucket: 'cnfs-oss-sandbox-backups' } as OSS.Options);
    await asUser.put('secret/a.txt', Buffer.from('a'));
    const denied = await failure((asUser as unknown as { getObjectMeta(k: string): Promise<unknown> }).getObjectMeta('secret/a.txt')) as unknown as { code: string; ecCode: string; status: number };
    expect(denied).toMatchObject({ code: 'AccessDenied', status: 403, ecCode: '0003-00000201' });
    expect(await failure(asUser.get('secret/a.txt'))).toMatchObject({ code: 'AccessDenied' });
    await asUser.delete('secret/a.txt');
  });

  it('answers NoSuchBucket before looking at permissions', async () => {
    const client = new OSS({ endpoint: sandbox.endpoints.oss, region: 'oss-cn-hangzhou', ...user, sldEnable: true, bucket: 'cnfs-oss-none' } as OSS.Options);
    expect(await failure(client.put('a.txt', Buffer.from('a')))).toMatchObject({ code: 'NoSuchBucket', status: 404 });
  });
});

describe("a managed cluster's role credentials", () => {
  const role = () => readRoleToken(sandbox.account.state.clusters['c-sandbox-managed']!.objects[objectKey('v1', 'Secret', 'kube-system', MANAGED_ROLE_TOKEN_SECRET)])!;
  const asRole = (bucket: string, token?: string) =>
    new OSS({ endpoint: sandbox.endpoints.oss, region: 'oss-cn-hangzhou', accessKeyId: role().accessKeyId, accessKeySecret: role().accessKeySecret, stsToken: token ?? role().securityToken, sldEnable: true, bucket } as OSS.Options);

  it('are STS credentials in the add-on token Secret, decoded as add-ons decode them', () => {
    expect(role().accessKeyId).toMatch(/^STS\./);
    expect(Date.parse(role().expiration)).toBeGreaterThan(Date.now());
  });

  it('write to cnfs-oss-* buckets, as role/AliyunCSManagedBackupRestoreRole, and nowhere else', async () => {
    await asRole('cnfs-oss-sandbox-backups').put('role/a.txt', Buffer.from('a'));
    expect(sandbox.requests.entries.at(-1)).toMatchObject({ action: 'oss:PutObject', principal: 'role/AliyunCSManagedBackupRestoreRole', allowed: true });
    await ossClient(sandbox).putBucket('team-data-role');
    expect(await failure(asRole('team-data-role').put('role/a.txt', Buffer.from('a')))).toMatchObject({ code: 'AccessDenied', status: 403 });
    await asRole('cnfs-oss-sandbox-backups').delete('role/a.txt');
  });

  it('need their own security token, and expire', async () => {
    expect(await failure(asRole('cnfs-oss-sandbox-backups', 'CAISforged').put('a.txt', Buffer.from('a')))).toMatchObject({ code: 'InvalidSecurityToken', status: 403 });
    const id = role().accessKeyId;
    sandbox.account.change((s) => { s.sts!.find((c) => c.accessKeyId === id)!.expiration = '2020-01-01T00:00:00Z'; });
    const error = await failure(asRole('cnfs-oss-sandbox-backups').put('a.txt', Buffer.from('a')));
    expect(error).toMatchObject({ code: 'InvalidSecurityToken', status: 403 });
    expect(error.message).toContain('expired');
  });
});
