// Issue 12, end to end through chat, flows, executor, real SDKs and emulators: resources shared by several
// clusters (onectl's registered policy and component user, kube-system/alibaba-addon-secret), the add-on discovered
// through ListAddons on clusters without it, the orphan key of a refused Secret, and the Edge vault network.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT_USER } from '../../src/sandbox/bot-identity.ts';
import { LATEST_MIGRATE_CONTROLLER } from '../../src/sandbox/seed.ts';
import { secretData } from '../support/sandbox-state.ts';
import { COMPLETE, driveToEnd, startTestBot, type TestBot } from '../support/bot-harness.ts';

/** The AccessKeys of the setups' users (the sandbox's bot identity has its own). */
const setupKeys = (t: TestBot) => t.sandbox.publicState().ram.accessKeys.filter((k) => k.user !== BOT_USER);

let t: TestBot;
beforeEach(async () => {
  t = await startTestBot();
});
afterEach(async () => {
  await t.stop();
});

const POLICY = 'ack-one-registered-cluster-policy-migrate-controller';
const USER = 'ack-one-user-csandboxre';

function resourcesOf(document: unknown): string[] {
  const statements = (document as { Statement: { Resource: string | string[] }[] }).Statement;
  return statements.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
}

async function verifyText(clusterId: string): Promise<string> {
  const before = t.chat.replies('text').length;
  await t.command(`/backup-setup verify ${clusterId}`);
  const text = t.chat.replies('text').slice(before).find((r) => r.text.startsWith(`Backup center check of \`${clusterId}\``));
  if (!text) throw new Error(`no verify report for ${clusterId}`);
  return text.text;
}

describe('two registered clusters set up in turn, each on its own bucket', () => {
  it("keeps both buckets granted in onectl's shared policy; the first cluster still verifies all ✅ and keeps its AccessKey", async () => {
    await t.command('/backup-setup c-sandbox-registered');
    expect((await driveToEnd(t, 'c-sandbox-registered', { answers: { bucket: 'cnfs-oss-registered-one' } })).text).toMatch(COMPLETE);
    const firstKey = secretData(t.sandbox, 'c-sandbox-registered', 'kube-system', 'alibaba-addon-secret')!['access-key-id']!;
    expect(setupKeys(t)).toEqual([{ id: firstKey, user: USER }]);
    expect(await verifyText('c-sandbox-registered')).not.toMatch(/❌|⚠️/);

    await t.command('/backup-setup c-sandbox-registered-2');
    const policyApproval = async () => {
      const approval = await t.chat.until(() => t.chat.replies('approval').find((a) => a.prompt.request.step === 'ensurePolicy' && a.sessionId !== t.chat.replies('approval')[0]!.sessionId));
      return approval;
    };
    const done = await driveToEnd(t, 'c-sandbox-registered-2', { answers: { bucket: 'cnfs-oss-registered-two' } });
    expect(done.text).toMatch(COMPLETE);

    // The approval of the second cluster's policy said which grant it keeps.
    const shown = await policyApproval();
    expect(shown.prompt.preview.changes.join('\n')).toContain("keeps access to bucket `cnfs-oss-registered-one`: the policy is shared by the account's registered clusters");

    const state = t.sandbox.publicState();
    const policy = state.ram.policies.find((p) => p.name === POLICY)!;
    expect(resourcesOf(policy.document)).toEqual(expect.arrayContaining([
      'acs:oss:*:*:cnfs-oss-registered-one', 'acs:oss:*:*:cnfs-oss-registered-one/*',
      'acs:oss:*:*:cnfs-oss-registered-two', 'acs:oss:*:*:cnfs-oss-registered-two/*',
    ]));
    // Both clusters' short ids map to onectl's one component user: the first key is still there, next to the second.
    expect(setupKeys(t).map((k) => k.id)).toContain(firstKey);
    expect(setupKeys(t)).toHaveLength(2);
    expect(secretData(t.sandbox, 'c-sandbox-registered', 'kube-system', 'alibaba-addon-secret')!['access-key-id']).toBe(firstKey);
    for (const id of ['c-sandbox-registered', 'c-sandbox-registered-2']) {
      expect(state.clusters[id]!.secrets).toContain('kube-system/alibaba-addon-secret');
      expect(state.clusters[id]!.addons).toContainEqual({ name: 'migrate-controller', version: LATEST_MIGRATE_CONTROLLER });
    }

    const report = await verifyText('c-sandbox-registered');
    expect(report).not.toMatch(/❌|⚠️/);
    expect(report).toContain('grants OSS access to the vault bucket: granted: cnfs-oss-registered-one');
    expect(report).toContain('All backup-center requirements are met.');
  });

  it("reuses the AccessKey onectl left in kube-system/alibaba-addon-secret and never touches the Secret's other keys", async () => {
    // What `onectl ram-user grant` left for logtail-ds: the user, a key, and the shared Secret.
    t.sandbox.account.change((s) => {
      s.ram.users.push({ name: USER, id: '2000000000000001', createDate: new Date().toISOString() });
      s.ram.accessKeys.push({ id: 'LTAI' + 'O'.repeat(20), secret: 'onectl-secret-value-0123456789', user: USER, status: 'Active', createDate: new Date().toISOString() });
      const cluster = s.clusters['c-sandbox-registered']!;
      const b64 = (v: string) => Buffer.from(v).toString('base64');
      cluster.objects['v1|Secret|kube-system|alibaba-addon-secret'] = {
        apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
        metadata: { name: 'alibaba-addon-secret', namespace: 'kube-system', uid: 'u-onectl', resourceVersion: '1', creationTimestamp: new Date().toISOString() },
        data: { 'access-key-id': b64('LTAI' + 'O'.repeat(20)), 'access-key-secret': b64('onectl-secret-value-0123456789'), 'sls-project': b64('k8s-log-c-sandbox-registered') },
      };
    });
    await t.command('/backup-setup c-sandbox-registered');
    expect((await driveToEnd(t, 'c-sandbox-registered')).text).toMatch(COMPLETE);
    expect(setupKeys(t)).toEqual([{ id: 'LTAI' + 'O'.repeat(20), user: USER }]);
    expect(secretData(t.sandbox, 'c-sandbox-registered', 'kube-system', 'alibaba-addon-secret')).toEqual({
      'access-key-id': 'LTAI' + 'O'.repeat(20), 'access-key-secret': 'onectl-secret-value-0123456789', 'sls-project': 'k8s-log-c-sandbox-registered',
    });
    expect(t.chat.allText()).not.toContain('onectl-secret-value-0123456789');
  });
});

