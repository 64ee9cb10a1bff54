// Issue 18: a cluster whose setup completed is watched. Changed behind the bot's back (through the emulators'
// own APIs, as a person with the console, the RAM API or kubectl would), the next check posts one drift message
// with what differs, since when and the risk, and a Fix button. Fix starts a setup in the drift message's thread
// that plans only what drifted, each step with its approval, and ends with a test backup; then one "resolved" reply.
import * as $Cs from '@alicloud/cs20151215';
import * as $Ram from '@alicloud/ram20150501';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/model.ts';
import { csClient, ossClient, ramClient } from '../sandbox/clients.ts';
import { APPROVER, BYSTANDER, CHANNEL, COMPLETE, REQUESTER, driveToEnd, startTestBot, type TestBot } from '../support/bot-harness.ts';
import type { Recorded } from '../support/recording-chat.ts';

const INTERVAL = 5_000;
const CLUSTER = 'c-sandbox-dedicated';
const CLUSTER_DEDICATED = CLUSTER;
const USER = `ack-backup-${CLUSTER}`;
const POLICY = `${USER}-migrate-controller`;

let t: TestBot;
beforeAll(async () => {
  // Two approvers: one clicks Fix (and may then not approve its steps), the other approves.
  t = await startTestBot({ watchIntervalMs: INTERVAL, approvers: [APPROVER.id, BYSTANDER.id] });
  await t.command(`/backup-setup ${CLUSTER}`);
  expect((await driveToEnd(t, CLUSTER)).text).toMatch(COMPLETE);
  // The first check finds the setup in place (and remembers where its vault points).
  await until(async () => (await t.store.getWatch(CLUSTER))?.lastResult === 'ok', 3 * INTERVAL);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

async function until(predicate: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
type Question = Extract<Reply, { kind: 'question' }>;
const driftMessages = (clusterId = CLUSTER) =>
  t.chat.messages.filter((m) => m.reply.kind === 'question' && m.reply.prompt.questionId === 'fix' && m.reply.sessionId === `watch.${clusterId}`);
const inThread = (message: Recorded) => t.chat.messages.filter((m) => m.conversation.threadId === message.messageId);
const resolvedIn = (message: Recorded) => inThread(message).filter((m) => m.reply.kind === 'text' && m.reply.text.startsWith('✅ Resolved'));
/** The watch checks of the cluster since `since`, oldest first. */
const checksSince = async (since: Date, clusterId = CLUSTER) =>
  (await t.store.listAudit(clusterId, 200)).filter((r) => r.action === 'watch.check' && r.at >= since).reverse();

function kube(clusterId = CLUSTER) {
  const kc = new KubeConfig();
  kc.loadFromString(t.sandbox.kubeconfig(clusterId)!);
  return kc.makeApiClient(CustomObjectsApi);
}
const VAULTS = { group: 'csdr.alibabacloud.com', version: 'v1beta1', namespace: 'csdr', plural: 'backuplocations' };
const secretKeyId = () => {
  const secret = Object.values(t.sandbox.account.state.clusters[CLUSTER]!.objects).find((o) => o.kind === 'Secret' && o.metadata.name === 'alibaba-addon-secret')!;
  const data = (secret as { data?: Record<string, string> }).data ?? {};
  return Buffer.from(data['access-key-id'] ?? data.accessKeyId ?? '', 'base64').toString();
};

/** Breaks the setup, waits for the drift message, clicks Fix as `REQUESTER`, approves every step, waits for "resolved". */
async function breakAndFix(
  breakIt: () => Promise<void>,
  expected: { requirement: RegExp; approved: string[]; persists?: boolean; clicker?: typeof REQUESTER; approver?: typeof APPROVER; clusterId?: string },
) {
  const CLUSTER = expected.clusterId ?? CLUSTER_DEDICATED;
  const clicker = expected.clicker ?? REQUESTER;
  const approver = expected.approver ?? APPROVER;
  const before = driftMessages(CLUSTER).length;
  const brokenAt = new Date();
  await breakIt();
  const drift = await t.chat.until(() => driftMessages(CLUSTER)[before], 2 * INTERVAL + 5_000);
  const reply = drift.reply as Question;

  // Within one interval: the first check after the change found it (its audit row follows the post).
  await until(async () => (await checksSince(brokenAt, CLUSTER)).length > 0, 5_000);
  const [first] = await checksSince(brokenAt, CLUSTER);
  expect(first?.outcome).toBe('drift');
  // What differs, since when, the risk, and one Fix button; in the channel that set the cluster up.
  expect(drift.conversation).toEqual(CHANNEL);
  expect(reply.prompt.text).toMatch(new RegExp(`^⚠️ Drift on \`${CLUSTER}\`: its backup setup changed behind the bot's back\\.\n`));
  expect(reply.prompt.text).toMatch(expected.requirement);
  expect(reply.prompt.text).toMatch(/Since: first seen <!time:\d{4}-\d\d-\d\dT[\d:.]+Z>; the check at <!time:\d{4}-\d\d-\d\dT[\d:.]+Z> found it in place\./);
  expect(reply.prompt.text).toMatch(/Risk \((high|medium)\): /);
  expect(reply.prompt.choices).toEqual([{ label: 'Fix', value: expect.any(String) }]);

  if (expected.persists) {
    // It persists over three more checks: posted once.
    await until(async () => (await checksSince(brokenAt, CLUSTER)).filter((c) => c.outcome === 'drift').length >= 4, 5 * INTERVAL);
    expect(driftMessages(CLUSTER)).toHaveLength(before + 1);
    const metrics = await t.metrics.registry.metrics();
    expect(metrics).toContain(`backup_setup_cluster_drift{cluster_id="${CLUSTER}"} 1`);
    expect(metrics).toMatch(/^backup_setup_watched_clusters 1$/m);
    expect(Number(/^backup_setup_watch_check_duration_seconds_count (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(5);
  }

  // The person who clicks Fix is the requester; an approver (not they) approves each step.
  await t.answer(drift, reply.prompt.choices[0]!.value, clicker);
  const intro = await t.chat.until(() => inThread(drift)[0]);
  expect(intro.reply).toMatchObject({ kind: 'text', text: expect.stringMatching(new RegExp(`^Fix of the drift for \`${CLUSTER}\`, requested by <@${clicker.id}> at <!time:`)) });
  // A second click while the Fix runs starts nothing.
  const other = clicker === REQUESTER ? BYSTANDER : REQUESTER;
  await t.answer(drift, reply.prompt.choices[0]!.value, other);
  expect(t.chat.told.at(-1)).toEqual({ userId: other.id, text: expect.stringMatching(new RegExp(`^A session of \`${CLUSTER}\` is already running \\(started by <@${clicker.id}>\\)`)) });
  if (clicker === APPROVER) {
    // Self-approval rules apply as usual: the approver who clicked Fix may not approve its steps.
    const first = await t.chat.until(() => inThread(drift).find((m) => m.reply.kind === 'approval'));
    await t.decide(first, 'approve', APPROVER);
    expect(t.chat.told.at(-1)).toEqual({ userId: APPROVER.id, text: 'You requested this setup, so you cannot approve its steps yourself. Ask another approver.' });
    expect(first.updates).toEqual([]);
  }
  const done = await driveToEnd(t, CLUSTER, { threadId: drift.messageId, approver });
  expect(done.text).toMatch(COMPLETE);
  const thread = inThread(drift);
  const plan = thread.find((m) => m.reply.kind === 'plan')!.reply as Extract<Reply, { kind: 'plan' }>;
  expect(plan.title).toMatch(/^Fix for .* only what drifted, each step asks for an approval first$/);
  const approvals = thread.filter((m) => m.reply.kind === 'approval');
  expect(approvals.map((m) => (m.reply as Extract<Reply, { kind: 'approval' }>).prompt.request.step)).toEqual([...expected.approved, 'testBackup']);
  expect(approvals.every((m) => (m.reply as Extract<Reply, { kind: 'approval' }>).requester === clicker.id)).toBe(true);
  // Nothing was asked: the Fix knows the vault's bucket and region.
  expect(thread.filter((m) => m.reply.kind === 'question')).toEqual([]);
  expect(done.text.split('\n')[1]).toMatch(/^✅ Test backup of `kube-public`: 12 objects/);

  // One "resolved" reply under the drift message, whose Fix button is gone.
  await t.chat.until(() => resolvedIn(drift).length > 0, 2 * INTERVAL + 5_000);
  await sleep(INTERVAL + 1_500);
  expect(resolvedIn(drift)).toHaveLength(1);
  expect(drift.updates.at(-1)).toMatchObject({ kind: 'answered', answer: null, reason: expect.stringMatching(/^resolved at /) });
  expect(driftMessages(CLUSTER)).toHaveLength(before + 1);
  expect((await t.store.getWatch(CLUSTER))?.drift).toBeNull();
  expect(await t.metrics.registry.metrics()).toContain(`backup_setup_cluster_drift{cluster_id="${CLUSTER}"} 0`);
  return drift;
}

const ram = () => ramClient(t.sandbox);
const keysOf = async (userName: string) =>
  (await ram().listAccessKeys(new $Ram.ListAccessKeysRequest({ userName }))).body!.accessKeys!.accessKey!.map((k) => k.accessKeyId!);

/** The component's policy as someone changed it in the console: a new default version. */
async function editPolicy(change: (document: { Statement: { Action: string[]; Resource: string | string[] }[] }) => void) {
  const current = await ram().getPolicy(new $Ram.GetPolicyRequest({ policyName: POLICY, policyType: 'Custom' }));
  const document = JSON.parse(current.body!.defaultPolicyVersion!.policyDocument!) as Parameters<typeof change>[0];
  change(document);
  // A policy keeps at most 5 versions (RAM): the oldest non-default one goes first.
  const versions = (await ram().listPolicyVersions(new $Ram.ListPolicyVersionsRequest({ policyName: POLICY, policyType: 'Custom' }))).body!.policyVersions!.policyVersion!;
  if (versions.length >= 5) {
    const oldest = versions.filter((v) => !v.isDefaultVersion).sort((a, b) => a.createDate!.localeCompare(b.createDate!))[0]!;
    await ram().deletePolicyVersion(new $Ram.DeletePolicyVersionRequest({ policyName: POLICY, versionId: oldest.versionId! }));
  }
  await ram().createPolicyVersion(new $Ram.CreatePolicyVersionRequest({ policyName: POLICY, policyDocument: JSON.stringify(document), setAsDefault: true }));
}

async function addonTaskDone(taskId: string) {
  await until(async () => (await csClient(t.sandbox).describeTaskInfo(taskId)).body!.state === 'success', 20_000);
}

describe('a watched cluster changed behind the bot\'s back', () => {
  it('its watch is listed in the channel that set it up', async () => {
    await t.command('/backup-setup watch');
    const list = t.chat.replies('text').at(-1)!.text;
    expect(list).toMatch(new RegExp(`^This channel watches 1 cluster:\n• \`${CLUSTER}\` — on · last check \\S+: ✅ every requirement in place · next check \\S+$`));
  });

  it('a deleted vault (BackupLocation deleted with the Kubernetes API): posted once over several intervals; Fix makes it again', async () => {
    const custom = kube();
    const { items } = (await custom.listNamespacedCustomObject(VAULTS)) as { items: { metadata: { name: string } }[] };
    expect(items).toHaveLength(1);
    const vault = items[0]!.metadata.name;
    await breakAndFix(() => custom.deleteNamespacedCustomObject({ ...VAULTS, name: vault }).then(() => undefined), {
      requirement: /• ❌ A backup vault: no BackupLocation in namespace csdr/,
      approved: ['createBackupVault'],
      persists: true,
    });
    const after = (await custom.listNamespacedCustomObject(VAULTS)) as { items: { metadata: { name: string } }[] };
    // A deleted vault's name cannot be used again (flows/domain/vault.ts): the Fix made the next one.
    expect(after.items.map((v) => v.metadata.name)).toEqual([`${vault}-2`]);
  }, 90_000);

  it('a rotated AccessKey (a new key made, the one in the Secret deleted): Fix writes a new one', async () => {
    const old = secretKeyId();
    await breakAndFix(async () => {
      await ram().createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: USER }));
      await ram().deleteAccessKey(new $Ram.DeleteAccessKeyRequest({ userName: USER, userAccessKeyId: old }));
    }, { requirement: /• ❌ Secret csdr\/alibaba-addon-secret holds an Active AccessKey of /, approved: ['createAccessKeySecret', 'restartMigrateController'] });
    expect(secretKeyId()).not.toBe(old);
    expect(await keysOf(USER)).toContain(secretKeyId());
  }, 60_000);

  it('a deleted AccessKey: Fix writes a new one', async () => {
    const old = secretKeyId();
    await breakAndFix(() => ram().deleteAccessKey(new $Ram.DeleteAccessKeyRequest({ userName: USER, userAccessKeyId: old })).then(() => undefined), {
      requirement: /• ❌ Secret csdr\/alibaba-addon-secret holds an Active AccessKey of /,
      approved: ['createAccessKeySecret', 'restartMigrateController'],
    });
    expect(await keysOf(USER)).toContain(secretKeyId());
  }, 60_000);

  it('an edited policy (the OSS statement removed in the console): Fix adds a new default version', async () => {
    await breakAndFix(() => editPolicy((d) => void (d.Statement = d.Statement.filter((s) => !s.Action.some((a) => a.startsWith('oss:'))))), {
      requirement: /• ❌ Policy ack-backup-c-sandbox-dedicated-migrate-controller grants OSS access to the vault bucket: no grant for /,
      approved: ['ensurePolicy'],
    });
  }, 60_000);

  it('the ECS snapshot permissions migrate-controller ≥ 1.7.7 needs, taken out of the policy: Fix puts them back', async () => {
    await breakAndFix(() => editPolicy((d) => void (d.Statement = d.Statement.filter((s) => !s.Action.some((a) => a.startsWith('ecs:'))))), {
      requirement: /• ❌ Policy grants ECS snapshot actions \(migrate-controller \S+ ≥ 1\.7\.7\): missing ecs:CopySnapshot/,
      approved: ['ensurePolicy'],
    });
  }, 60_000);

  it('an uninstalled add-on (CS UnInstallClusterAddons): Fix installs it again', async () => {
    await breakAndFix(() => csClient(t.sandbox).unInstallClusterAddons(CLUSTER, new $Cs.UnInstallClusterAddonsRequest({ addons: [new $Cs.UnInstallClusterAddonsRequestAddons({ name: 'migrate-controller' })] })).then(() => undefined), {
      requirement: /• ❌ migrate-controller installed and current: not installed/,
      approved: ['installAddon'],
    });
    expect(t.sandbox.publicState().clusters[CLUSTER]!.addons.find((a) => a.name === 'migrate-controller')).toBeDefined();
  }, 60_000);

  it('a downgraded add-on (uninstalled and an older version installed): Fix upgrades it', async () => {
    await breakAndFix(async () => {
      const cs = csClient(t.sandbox);
      await cs.unInstallClusterAddons(CLUSTER, new $Cs.UnInstallClusterAddonsRequest({ addons: [new $Cs.UnInstallClusterAddonsRequestAddons({ name: 'migrate-controller' })] }));
      const installed = await cs.installClusterAddons(CLUSTER, new $Cs.InstallClusterAddonsRequest({ body: [new $Cs.InstallClusterAddonsRequestBody({ name: 'migrate-controller', version: 'v1.7.6' })] }));
      await addonTaskDone(installed.body!.taskId!);
    }, { requirement: /• ⚠️ migrate-controller installed and current: v1\.7\.6 installed, \S+ available/, approved: ['installAddon'] });
  }, 60_000);

  it('a removed bucket (OSS DeleteBucket): Fix creates it again where the vault points', async () => {
    const bucket = (t.sandbox.publicState().clusters[CLUSTER]!.backupVaults as unknown as { bucket?: string }[])[0]?.bucket
      ?? ((await t.store.getWatch(CLUSTER))!.baseline as { bucket: string }).bucket;
    await breakAndFix(() => ossClient(t.sandbox).deleteBucket(bucket).then(() => undefined), {
      requirement: new RegExp(`• ❌ An OSS bucket for backups, in the vault.s region: vault bucket ${bucket} does not exist in cn-hangzhou`),
      approved: ['createBucket'],
      clicker: APPROVER,
      approver: BYSTANDER,
    });
    expect(t.sandbox.publicState().oss.buckets.map((b) => b.name)).toContain(bucket);
  }, 60_000);

  it('only an approver turns a watch off; while off nothing is checked; on again, the drift is posted', async () => {
    await t.command(`/backup-setup watch off ${CLUSTER}`, REQUESTER);
    expect(t.chat.told.at(-1)).toEqual({ userId: REQUESTER.id, text: `Only an approver can turn a watch off (an unwatched cluster drifts unseen). \`${CLUSTER}\` is still watched.` });
    expect((await t.store.getWatch(CLUSTER))?.enabled).toBe(true);
    await t.command(`/backup-setup watch off ${CLUSTER}`, APPROVER);
    expect(t.chat.replies('text').at(-1)!.text).toBe(`Watch of \`${CLUSTER}\` turned off by <@${APPROVER.id}>. \`/backup-setup watch on ${CLUSTER}\` turns it on again.`);
    await sleep(1_500); // a check claimed just before the switch finishes
    const offAt = new Date();
    const before = driftMessages().length;
    const custom = kube();
    const { items } = (await custom.listNamespacedCustomObject(VAULTS)) as { items: { metadata: { name: string } }[] };
    await custom.deleteNamespacedCustomObject({ ...VAULTS, name: items[0]!.metadata.name });
    await sleep(2 * INTERVAL);
    expect(await checksSince(offAt)).toEqual([]);
    expect(driftMessages()).toHaveLength(before);
    expect(await t.metrics.registry.metrics()).toMatch(/^backup_setup_watched_clusters 0$/m);
    await t.command('/backup-setup watch');
    expect(t.chat.replies('text').at(-1)!.text).toContain(`• \`${CLUSTER}\` — off (turned off by <@web:approver>)`);

    await t.command(`/backup-setup watch on ${CLUSTER}`, REQUESTER);
    expect(t.chat.replies('text').at(-1)!.text).toMatch(new RegExp(`^Watching \`${CLUSTER}\` from this channel \\(turned on by <@${REQUESTER.id}>\\)\\. First check at \\S+; drift is posted here with a Fix button\\.$`));
    const drift = await t.chat.until(() => driftMessages()[before], 2 * INTERVAL + 5_000);
    expect((drift.reply as Question).prompt.text).toContain('• ❌ A backup vault: no BackupLocation in namespace csdr');
  }, 60_000);

  it('a managed cluster (its vault deleted): the Fix plans the vault and the test backup, and asks nothing', async () => {
    const managed = 'c-sandbox-managed';
    await t.command(`/backup-setup ${managed}`);
    expect((await driveToEnd(t, managed)).text).toMatch(COMPLETE);
    await until(async () => (await t.store.getWatch(managed))?.lastResult === 'ok', 3 * INTERVAL);
    const custom = kube(managed);
    const { items } = (await custom.listNamespacedCustomObject(VAULTS)) as { items: { metadata: { name: string } }[] };
    await breakAndFix(() => custom.deleteNamespacedCustomObject({ ...VAULTS, name: items[0]!.metadata.name }).then(() => undefined), {
      clusterId: managed,
      requirement: /• ❌ A backup vault: no BackupLocation in namespace csdr/,
      approved: ['createBackupVault'],
    });
  }, 60_000);
});
