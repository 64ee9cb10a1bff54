import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as $Ram from '@alicloud/ram20150501';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { failure, ramClient } from './clients.ts';
import { send, signRamCall } from './signed-request.ts';

const document = (resource = 'acs:oss:*:*:cnfs-oss*') =>
  JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['oss:GetObject', 'oss:PutObject'], Resource: resource }] });

let sandbox: Sandbox;
let ram: ReturnType<typeof ramClient>;
beforeAll(async () => {
  sandbox = await startSandbox({ stateDir: null });
  ram = ramClient(sandbox);
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.faults.ram.clear());

describe('RAM users', () => {
  it('creates, reads, lists and deletes a user', async () => {
    const created = await ram.createUser(new $Ram.CreateUserRequest({ userName: 'ack-one-user-c1', displayName: 'backup (ack one)' }));
    expect(created.body?.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(created.body?.user).toMatchObject({ userName: 'ack-one-user-c1', displayName: 'backup (ack one)' });
    expect(created.body?.user?.userId).toMatch(/^\d{16}$/);

    const read = await ram.getUser(new $Ram.GetUserRequest({ userName: 'ack-one-user-c1' }));
    expect(read.body?.user?.userId).toBe(created.body?.user?.userId);
    const listed = await ram.listUsers(new $Ram.ListUsersRequest({}));
    expect(listed.body?.users?.user?.map((u) => u.userName)).toContain('ack-one-user-c1');

    await ram.deleteUser(new $Ram.DeleteUserRequest({ userName: 'ack-one-user-c1' }));
    const gone = await failure(ram.getUser(new $Ram.GetUserRequest({ userName: 'ack-one-user-c1' })));
    expect(gone).toMatchObject({ name: 'ClientError', code: 'EntityNotExist.User', statusCode: 404 });
  });

  it('refuses a second user of the same name', async () => {
    await ram.createUser(new $Ram.CreateUserRequest({ userName: 'twice.user_1' }));
    const error = await failure(ram.createUser(new $Ram.CreateUserRequest({ userName: 'twice.user_1' })));
    expect(error).toMatchObject({ code: 'EntityAlreadyExists.User', statusCode: 409 });
    expect(error.data).toMatchObject({ Code: 'EntityAlreadyExists.User', HostId: 'ram.aliyuncs.com' });
    expect(error.data?.RequestId).toBeTruthy();
    expect(error.data?.Recommend).toContain('EntityAlreadyExists.User');
  });

  it('refuses user names with characters RAM does not allow (@ is for logon names only) or longer than 64', async () => {
    const at = await failure(ram.createUser(new $Ram.CreateUserRequest({ userName: 'alice@example.onaliyun.com' })));
    expect(at).toMatchObject({ code: 'InvalidParameter.UserName.InvalidChars', statusCode: 400 });
    const long = await failure(ram.createUser(new $Ram.CreateUserRequest({ userName: 'a'.repeat(65) })));
    expect(long).toMatchObject({ code: 'InvalidParameter.UserName.Length', statusCode: 400 });
    await ram.createUser(new $Ram.CreateUserRequest({ userName: `A.b-c_${'d'.repeat(58)}` }));
  });

  it('names a missing required parameter', async () => {
    expect(await failure(ram.createUser(new $Ram.CreateUserRequest({})))).toMatchObject({ code: 'MissingUserName', statusCode: 400 });
    expect((await failure(ram.createUser(new $Ram.CreateUserRequest({})))).message).toContain('UserName is mandatory');
    const noDocument = await failure(ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'p-no-document' })));
    expect(noDocument.code).toBe('MissingPolicyDocument');
    const noType = await failure(ram.getPolicy(new $Ram.GetPolicyRequest({ policyName: 'p-no-document' })));
    expect(noType.code).toBe('MissingPolicyType');
    const noKeyId = await failure(ram.deleteAccessKey(new $Ram.DeleteAccessKeyRequest({})));
    expect(noKeyId.code).toBe('MissingUserAccessKeyId');
  });

  it('applies the user and policy name rules', async () => {
    const spaced = await failure(ram.createUser(new $Ram.CreateUserRequest({ userName: 'backup user' })));
    expect(spaced).toMatchObject({ code: 'InvalidParameter.UserName.InvalidChars', statusCode: 400 });
    const long = await failure(ram.createUser(new $Ram.CreateUserRequest({ userName: 'u'.repeat(65) })));
    expect(long.code).toBe('InvalidParameter.UserName.Length');
    await ram.createUser(new $Ram.CreateUserRequest({ userName: 'u'.repeat(64) }));
    const underscore = await failure(ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'backup_policy', policyDocument: document() })));
    expect(underscore.code).toBe('InvalidParameter.PolicyName.InvalidChars');
    const longPolicy = await failure(ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'p'.repeat(129), policyDocument: document() })));
    expect(longPolicy.code).toBe('InvalidParameter.PolicyName.Length');
  });
});

