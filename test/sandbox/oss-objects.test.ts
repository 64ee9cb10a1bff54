// The OSS emulator's object operations through ali-oss, as Velero's plugin and the bot use them.
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { failure } from './clients.ts';

let sandbox: Sandbox;
let oss: OSS;
const BUCKET = 'cnfs-oss-sandbox-backups';
beforeAll(async () => {
  sandbox = await startSandbox({ stateDir: null });
  oss = new OSS({ endpoint: sandbox.endpoints.oss, region: 'oss-cn-hangzhou', ...sandbox.credentials, sldEnable: true, bucket: BUCKET } as OSS.Options);
});
afterAll(() => sandbox.close());

type Meta = { getObjectMeta(name: string): Promise<{ status: number; res: { headers: Record<string, string> } }> };
const objects = () => sandbox.publicState().oss.buckets.find((b) => b.name === BUCKET)!.objects;

describe('OSS objects', () => {
  it('puts, gets, heads and deletes an object; /sandbox/state counts it', async () => {
    const headers = (r: { res: { headers: object } }) => r.res.headers as Record<string, string>;
    const put = await oss.put('dir/a.json', Buffer.from('{"a":1}'));
    expect(headers(put).etag).toMatch(/^"[0-9A-F]{32}"$/);
    expect(objects()).toBe(1);
    expect(String((await oss.get('dir/a.json')).content)).toBe('{"a":1}');
    const head = await oss.head('dir/a.json');
    expect(headers(head)['content-length']).toBe('7');
    const meta = await (oss as unknown as Meta).getObjectMeta('dir/a.json');
    expect(meta.res.headers.etag).toBe(headers(put).etag);
    await oss.delete('dir/a.json');
    expect(objects()).toBe(0);
    // Deleting what is not there answers 204 too; reading it is NoSuchKey (HEAD: a bodiless 404).
    expect((await oss.delete('dir/a.json')).res.status).toBe(204);
    expect(await failure(oss.get('dir/a.json'))).toMatchObject({ code: 'NoSuchKey', status: 404 });
    expect(await failure((oss as unknown as Meta).getObjectMeta('dir/a.json'))).toMatchObject({ code: 'NoSuchKey', status: 404 });
  });

  it('refuses a wrong Content-MD5 and a key over 1023 bytes', async () => {
    const client = oss as unknown as { request(params: object): Promise<unknown> };
    const bad = await failure(client.request({ method: 'PUT', bucket: BUCKET, object: 'md5.txt', content: Buffer.from('x'), headers: { 'Content-MD5': 'AAAAAAAAAAAAAAAAAAAAAA==' }, successStatuses: [200] }));
    expect(bad).toMatchObject({ code: 'InvalidDigest', status: 400 });
    expect(await failure(oss.put('k'.repeat(1024), Buffer.from('x')))).toMatchObject({ code: 'InvalidObjectName', status: 400 });
    expect(objects()).toBe(0);
  });

  it('lists with prefix, delimiter and marker (ListObjects), rolling keys up into common prefixes', async () => {
    for (const key of ['v/backups/b1/velero-backup.json', 'v/backups/b1/b1.tar.gz', 'v/backups/b2/velero-backup.json', 'v/restores/r1/x.gz', 'v/top.txt']) {
      await oss.put(key, Buffer.from(key));
    }
    const root = await oss.list({ prefix: 'v/', delimiter: '/', 'max-keys': 50 }, {});
    expect(root.prefixes).toEqual(['v/backups/', 'v/restores/']);
    expect(root.objects?.map((o) => o.name)).toEqual(['v/top.txt']);
    const first = await oss.list({ prefix: 'v/backups/', 'max-keys': 2 }, {});
    expect(first.objects?.map((o) => o.name)).toEqual(['v/backups/b1/b1.tar.gz', 'v/backups/b1/velero-backup.json']);
    expect(first.isTruncated).toBe(true);
    const next = await oss.list({ prefix: 'v/backups/', 'max-keys': 2, marker: first.nextMarker }, {});
    expect(next.objects?.map((o) => o.name)).toEqual(['v/backups/b2/velero-backup.json']);
    expect(next.isTruncated).toBe(false);
  });

  it('lists with continuation tokens (ListObjectsV2) and counts keys', async () => {
    const first = await oss.listV2({ prefix: 'v/backups/', 'max-keys': '2' } as never, {});
    expect(first.keyCount).toBe(2);
    expect(first.isTruncated).toBe(true);
    const next = await oss.listV2({ prefix: 'v/backups/', 'max-keys': '2', 'continuation-token': first.nextContinuationToken } as never, {});
    expect(next.objects.map((o) => o.name)).toEqual(['v/backups/b2/velero-backup.json']);
    expect(await failure(oss.listV2({ 'max-keys': '1001' } as never, {}))).toMatchObject({ code: 'InvalidArgument', status: 400 });
  });

  it("answers at the bucket's own region endpoint only", async () => {
    const elsewhere = new OSS({ endpoint: sandbox.endpoints.oss, region: 'oss-cn-shanghai', ...sandbox.credentials, sldEnable: true, bucket: BUCKET } as OSS.Options);
    expect(await failure(elsewhere.get('v/top.txt'))).toMatchObject({ code: 'AccessDenied', status: 403 });
  });
});