describe('clusters without migrate-controller set up end to end with ListAddons and ListClusterAddonInstances', () => {
  it.each([['c-sandbox-dedicated'], ['c-sandbox-registered'], ['c-sandbox-registered-2'], ['c-sandbox-managed']])('%s', async (id) => {
    expect(t.sandbox.publicState().clusters[id]!.addons.map((a) => a.name)).not.toContain('migrate-controller');
    await t.command(`/backup-setup ${id}`);
    expect((await driveToEnd(t, id)).text).toMatch(COMPLETE);
    expect(t.sandbox.publicState().clusters[id]!.addons).toContainEqual({ name: 'migrate-controller', version: LATEST_MIGRATE_CONTROLLER });
    expect(t.sandbox.faults.cs.calls).not.toContain('DescribeClusterAddonsVersion');
  });
});

describe('a refused Secret write', () => {
  it('deletes the new AccessKey at once and the audit log says so', async () => {
    // The bot's kubeconfig may create namespaces but not Secrets.
    t.sandbox.faults.kube.add({ operation: 'kube:create', after: 1, fault: { kind: 'error', status: 403, code: 'Forbidden', message: 'secrets is forbidden: User "bot" cannot create resource "secrets" in API group "" in the namespace "csdr"' } });
    await t.command('/backup-setup c-sandbox-dedicated');
    const done = await driveToEnd(t, 'c-sandbox-dedicated');
    expect(done.text).not.toMatch(COMPLETE);
    expect(setupKeys(t)).toEqual([]);
    const rows = await t.store.listAudit('c-sandbox-dedicated', 50);
    const failed = rows.find((r) => r.action === 'step' && r.step === 'createAccessKeySecret' && r.outcome === 'failed');
    expect(failed?.detail).toMatch(/The new AccessKey `LTAI\w{20}` was deleted at once, so it is not left behind\./);
  });
});

describe('ACK Edge vault network', () => {
  it('same region: the vault reaches OSS over the public network, as the backup-center FAQ requires for Edge', async () => {
    await t.command('/backup-setup c-sandbox-edge');
    expect((await driveToEnd(t, 'c-sandbox-edge')).text).toMatch(COMPLETE);
    const vault = Object.values(t.sandbox.account.state.clusters['c-sandbox-edge']!.objects).find((o) => o.kind === 'BackupLocation')!;
    expect(vault.spec).toMatchObject({ provider: 'alibabacloud', config: { network: 'public', region: 'cn-hangzhou' } });
    expect(t.chat.allText()).toContain('reach OSS over the public network');
  });

  it('bucket in another region: public as well', async () => {
    await t.command('/backup-setup c-sandbox-edge');
    expect((await driveToEnd(t, 'c-sandbox-edge', { answers: { region: 'cn-shanghai', bucket: 'cnfs-oss-edge-shanghai' } })).text).toMatch(COMPLETE);
    const vault = Object.values(t.sandbox.account.state.clusters['c-sandbox-edge']!.objects).find((o) => o.kind === 'BackupLocation')!;
    expect(vault.spec).toMatchObject({ objectStorage: { bucket: 'cnfs-oss-edge-shanghai' }, config: { network: 'public', region: 'cn-shanghai' } });
  });
});