describe('RAM policies', () => {
  it('refuses a malformed policy document', async () => {
    for (const bad of ['{"Version":"1",', JSON.stringify({ Version: '1', Statement: [{ Effect: 'Maybe', Action: 'oss:*', Resource: '*' }] }), JSON.stringify({ Statement: [] })]) {
      const error = await failure(ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'malformed', policyDocument: bad })));
      expect(error).toMatchObject({ code: 'MalformedPolicyDocument', statusCode: 400 });
    }
    expect(await failure(ram.getPolicy(new $Ram.GetPolicyRequest({ policyName: 'malformed', policyType: 'Custom' })))).toMatchObject({
      code: 'EntityNotExist.Policy',
      statusCode: 404,
    });
  });

  it('creates a policy once and reads its default version', async () => {
    const created = await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'backup-policy', policyDocument: document(), description: 'backup center' }));
    expect(created.body?.policy).toMatchObject({ policyName: 'backup-policy', policyType: 'Custom', defaultVersion: 'v1', description: 'backup center' });
    const again = await failure(ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'backup-policy', policyDocument: document() })));
    expect(again).toMatchObject({ code: 'EntityAlreadyExists.Policy', statusCode: 409 });
    const read = await ram.getPolicy(new $Ram.GetPolicyRequest({ policyName: 'backup-policy', policyType: 'Custom' }));
    expect(read.body?.defaultPolicyVersion).toMatchObject({ versionId: 'v1', isDefaultVersion: true, policyDocument: document() });
    expect(read.body?.policy?.attachmentCount).toBe(0);
  });

  it('keeps at most five versions, rotates on request and protects the default', async () => {
    await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'versioned', policyDocument: document('acs:oss:*:*:v1') }));
    for (const n of [2, 3, 4, 5]) {
      const made = await ram.createPolicyVersion(
        new $Ram.CreatePolicyVersionRequest({ policyName: 'versioned', policyDocument: document(`acs:oss:*:*:v${n}`), setAsDefault: n === 3 }),
      );
      expect(made.body?.policyVersion).toMatchObject({ versionId: `v${n}`, isDefaultVersion: n === 3 });
    }
    const sixth = await failure(ram.createPolicyVersion(new $Ram.CreatePolicyVersionRequest({ policyName: 'versioned', policyDocument: document('acs:oss:*:*:v6') })));
    expect(sixth).toMatchObject({ code: 'LimitExceeded.Policy.Version', statusCode: 409 });

    const rotated = await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'versioned', policyDocument: document('acs:oss:*:*:v6'), setAsDefault: true, rotateStrategy: 'DeleteOldestNonDefaultVersionWhenLimitExceeded',
      }),
    );
    expect(rotated.body?.policyVersion).toMatchObject({ versionId: 'v6', isDefaultVersion: true });
    const versions = await ram.listPolicyVersions(new $Ram.ListPolicyVersionsRequest({ policyName: 'versioned', policyType: 'Custom' }));
    expect(versions.body?.policyVersions?.policyVersion?.map((v) => v.versionId)).toEqual(['v2', 'v3', 'v4', 'v5', 'v6']);

    const deleteDefault = await failure(ram.deletePolicyVersion(new $Ram.DeletePolicyVersionRequest({ policyName: 'versioned', versionId: 'v6' })));
    expect(deleteDefault).toMatchObject({ code: 'DeleteConflict.Policy.Version.Default', statusCode: 409 });
    await ram.setDefaultPolicyVersion(new $Ram.SetDefaultPolicyVersionRequest({ policyName: 'versioned', versionId: 'v2' }));
    await ram.deletePolicyVersion(new $Ram.DeletePolicyVersionRequest({ policyName: 'versioned', versionId: 'v6' }));
    const v2 = await ram.getPolicyVersion(new $Ram.GetPolicyVersionRequest({ policyName: 'versioned', policyType: 'Custom', versionId: 'v2' }));
    expect(v2.body?.policyVersion).toMatchObject({ isDefaultVersion: true, policyDocument: document('acs:oss:*:*:v2') });
    const missing = await failure(ram.getPolicyVersion(new $Ram.GetPolicyVersionRequest({ policyName: 'versioned', policyType: 'Custom', versionId: 'v6' })));
    expect(missing).toMatchObject({ code: 'EntityNotExist.Policy.Version', statusCode: 404 });
    const badStrategy = await failure(
      ram.createPolicyVersion(new $Ram.CreatePolicyVersionRequest({ policyName: 'versioned', policyDocument: document(), rotateStrategy: 'Oldest' })),
    );
    expect(badStrategy.code).toBe('InvalidParameter.RotateStrategy');
  });

  it('attaches a policy to a user exactly once and detaches it', async () => {
    await ram.createUser(new $Ram.CreateUserRequest({ userName: 'attach-user' }));
    await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'attach-policy', policyDocument: document() }));
    const attach = () => ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'Custom', policyName: 'attach-policy', userName: 'attach-user' }));
    await attach();
    expect(await failure(attach())).toMatchObject({ code: 'EntityAlreadyExists.User.Policy', statusCode: 409 });
    const listed = await ram.listPoliciesForUser(new $Ram.ListPoliciesForUserRequest({ userName: 'attach-user' }));
    expect(listed.body?.policies?.policy).toEqual([expect.objectContaining({ policyName: 'attach-policy', policyType: 'Custom', defaultVersion: 'v1' })]);
    expect(await failure(ram.deleteUser(new $Ram.DeleteUserRequest({ userName: 'attach-user' })))).toMatchObject({ code: 'DeleteConflict.User.Policy' });

    const detach = () => ram.detachPolicyFromUser(new $Ram.DetachPolicyFromUserRequest({ policyType: 'Custom', policyName: 'attach-policy', userName: 'attach-user' }));
    await detach();
    expect(await failure(detach())).toMatchObject({ code: 'EntityNotExist.User.Policy', statusCode: 404 });
    const noUser = await failure(ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'Custom', policyName: 'attach-policy', userName: 'nobody' })));
    expect(noUser.code).toBe('EntityNotExist.User');
    const noPolicy = await failure(ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'Custom', policyName: 'nothing', userName: 'attach-user' })));
    expect(noPolicy.code).toBe('EntityNotExist.Policy');
    const badType = await failure(ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'Mine', policyName: 'attach-policy', userName: 'attach-user' })));
    expect(badType.code).toBe('InvalidParameter.PolicyType');
  });
});

