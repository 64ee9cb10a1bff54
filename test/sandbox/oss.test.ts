import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as $Ram from '@alicloud/ram20150501';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { failure, listBuckets, ossClient, ramClient } from './clients.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ stateDir: null });
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.faults.oss.clear());

describe('OSS buckets', () => {
  it('lists the seeded backup bucket with its region', async () => {
    const listed = await listBuckets(ossClient(sandbox));
    expect(listed.buckets).toContainEqual(expect.objectContaining({ name: 'cnfs-oss-sandbox-backups', region: 'oss-cn-hangzhou', storageClass: 'Standard' }));
    expect(listed.owner.id).toBe(sandbox.account.state.accountId);
  });

  it('creates a bucket in the region of the client and reads it back', async () => {
    const beijing = ossClient(sandbox, 'oss-cn-beijing');
    const created = await beijing.putBucket('cnfs-oss-beijing-1', { storageClass: 'IA' } as never);
    expect(created.bucket).toBe('cnfs-oss-beijing-1');
    const info = await beijing.getBucketInfo('cnfs-oss-beijing-1');
    expect(info.bucket).toMatchObject({ Name: 'cnfs-oss-beijing-1', Location: 'oss-cn-beijing', Region: 'cn-beijing', StorageClass: 'IA', ExtranetEndpoint: 'oss-cn-beijing.aliyuncs.com' });
    expect((await ossClient(sandbox).getBucketLocation('cnfs-oss-beijing-1')).location).toBe('oss-cn-beijing');
    expect(sandbox.publicState().oss.buckets).toContainEqual({ name: 'cnfs-oss-beijing-1', region: 'cn-beijing', objects: 0 });
  });

  it("answers 200 to the owner's PutBucket of an existing bucket and applies the request's ACL and storage class to it", async () => {
    const client = ossClient(sandbox);
    await client.putBucket('cnfs-oss-owned', { acl: 'public-read', storageClass: 'IA' } as never);
    const again = await client.putBucket('cnfs-oss-owned');
    expect(again.res.status).toBe(200);
    const owned = sandbox.account.state.oss.buckets.filter((b) => b.name === 'cnfs-oss-owned');
    expect(owned).toEqual([expect.objectContaining({ acl: 'private', storageClass: 'Standard' })]);
  });

  it("refuses a name another account holds with 409 BucketAlreadyExists, and hides that bucket's details", async () => {
    sandbox.account.change((s) => { s.oss.foreignBuckets = ['cnfs-oss-someone-else']; });
    const error = await failure(ossClient(sandbox).putBucket('cnfs-oss-someone-else'));
    expect(error).toMatchObject({ name: 'BucketAlreadyExistsError', code: 'BucketAlreadyExists', status: 409 });
    expect(await failure(ossClient(sandbox).getBucketInfo('cnfs-oss-someone-else'))).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(sandbox.account.state.oss.buckets.map((b) => b.name)).not.toContain('cnfs-oss-someone-else');
  });

  it('deletes an empty bucket (204) and refuses one that holds objects with 409 BucketNotEmpty', async () => {
    const client = ossClient(sandbox);
    await client.putBucket('cnfs-oss-to-delete');
    await client.useBucket('cnfs-oss-to-delete');
    await client.put('left-behind.txt', Buffer.from('x'));
    const refused = await failure(client.deleteBucket('cnfs-oss-to-delete'));
    expect(refused).toMatchObject({ code: 'BucketNotEmpty', status: 409 });
    await client.delete('left-behind.txt');
    const deleted = (await client.deleteBucket('cnfs-oss-to-delete')) as unknown as { res: { status: number } };
    expect(deleted.res.status).toBe(204);
    expect(sandbox.publicState().oss.buckets.map((b) => b.name)).not.toContain('cnfs-oss-to-delete');
  });

  it('refuses a 101st bucket in one region (TooManyBuckets) but not in another region', async () => {
    const region = 'oss-ap-southeast-1';
    sandbox.account.change((s) => {
      for (let i = 0; i < 100; i++) s.oss.buckets.push({ name: `full-${i}`, region: 'ap-southeast-1', createdAt: new Date().toISOString(), storageClass: 'Standard', acl: 'private' });
    });
    expect(await failure(ossClient(sandbox, region).putBucket('full-100'))).toMatchObject({ code: 'TooManyBuckets', status: 400 });
    await ossClient(sandbox, 'oss-eu-west-1').putBucket('not-full-1');
    sandbox.account.change((s) => { s.oss.buckets = s.oss.buckets.filter((b) => !b.name.startsWith('full-')); });
  });

  it('refuses an invalid bucket name on the wire (ali-oss checks it too)', async () => {
    const client = ossClient(sandbox) as unknown as { request(params: object): Promise<unknown> };
    const error = await failure(client.request({ method: 'PUT', bucket: 'Backups_2024', successStatuses: [200] }));
    expect(error).toMatchObject({ code: 'InvalidBucketName', status: 400 });
    expect(sandbox.account.state.oss.buckets.map((b) => b.name)).not.toContain('Backups_2024');
  });

  it('refuses an unknown ACL', async () => {
    const error = await failure(ossClient(sandbox).putBucket('cnfs-oss-acl', { acl: 'everyone' } as never));
    expect(error).toMatchObject({ code: 'InvalidArgument', status: 400 });
  });

  it('answers NoSuchBucket, and AccessDenied at the wrong region endpoint', async () => {
    expect(await failure(ossClient(sandbox).getBucketInfo('cnfs-oss-missing'))).toMatchObject({ code: 'NoSuchBucket', status: 404 });
    expect(await failure(ossClient(sandbox).getBucketLocation('cnfs-oss-missing'))).toMatchObject({ code: 'NoSuchBucket', status: 404 });
    const elsewhere = await failure(ossClient(sandbox, 'oss-cn-shanghai').getBucketInfo('cnfs-oss-sandbox-backups'));
    expect(elsewhere).toMatchObject({ code: 'AccessDenied', status: 403 });
  });

  it('pages the bucket list', async () => {
    const client = ossClient(sandbox);
    for (const n of [1, 2, 3]) await client.putBucket(`page-bucket-${n}`);
    const first = await listBuckets(client, { prefix: 'page-bucket-', 'max-keys': 2 });
    expect(first.buckets?.map((b) => b.name)).toEqual(['page-bucket-1', 'page-bucket-2']);
    expect(first.isTruncated).toBe(true);
    const rest = await listBuckets(client, { prefix: 'page-bucket-', marker: first.nextMarker });
    expect(rest.buckets?.map((b) => b.name)).toEqual(['page-bucket-3']);
  });
});

