// Issue 16: every setup ends with a test backup that proves migrate-controller can write to the vault with the
// credentials the setup gave it (the emulated component writes Velero's files over HTTP and RAM's policy evaluation
// decides), and that the bot removes again. A broken policy makes it fail with the component's own error and the fix,
// and the policy update (with its approval) leads to a passing re-run.
import * as $Ram from '@alicloud/ram20150501';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/model.ts';
import { LAST_TEST_ANNOTATION } from '../../src/executor/test-backup-record.ts';
import { ramClient } from '../sandbox/clients.ts';
import { APPROVER, COMPLETE, driveToEnd, startTestBot, type TestBot } from '../support/bot-harness.ts';
import type { Recorded } from '../support/recording-chat.ts';

let t: TestBot;
beforeEach(async () => {
  t = await startTestBot();
});
afterEach(async () => {
  await t.stop();
});

const BUCKET = 'cnfs-oss-sandbox-backups';
const TEST_LINE = (attempt: number) =>
  new RegExp(`^✅ Test backup of \`kube-public\`: 12 objects \\([\\d.]+ KB\\) written to oss://${BUCKET}/backups/backup-setup-test-\\w{8}-${attempt}/ in \\d+ s, then removed$`);

const objectsIn = (bucket: string) => t.sandbox.publicState().oss.buckets.find((b) => b.name === bucket)!.objects;
const tasksIn = (clusterId: string, kind: string) => Object.values(t.sandbox.account.state.clusters[clusterId]!.objects).filter((o) => o.kind === kind);
const vaultOf = (clusterId: string) => tasksIn(clusterId, 'BackupLocation')[0]!;

describe('a setup ends with a test backup written with the component\'s own credentials', () => {
  it.each([
    ['c-sandbox-dedicated', 'user/ack-backup-c-sandbox-dedicated'],
    ['c-sandbox-registered', 'user/ack-one-user-csandboxre'],
    ['c-sandbox-managed', 'role/AliyunCSManagedBackupRestoreRole'],
  ])('%s: the files are written by %s, checked by the bot, and removed again', async (clusterId, component) => {
    t.sandbox.requests.clear();
    await t.command(`/backup-setup ${clusterId}`);
    const done = await driveToEnd(t, clusterId);
    expect(done.text).toMatch(COMPLETE);
    expect(done.text.split('\n')[1]).toMatch(TEST_LINE(1));

    // Every file of the backup was written by the component's identity, none refused; the bot wrote and deleted nothing.
    const writes = t.sandbox.requests.entries.filter((e) => e.action === 'oss:PutObject');
    expect(writes).toHaveLength(12);
    expect(writes.every((w) => w.principal === component && w.allowed)).toBe(true);
    expect(writes.map((w) => w.resource)).toContainEqual(expect.stringMatching(new RegExp(`:${BUCKET}/backups/backup-setup-test-\\w+-1/velero-backup\\.json$`)));
    const bot = t.sandbox.requests.entries.filter((e) => e.principal === 'user/backup-setup-bot' && e.service === 'oss');
    expect(new Set(bot.map((e) => e.action))).toEqual(new Set(['oss:ListBuckets', 'oss:ListObjects']));
    const deletes = t.sandbox.requests.entries.filter((e) => e.action === 'oss:DeleteObject');
    expect(deletes).toHaveLength(12);
    expect(deletes.every((d) => d.principal === component)).toBe(true);

    // It removed itself: nothing in the bucket, no backup left in the cluster; the pass is recorded on the vault.
    expect(objectsIn(BUCKET)).toBe(0);
    expect(tasksIn(clusterId, 'ApplicationBackup')).toEqual([]);
    const record = JSON.parse(vaultOf(clusterId).metadata.annotations![LAST_TEST_ANNOTATION]!) as { objects: number; namespace: string };
    expect(record).toMatchObject({ objects: 12, namespace: 'kube-public' });

    // The approval said what the step does, with which credentials, and that it removes itself.
    const approval = t.chat.replies('approval').find((a) => a.prompt.request.step === 'testBackup')!;
    expect(approval.title).toBe('Run a test backup (it removes itself)');
    const shown = approval.prompt.preview.changes.join('\n');
    expect(shown).toContain('back up namespace `kube-public` (read only, no volume data)');
    // Registered clusters keep onectl's Secret in kube-system (shared with other add-ons); dedicated ones in csdr.
    const secret = clusterId === 'c-sandbox-registered' ? 'kube-system' : 'csdr';
    expect(shown).toContain(component.startsWith('role/') ? 'with its own credentials (AliyunCSManagedBackupRestoreRole)' : `with its own credentials (Secret ${secret}/alibaba-addon-secret (AccessKey LTAI`);
    expect(shown).toMatch(/then remove it: DeleteRequest csdr\/backup-setup-test-\w+-1-dbr deletes its files/);
  });

  it('denying the test backup completes the setup unproven and says how to prove it later', async () => {
    await t.command('/backup-setup c-sandbox-managed');
    const done = await driveToEnd(t, 'c-sandbox-managed', { decisions: { testBackup: 'deny' } });
    expect(done.text).toMatch(COMPLETE);
    expect(done.text).toContain('No test backup was run (denied by <@web:approver>): `/backup-setup verify c-sandbox-managed --test-backup` runs one when you are ready.');
    expect(done.text).not.toMatch(/✅ Test backup/);
    expect(tasksIn('c-sandbox-managed', 'ApplicationBackup')).toEqual([]);
    expect(t.sandbox.requests.entries.filter((e) => e.action === 'oss:PutObject')).toEqual([]);
  });
});