describe('RAM access keys', () => {
  it('creates at most two keys per user; a key signs requests until it is deleted', async () => {
    await ram.createUser(new $Ram.CreateUserRequest({ userName: 'key-user' }));
    const first = (await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'key-user' }))).body?.accessKey;
    expect(first).toMatchObject({ status: 'Active', accessKeyId: expect.stringMatching(/^LTAI\w{20}$/), accessKeySecret: expect.stringMatching(/^\w{30}$/) });
    await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'key-user' }));
    const third = await failure(ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'key-user' })));
    expect(third).toMatchObject({ code: 'LimitExceeded.User.AccessKey', statusCode: 409 });

    const listed = await ram.listAccessKeys(new $Ram.ListAccessKeysRequest({ userName: 'key-user' }));
    expect(listed.body?.accessKeys?.accessKey).toHaveLength(2);
    expect(JSON.stringify(listed.body)).not.toContain(first!.accessKeySecret!);

    const asUser = ramClient(sandbox, { accessKeyId: first!.accessKeyId!, accessKeySecret: first!.accessKeySecret! });
    const document = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['ram:GetUser', 'ram:ListAccessKeys'], Resource: 'acs:ram:*:*:user/key-user' }] });
    await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'key-user-self', policyDocument: document }));
    await ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'Custom', policyName: 'key-user-self', userName: 'key-user' }));
    expect((await asUser.getUser(new $Ram.GetUserRequest({ userName: 'key-user' }))).body?.user?.userName).toBe('key-user');
    const own = await asUser.listAccessKeys(new $Ram.ListAccessKeysRequest({}));
    expect(own.body?.accessKeys?.accessKey?.map((k) => k.accessKeyId)).toContain(first!.accessKeyId);

    expect(await failure(ram.deleteUser(new $Ram.DeleteUserRequest({ userName: 'key-user' })))).toMatchObject({ code: 'DeleteConflict.User.AccessKey' });
    await ram.deleteAccessKey(new $Ram.DeleteAccessKeyRequest({ userName: 'key-user', userAccessKeyId: first!.accessKeyId }));
    const refused = await failure(asUser.getUser(new $Ram.GetUserRequest({ userName: 'key-user' })));
    expect(refused).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', statusCode: 404 });
    const again = await failure(ram.deleteAccessKey(new $Ram.DeleteAccessKeyRequest({ userName: 'key-user', userAccessKeyId: first!.accessKeyId })));
    expect(again).toMatchObject({ code: 'EntityNotExist.User.AccessKey', statusCode: 404 });
  });
});