describe('OSS signatures', () => {
  it('refuses a wrong secret and an unknown AccessKey id with the OSS XML error', async () => {
    const wrong = ossClient(sandbox, 'oss-cn-hangzhou', { accessKeyId: sandbox.credentials.accessKeyId, accessKeySecret: 'wrong' });
    expect(await failure(listBuckets(wrong))).toMatchObject({ name: 'SignatureDoesNotMatchError', code: 'SignatureDoesNotMatch', status: 403 });
    const unknown = ossClient(sandbox, 'oss-cn-hangzhou', { accessKeyId: 'LTAI' + '2'.repeat(20), accessKeySecret: 'x' });
    expect(await failure(listBuckets(unknown))).toMatchObject({ code: 'InvalidAccessKeyId', status: 403, requestId: expect.any(String) });
  });

  it('accepts V4 signatures and refuses a wrong V4 secret', async () => {
    const v4 = ossClient(sandbox, 'oss-cn-shanghai', sandbox.credentials, true);
    await v4.putBucket('cnfs-oss-v4');
    expect((await v4.getBucketInfo('cnfs-oss-v4')).bucket.Region).toBe('cn-shanghai');
    const wrong = ossClient(sandbox, 'oss-cn-shanghai', { accessKeyId: sandbox.credentials.accessKeyId, accessKeySecret: 'wrong' }, true);
    expect(await failure(wrong.getBucketInfo('cnfs-oss-v4'))).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
  });

  it("accepts a RAM user's AccessKey, for what its policy allows", async () => {
    const ram = ramClient(sandbox);
    await ram.createUser(new $Ram.CreateUserRequest({ userName: 'oss-user' }));
    const key = (await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'oss-user' }))).body!.accessKey!;
    const asUser = ossClient(sandbox, 'oss-cn-hangzhou', { accessKeyId: key.accessKeyId!, accessKeySecret: key.accessKeySecret! });
    expect(await failure(asUser.getBucketLocation('cnfs-oss-sandbox-backups'))).toMatchObject({ code: 'AccessDenied', status: 403 });
    const document = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'oss:GetBucketLocation', Resource: 'acs:oss:*:*:cnfs-oss-sandbox-backups' }] });
    await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'oss-user-location', policyDocument: document }));
    await ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'Custom', policyName: 'oss-user-location', userName: 'oss-user' }));
    expect((await asUser.getBucketLocation('cnfs-oss-sandbox-backups')).location).toBe('oss-cn-hangzhou');
  });
});

describe('OSS faults', () => {
  it('throttles with 503 SlowDown and creates nothing', async () => {
    sandbox.faults.oss.add({ operation: 'PutBucket', fault: { kind: 'throttle' }, times: 1 });
    expect(await failure(ossClient(sandbox).putBucket('cnfs-oss-throttled'))).toMatchObject({ code: 'SlowDown', status: 503 });
    expect(sandbox.account.state.oss.buckets.map((b) => b.name)).not.toContain('cnfs-oss-throttled');
    await ossClient(sandbox).putBucket('cnfs-oss-throttled');
    expect(sandbox.account.state.oss.buckets.map((b) => b.name)).toContain('cnfs-oss-throttled');
  });

  it('answers 5xx', async () => {
    sandbox.faults.oss.add({ operation: 'ListBuckets', fault: { kind: 'error5xx' }, times: 1 });
    expect(await failure(listBuckets(ossClient(sandbox)))).toMatchObject({ code: 'ServiceUnavailable', status: 503 });
  });
});