/** The component's policy as someone changed it in the console after the policy step: a new default version. */
async function replacePolicy(change: (document: { Statement: { Action: string[]; Resource: string | string[] }[] }) => void) {
  const ram = ramClient(t.sandbox);
  const policyName = 'ack-backup-c-sandbox-dedicated-migrate-controller';
  const current = await ram.getPolicy(new $Ram.GetPolicyRequest({ policyName, policyType: 'Custom' }));
  const document = JSON.parse(current.body!.defaultPolicyVersion!.policyDocument!) as Parameters<typeof change>[0];
  change(document);
  await ram.createPolicyVersion(new $Ram.CreatePolicyVersionRequest({ policyName, policyDocument: JSON.stringify(document), setAsDefault: true }));
}

const ossStatement = (document: Parameters<Parameters<typeof replacePolicy>[0]>[0]) => document.Statement.find((s) => s.Action.includes('oss:GetObject'))!;

/** Plays the setup until the test backup's question, changing the policy just before the first test is approved. */
async function untilTestFails(clusterId: string, tamper: () => Promise<void>): Promise<Recorded> {
  const handled = new Set<string>();
  for (;;) {
    const next = await t.chat.until(() => t.chat.messages.find((m) => !handled.has(m.messageId) && (m.reply.kind === 'question' || m.reply.kind === 'approval' || m.reply.kind === 'done')));
    handled.add(next.messageId);
    const reply = next.reply;
    if (reply.kind === 'done') throw new Error(`the setup ended before its test backup failed: ${reply.text}`);
    if (reply.kind === 'question' && reply.prompt.questionId === 'testBackupFailed') return next;
    if (reply.kind === 'question') await t.answer(next, reply.prompt.choices[0]!.value);
    if (reply.kind === 'approval') {
      if (reply.prompt.request.step === 'testBackup') await tamper();
      await t.decide(next, 'approve', APPROVER);
    }
  }
}

