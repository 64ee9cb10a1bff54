import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as $Ram from '@alicloud/ram20150501';
import * as $Cs from '@alicloud/cs20151215';
import { BOT_POLICY, BOT_POLICY_FILE, BOT_USER } from '../../src/sandbox/bot-identity.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { MANAGED_ROLE_TOKEN_SECRET, readRoleToken } from '../../src/sandbox/kube/addon-token.ts';
import { objectKey } from '../../src/sandbox/kube/objects.ts';
import { seedAccount } from '../../src/sandbox/seed.ts';
import { csClient, failure, listBuckets, ossClient, ramClient } from './clients.ts';

const started: Sandbox[] = [];
const dirs: string[] = [];
async function start(stateDir: string | null): Promise<Sandbox> {
  const sandbox = await startSandbox({ stateDir });
  started.push(sandbox);
  return sandbox;
}
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-state-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('sandbox', () => {
  it('SANDBOX_FLEET=<n> seeds n more managed clusters c-sandbox-fleet-001 … in cn-hangzhou, also into an existing account', async () => {
    const dir = tempDir();
    const first = await startSandbox({ stateDir: dir, fleet: 2 });
    started.push(first);
    const fleet = (s: Sandbox) => Object.entries(s.publicState().clusters).filter(([id]) => id.startsWith('c-sandbox-fleet-'));
    expect(fleet(first).map(([id, c]) => [id, c.type, c.region])).toEqual([
      ['c-sandbox-fleet-001', 'ManagedKubernetes', 'cn-hangzhou'],
      ['c-sandbox-fleet-002', 'ManagedKubernetes', 'cn-hangzhou'],
    ]);
    await first.close();
    started.splice(started.indexOf(first), 1);
    const again = await startSandbox({ stateDir: dir, fleet: 3 });
    started.push(again);
    expect(fleet(again).map(([id]) => id)).toEqual(['c-sandbox-fleet-001', 'c-sandbox-fleet-002', 'c-sandbox-fleet-003']);
    expect(again.publicState().clusters['c-sandbox-managed']).toBeDefined();
  });

  it('starts with the seeded account of the Sandbox contract', async () => {
    const sandbox = await start(null);
    const state = sandbox.publicState();
    expect(Object.keys(state.clusters).sort()).toEqual([
      'c-sandbox-dedicated', 'c-sandbox-edge', 'c-sandbox-flexvolume', 'c-sandbox-managed', 'c-sandbox-old',
      'c-sandbox-registered', 'c-sandbox-registered-2', 'c-sandbox-serverless-basic', 'c-sandbox-serverless-pro', 'c-sandbox-ulanqab',
    ]);
    expect(state.clusters['c-sandbox-ulanqab']).toMatchObject({ type: 'ManagedKubernetes', region: 'cn-wulanchabu' });
    expect(state.clusters['c-sandbox-edge']!.addons).toContainEqual({ name: 'migrate-controller', version: '1.7.6' });
    expect(state.clusters['c-sandbox-flexvolume']!.addons.map((a) => a.name)).toEqual(['flexvolume']);
    expect(state.oss.buckets).toEqual([{ name: 'cnfs-oss-sandbox-backups', region: 'cn-hangzhou', objects: 0 }]);
    // The bot's own identity: a RAM user whose one policy is deploy/bot-ram-policy.json, and its key.
    expect(state.ram).toEqual({
      users: [BOT_USER],
      policies: [{ name: BOT_POLICY, versions: ['v1'], defaultVersion: 'v1', document: JSON.parse(readFileSync(BOT_POLICY_FILE, 'utf8')) }],
      attachments: [{ user: BOT_USER, policy: BOT_POLICY }],
      accessKeys: [{ id: sandbox.botCredentials.accessKeyId, user: BOT_USER }],
    });
    expect(sandbox.botCredentials.accessKeyId).not.toBe(sandbox.credentials.accessKeyId);
    expect(sandbox.account.state.latestAddonVersions['migrate-controller']).toBe('1.8.7');
    expect(sandbox.credentials.accessKeyId).toMatch(/^LTAI\w{20}$/);

    const other = await start(null);
    expect(other.credentials.accessKeyId).not.toBe(sandbox.credentials.accessKeyId);
  });

  it('gives the managed role token to managed clusters except Ulanqab', async () => {
    const { clusters } = (await start(null)).publicState();
    const hasToken = (id: string) => clusters[id]!.secrets.some((s) => s.startsWith('kube-system/') && s.includes('aliyuncsmanagedbackuprestorerole'));
    expect(hasToken('c-sandbox-managed')).toBe(true);
    expect(hasToken('c-sandbox-edge')).toBe(true);
    expect(hasToken('c-sandbox-ulanqab')).toBe(false);
    expect(hasToken('c-sandbox-dedicated')).toBe(false);
  });

  it('never shows a secret in the public state', async () => {
    const sandbox = await start(null);
    const ram = ramClient(sandbox);
    await ram.createUser(new $Ram.CreateUserRequest({ userName: 'ack-one-user-secret' }));
    const key = (await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'ack-one-user-secret' }))).body!.accessKey!;
    const json = JSON.stringify(sandbox.publicState());
    expect(json).toContain(key.accessKeyId!);
    expect(json).not.toContain(key.accessKeySecret!);
    expect(json).not.toContain(sandbox.credentials.accessKeySecret);
    const tokenData = Object.values(sandbox.account.state.clusters)
      .flatMap((c) => Object.values(c.objects))
      .filter((o) => o.kind === 'Secret')
      .flatMap((o) => Object.values((o.data ?? {}) as Record<string, string>));
    for (const value of tokenData) expect(json).not.toContain(value);
  });

  it('brings an account saved by an older sandbox up to date: the bot identity, real role tokens', async () => {
    const dir = tempDir();
    const old = seedAccount();
    old.ram = { users: [], policies: [], attachments: [], accessKeys: [], roles: [] };
    delete old.sts;
    const token = old.clusters['c-sandbox-managed']!.objects[objectKey('v1', 'Secret', 'kube-system', MANAGED_ROLE_TOKEN_SECRET)]!;
    token.data = { 'addon.token.config': Buffer.from(JSON.stringify({ roleName: 'AliyunCSManagedBackupRestoreRole', accessKeyId: 'STS.sandbox-placeholder' })).toString('base64') };
    writeFileSync(join(dir, 'sandbox-account.json'), JSON.stringify(old));

    const sandbox = await start(dir);
    expect(sandbox.publicState().ram.users).toEqual([BOT_USER]);
    const renewed = readRoleToken(sandbox.account.state.clusters['c-sandbox-managed']!.objects[objectKey('v1', 'Secret', 'kube-system', MANAGED_ROLE_TOKEN_SECRET)]);
    expect(renewed?.accessKeyId).toMatch(/^STS\./);
    expect(sandbox.account.state.ram.roles.map((r) => r.name)).toEqual(['AliyunCSManagedBackupRestoreRole']);
    expect(sandbox.account.state.clusters['c-sandbox-ulanqab']!.objects[objectKey('v1', 'Secret', 'kube-system', MANAGED_ROLE_TOKEN_SECRET)]).toBeUndefined();
  });

  it('keeps users, keys, buckets and add-ons across a restart on the same state directory', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const ram = ramClient(first);
    await ram.createUser(new $Ram.CreateUserRequest({ userName: 'ack-one-user-persist' }));
    const key = (await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'ack-one-user-persist' }))).body!.accessKey!;
    await ossClient(first).putBucket('cnfs-oss-persist');
    const cs = csClient(first);
    const taskId = (await cs.installClusterAddons('c-sandbox-registered', new $Cs.InstallClusterAddonsRequest({
      body: [new $Cs.InstallClusterAddonsRequestBody({ name: 'migrate-controller' })],
    }))).body!.taskId!;
    await first.close();
    started.splice(started.indexOf(first), 1);

    const second = await start(dir);
    expect(second.credentials).toEqual(first.credentials);
    expect(second.botCredentials).toEqual(first.botCredentials);
    const users = await ramClient(second).listUsers(new $Ram.ListUsersRequest({}));
    expect(users.body?.users?.user?.map((u) => u.userName)).toEqual([BOT_USER, 'ack-one-user-persist']);
    // The user's key still signs: RAM answers for its (missing) permissions, not for an unknown key.
    const asUser = ramClient(second, { accessKeyId: key.accessKeyId!, accessKeySecret: key.accessKeySecret! });
    expect(await failure(asUser.getUser(new $Ram.GetUserRequest({ userName: 'ack-one-user-persist' })))).toMatchObject({ code: 'NoPermission', statusCode: 403 });
    expect((await listBuckets(ossClient(second))).buckets?.map((b) => b.name)).toContain('cnfs-oss-persist');
    expect((await csClient(second).describeTaskInfo(taskId)).body?.taskId).toBe(taskId);
  });
});
