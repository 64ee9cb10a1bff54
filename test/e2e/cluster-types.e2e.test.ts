// Issue 4: every seeded cluster type set up end to end through flows + executor + real SDKs + emulators.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LATEST_MIGRATE_CONTROLLER } from '../../src/sandbox/seed.ts';
import { secretData, setupState } from '../support/sandbox-state.ts';
import type { Recorded } from '../support/recording-chat.ts';
import { authorizeManagedRole } from '../../src/sandbox/kube/addon-token.ts';
import { approvedSteps, COMPLETE, driveToEnd, startTestBot, stepResults, type TestBot } from '../support/bot-harness.ts';

let t: TestBot;
beforeEach(async () => {
  t = await startTestBot();
});
afterEach(async () => {
  await t.stop();
});


function clusterState(id: string) {
  const cluster = t.sandbox.publicState().clusters[id];
  if (!cluster) throw new Error(`no cluster ${id}`);
  return cluster;
}

describe('dedicated cluster', () => {
  it('creates user, policy, attachment, one AccessKey, the Secret, the add-on and the vault', async () => {
    await t.command('/backup-setup c-sandbox-dedicated');
    const done = await driveToEnd(t, 'c-sandbox-dedicated');
    expect(done.text).toMatch(COMPLETE);

    const state = setupState(t.sandbox);
    expect(state.ram.users).toEqual(['ack-backup-c-sandbox-dedicated']);
    expect(state.ram.policies.map((p) => p.name)).toEqual(['ack-backup-c-sandbox-dedicated-migrate-controller']);
    expect(state.ram.attachments).toEqual([{ user: 'ack-backup-c-sandbox-dedicated', policy: 'ack-backup-c-sandbox-dedicated-migrate-controller' }]);
    expect(state.ram.accessKeys.filter((k) => k.user === 'ack-backup-c-sandbox-dedicated')).toHaveLength(1);
    const cluster = clusterState('c-sandbox-dedicated');
    expect(cluster.secrets).toContain('csdr/alibaba-addon-secret');
    expect(cluster.addons).toContainEqual({ name: 'migrate-controller', version: LATEST_MIGRATE_CONTROLLER });
    expect(cluster.namespaces).toContain('csdr');

    // The Secret holds the key RAM knows, under the two keys migrate-controller reads.
    const secret = secretData(t.sandbox, 'c-sandbox-dedicated', 'csdr', 'alibaba-addon-secret')!;
    expect(Object.keys(secret).sort()).toEqual(['access-key-id', 'access-key-secret']);
    const keyId = secret['access-key-id']!;
    expect(state.ram.accessKeys.map((k) => k.id)).toContain(keyId);

    // Nothing privileged ran without an approval shown before it.
    const changed = stepResults(t.chat).filter((r) => r.outcome !== 'already present').map((r) => r.step);
    expect(approvedSteps(t.chat)).toEqual(changed);
  });

});

describe('running a setup twice', () => {
  it.each([['c-sandbox-dedicated'], ['c-sandbox-registered'], ['c-sandbox-managed'], ['c-sandbox-edge'], ['c-sandbox-serverless-pro']])(
    '%s: the second run changes nothing, asks no approval and reports every step as already present',
    async (id) => {
      await t.command(`/backup-setup ${id}`);
      expect((await driveToEnd(t, id)).text).toMatch(COMPLETE);
      const first = t.sandbox.publicState();
      const resultsBefore = stepResults(t.chat).length;
      const approvalsBefore = t.chat.replies('approval').length;

      await t.command(`/backup-setup ${id}`);
      expect((await driveToEnd(t, id)).text).toMatch(COMPLETE);
      const second = stepResults(t.chat).slice(resultsBefore);
      expect(second.length).toBeGreaterThan(0);
      expect(second.every((r) => r.outcome === 'already present')).toBe(true);
      expect(t.chat.replies('approval').length).toBe(approvalsBefore);
      expect(t.sandbox.publicState()).toEqual(first);
    },
  );
});