describe('a policy that lacks an OSS action, or names another bucket', () => {
  it.each([
    {
      name: 'lacks oss:PutObject',
      tamper: () => replacePolicy((d) => { ossStatement(d).Action = ossStatement(d).Action.filter((a) => a !== 'oss:PutObject'); }),
      error: /«upload backup files to OSS bucket failed: oss: service returned error: StatusCode=403, ErrorCode=AccessDenied, ErrorMessage="You have no right to access this object because of bucket acl\.", RequestId=[\w-]+, Ec=0003-00000001»/,
      fix: 'Likely fix: the policy `ack-backup-c-sandbox-dedicated-migrate-controller` lacks `oss:PutObject` on `acs:oss:*:*:cnfs-oss-sandbox-backups/*`; approve the policy update.',
      update: 'adds Allow on `acs:oss:*:*:cnfs-oss-sandbox-backups/*`: `oss:PutObject`',
    },
    {
      name: 'names another bucket',
      tamper: () => replacePolicy((d) => { ossStatement(d).Resource = ['acs:oss:*:*:team-archive', 'acs:oss:*:*:team-archive/*']; }),
      error: /«VaultError: backup vault is unavailable: oss: service returned error: StatusCode=403, ErrorCode=AccessDenied, .*Ec=0003-00000001»/,
      fix: 'Likely fix: the policy `ack-backup-c-sandbox-dedicated-migrate-controller` lacks `oss:ListObjects` on `acs:oss:*:*:cnfs-oss-sandbox-backups` (it grants OSS only on `acs:oss:*:*:team-archive`, `acs:oss:*:*:team-archive/*`); approve the policy update.',
      update: 'adds Allow on `acs:oss:*:*:cnfs-oss-sandbox-backups`: ',
    },
  ])('$name: the test backup fails with the reason, and after the policy update is approved the re-run passes', async ({ tamper, error, fix, update }) => {
    await t.command('/backup-setup c-sandbox-dedicated');
    const question = await untilTestFails('c-sandbox-dedicated', tamper);
    const prompt = (question.reply as Extract<Reply, { kind: 'question' }>).prompt;
    expect(prompt.text).toMatch(/^❌ The test backup failed: ApplicationBackup csdr\/backup-setup-test-\w+-1 is Failed \(kept for inspection/);
    expect(prompt.text).toMatch(error);
    expect(prompt.text).toContain(fix);
    expect(prompt.choices.map((c) => c.value)).toEqual(['updatePolicy', 'retest', 'stop']);
    expect(objectsIn(BUCKET)).toBe(0);

    await t.answer(question, 'updatePolicy');
    const done = await driveToEnd(t, 'c-sandbox-dedicated');
    expect(done.text).toMatch(COMPLETE);
    expect(done.text.split('\n')[1]).toMatch(TEST_LINE(2));

    // The way back went through the policy step with its own approval, showing the change, then the test again.
    const approvals = t.chat.replies('approval').map((a) => a.prompt);
    const policyFix = approvals.filter((p) => p.request.step === 'ensurePolicy').at(-1)!;
    expect(policyFix.approvalId).toMatch(/\/ensurePolicy\/2$/);
    expect(policyFix.preview.changes.join('\n')).toContain(update);
    expect(approvals.filter((p) => p.request.step === 'testBackup').map((p) => p.approvalId.split('/').at(-1))).toEqual(['1', '2']);
    expect(t.sandbox.publicState().ram.policies.find((p) => p.name === 'ack-backup-c-sandbox-dedicated-migrate-controller')!.defaultVersion).toBe('v3');
    expect(objectsIn(BUCKET)).toBe(0);
  });

  it('stopping after a failed test ends the setup with the reason, everything else in place', async () => {
    await t.command('/backup-setup c-sandbox-dedicated');
    const question = await untilTestFails('c-sandbox-dedicated', () => replacePolicy((d) => { ossStatement(d).Action = ossStatement(d).Action.filter((a) => a !== 'oss:PutObject'); }));
    await t.answer(question, 'stop');
    const done = await driveToEnd(t, 'c-sandbox-dedicated');
    expect(done.ok).toBe(false);
    expect(done.text).toMatch(/^❌ Stopped: the test backup failed: ApplicationBackup csdr\/backup-setup-test-\w+-1 is Failed/);
    expect(done.text).toContain('Changed:');
    expect(done.text).toContain('Not done:\n• Test backup of namespace `kube-public`');
  });
});

describe('verify', () => {
  it('reports the last passed test backup, and --test-backup runs a new one after an approval', async () => {
    await t.command('/backup-setup c-sandbox-dedicated');
    expect((await driveToEnd(t, 'c-sandbox-dedicated')).text).toMatch(COMPLETE);

    await t.command('/backup-setup verify c-sandbox-dedicated');
    const report = t.chat.replies('text').findLast((r) => r.text.startsWith('Backup center check of'))!;
    expect(report.text).toMatch(/\n✅ A passed test backup of the current configuration: passed at \S+ \(kube-public: 12 objects .* then removed\); nothing changed since\n/);

    t.sandbox.requests.clear();
    await t.command('/backup-setup verify c-sandbox-dedicated --test-backup');
    const done = await driveToEnd(t, 'c-sandbox-dedicated', { parent: 'Test backup' });
    expect(done.ok).toBe(true);
    expect(done.text.split('\n')[0]).toMatch(TEST_LINE(1));
    const approval = t.chat.replies('approval').at(-1)!;
    expect(approval.prompt.request).toMatchObject({ step: 'testBackup', params: { force: true } });
    expect(approval.prompt.preview.changes.at(-1)).toMatch(/^the last test backup passed at \S+; changed since: nothing \(run on request\)$/);
    expect(t.sandbox.requests.entries.filter((e) => e.action === 'oss:PutObject' && e.principal === 'user/ack-backup-c-sandbox-dedicated')).toHaveLength(12);
  });
});