describe('RAM signatures and roles', () => {
  it('refuses a request signed with a wrong secret or an unknown AccessKey id', async () => {
    const wrongSecret = ramClient(sandbox, { accessKeyId: sandbox.credentials.accessKeyId, accessKeySecret: 'not-the-secret' });
    const bad = await failure(wrongSecret.listUsers(new $Ram.ListUsersRequest({})));
    expect(bad).toMatchObject({ name: 'ClientError', code: 'SignatureDoesNotMatch', statusCode: 400 });
    expect(bad.message).not.toContain(sandbox.credentials.accessKeySecret);
    const unknown = ramClient(sandbox, { accessKeyId: 'LTAI' + '0'.repeat(20), accessKeySecret: sandbox.credentials.accessKeySecret });
    expect(await failure(unknown.listUsers(new $Ram.ListUsersRequest({})))).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', statusCode: 404 });
  });

  it('refuses a replayed nonce, an altered parameter and a stale date', async () => {
    const call = signRamCall(sandbox.endpoints.ram, sandbox.credentials, 'ListUsers', { MaxItems: '10' });
    expect((await send(sandbox.endpoints.ram, call)).status).toBe(200);
    expect(await send(sandbox.endpoints.ram, call)).toMatchObject({ status: 400, body: { Code: 'SignatureNonceUsed' } });

    const altered = signRamCall(sandbox.endpoints.ram, sandbox.credentials, 'ListUsers', { MaxItems: '10' });
    expect(await send(sandbox.endpoints.ram, { ...altered, query: { MaxItems: '11' } })).toMatchObject({ status: 400, body: { Code: 'SignatureDoesNotMatch' } });

    const stale = signRamCall(sandbox.endpoints.ram, sandbox.credentials, 'ListUsers', {}, new Date(Date.now() - 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    expect(await send(sandbox.endpoints.ram, stale)).toMatchObject({ status: 400, body: { Code: 'InvalidTimeStamp.Expired' } });

    const unknownAction = signRamCall(sandbox.endpoints.ram, sandbox.credentials, 'CreateServiceLinkedRole', {});
    expect(await send(sandbox.endpoints.ram, unknownAction)).toMatchObject({ status: 404, body: { Code: 'InvalidAction.NotFound' } });
  });

  it('reports the API Gateway service-linked role missing until it exists', async () => {
    const request = new $Ram.GetRoleRequest({ roleName: 'AliyunServiceRoleForHbrMagpieBridge' });
    expect(await failure(ram.getRole(request))).toMatchObject({ code: 'EntityNotExist.Role', statusCode: 404 });
    sandbox.account.change((s) => s.ram.roles.push({ name: 'AliyunServiceRoleForHbrMagpieBridge', createDate: '2026-01-01T00:00:00Z' }));
    const role = await ram.getRole(request);
    expect(role.body?.role).toMatchObject({
      roleName: 'AliyunServiceRoleForHbrMagpieBridge',
      arn: `acs:ram::${sandbox.account.state.accountId}:role/aliyunserviceroleforhbrmagpiebridge`,
    });
  });
});

describe('RAM faults', () => {
  it('throttles as the SDK sees it live, and changes nothing', async () => {
    sandbox.faults.ram.add({ operation: 'CreateUser', fault: { kind: 'throttle' }, times: 1 });
    const throttled = await failure(ram.createUser(new $Ram.CreateUserRequest({ userName: 'throttled-user' })));
    expect(throttled).toMatchObject({ name: 'ThrottlingError', code: 'Throttling.User' });
    expect(sandbox.account.state.ram.users.map((u) => u.name)).not.toContain('throttled-user');
    await ram.createUser(new $Ram.CreateUserRequest({ userName: 'throttled-user' }));
    expect(sandbox.faults.ram.calls.filter((c) => c === 'CreateUser')).toHaveLength(2);
  });

  it('answers 5xx as a ServerError and can drop the connection', async () => {
    sandbox.faults.ram.add({ operation: 'GetUser', fault: { kind: 'error5xx', status: 503 }, times: 1 });
    expect(await failure(ram.getUser(new $Ram.GetUserRequest({ userName: 'any' })))).toMatchObject({ name: 'ServerError', statusCode: 503 });
    sandbox.faults.ram.add({ operation: 'ListUsers', fault: { kind: 'drop' }, times: 1 });
    const dropped = await failure(ram.listUsers(new $Ram.ListUsersRequest({})));
    expect(dropped.message).toMatch(/socket hang up|ECONNRESET/);
  });
});