describe('managed kinds', () => {
  it.each([
    ['c-sandbox-managed'],
    ['c-sandbox-serverless-pro'],
    ['c-sandbox-edge'],
  ])('%s: installs or upgrades migrate-controller and needs no RAM user for a cnfs-oss-* bucket', async (id) => {
    await t.command(`/backup-setup ${id}`);
    const done = await driveToEnd(t, id);
    expect(done.text).toMatch(COMPLETE);
    expect(clusterState(id).addons).toContainEqual({ name: 'migrate-controller', version: LATEST_MIGRATE_CONTROLLER });
    expect(setupState(t.sandbox).ram.users).toEqual([]);
    expect(setupState(t.sandbox).ram.accessKeys).toEqual([]);
  });

  it('Serverless Pro and Edge are told there is no volume backup', async () => {
    for (const id of ['c-sandbox-serverless-pro', 'c-sandbox-edge']) {
      await t.command(`/backup-setup ${id}`);
      await driveToEnd(t, id);
    }
    expect(t.chat.allText()).toMatch(/volume/i);
  });

  it('Edge upgrades the older add-on (1.7.6 → latest) and the policy-free path still completes', async () => {
    await t.command('/backup-setup c-sandbox-edge');
    await driveToEnd(t, 'c-sandbox-edge');
    const upgrade = t.chat.replies('approval').find((a) => a.prompt.request.step === 'installAddon');
    expect(upgrade?.prompt.request.params).toMatchObject({ installedVersion: '1.7.6', version: LATEST_MIGRATE_CONTROLLER });
  });

  it('Ulanqab (cn-wulanchabu) guides the API Gateway authorization', async () => {
    t.sandbox.account.change((state) => authorizeManagedRole(state, state.clusters['c-sandbox-ulanqab']!));
    await t.command('/backup-setup c-sandbox-ulanqab');
    const apiGateway = async (question: Recorded) => {
      expect(JSON.stringify(question.reply)).toMatch(/Cloud Backup console .*China \(Ulanqab\)/);
      await t.answer(question, 'recheck');
      await t.chat.until(() => t.chat.replies('text').find((r) => r.text.includes('API Gateway authorization is still missing')));
      // The console's authorization creates the service-linked role; "check again" then goes on.
      t.sandbox.account.change((state) => state.ram.roles.push({ name: 'AliyunServiceRoleForHbrMagpieBridge', createDate: new Date().toISOString() }));
      return 'recheck';
    };
    expect((await driveToEnd(t, 'c-sandbox-ulanqab', { answers: { apiGateway } })).text).toMatch(COMPLETE);
  });

  it('a missing AliyunCSManagedBackupRestoreRole authorization is explained, and "check again" goes on once it is granted', async () => {
    await t.command('/backup-setup c-sandbox-ulanqab');
    const question = await t.chat.until(() => t.chat.messages.find((m) => m.reply.kind === 'question' && m.reply.prompt.questionId === 'managedRole'));
    expect(JSON.stringify(question.reply)).toMatch(/quick authorization/);
    await t.answer(question, 'recheck');
    await t.chat.until(() => t.chat.replies('text').find((r) => r.text.includes('authorization is still missing')));

    t.sandbox.account.change((state) => authorizeManagedRole(state, state.clusters['c-sandbox-ulanqab']!));
    await t.answer(question, 'recheck');
    const done = await driveToEnd(t, 'c-sandbox-ulanqab', { answers: { apiGateway: 'skip' } });
    // A skipped console step is a manual step left: the ending says so, not "complete".
    expect(done.text).toMatch(/^⚠️ Backup center set up for `sandbox-ulanqab` .* — one manual step left: authorize Cloud Backup to use API Gateway in cn-wulanchabu/);
    expect(done.text).not.toMatch(COMPLETE);
  });
});

describe('registered cluster', () => {
  it("creates onectl's user and policy, the Secret and the add-on", async () => {
    await t.command('/backup-setup c-sandbox-registered');
    const done = await driveToEnd(t, 'c-sandbox-registered');
    expect(done.text).toMatch(COMPLETE);
    const state = setupState(t.sandbox);
    expect(state.ram.users).toEqual(['ack-one-user-csandboxre']);
    expect(state.ram.policies.map((p) => p.name)).toEqual(['ack-one-registered-cluster-policy-migrate-controller']);
    expect(state.ram.accessKeys).toHaveLength(1);
    // Where onectl keeps the component AccessKey (shared with other add-ons), not csdr.
    expect(clusterState('c-sandbox-registered').secrets).toContain('kube-system/alibaba-addon-secret');
    expect(clusterState('c-sandbox-registered').secrets).not.toContain('csdr/alibaba-addon-secret');
    expect(clusterState('c-sandbox-registered').addons).toContainEqual({ name: 'migrate-controller', version: LATEST_MIGRATE_CONTROLLER });
  });
});

describe('unsupported clusters stop with the way forward and change nothing', () => {
  it.each([
    ['c-sandbox-serverless-basic', /Serverless Basic/],
    ['c-sandbox-flexvolume', /FlexVolume/],
    ['c-sandbox-old', /1\.18/],
  ])('%s', async (id, reason) => {
    const before = t.sandbox.publicState();
    await t.command(`/backup-setup ${id}`);
    const done = await driveToEnd(t, id);
    expect(done.ok).toBe(false);
    expect(done.text).toMatch(reason);
    expect(t.chat.replies('approval')).toEqual([]);
    expect(t.sandbox.publicState()).toEqual(before);
  });
});
