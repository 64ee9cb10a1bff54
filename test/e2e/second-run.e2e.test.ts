// Issue 15 item 2: a second run keeps to the bucket the cluster's vault uses, and a policy change that would take a
// vault's bucket away is rated high with a warning line.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/model.ts';
import { setupState } from '../support/sandbox-state.ts';
import { COMPLETE, driveToEnd, startTestBot, type TestBot } from '../support/bot-harness.ts';

type Question = Extract<Reply, { kind: 'question' }>;
type Approval = Extract<Reply, { kind: 'approval' }>;

const ID = 'c-sandbox-dedicated';
let t: TestBot;
beforeEach(async () => {
  t = await startTestBot();
});
afterEach(async () => {
  await t.stop();
});

it('on a dedicated cluster set up with my-backups, a second run suggests my-backups and changes nothing; choosing another bucket is a high-risk approval that says the vault loses its bucket', async () => {
  await t.command(`/backup-setup ${ID}`);
  expect((await driveToEnd(t, ID, { answers: { bucket: 'my-backups' } })).text).toMatch(COMPLETE);

  // Second run: the suggestion is the vault's bucket, and taking it needs no approval at all.
  const approvalsBefore = t.chat.replies('approval').length;
  await t.command(`/backup-setup ${ID}`);
  let asked: Question | undefined;
  const suggestion = async (message: { reply: Reply }) => {
    asked = message.reply as Question;
    return asked.prompt.choices[0]!.value;
  };
  expect((await driveToEnd(t, ID, { answers: { bucket: suggestion } })).text).toMatch(COMPLETE);
  expect(asked!.prompt.choices[0]).toEqual({ label: 'my-backups (existing)', value: 'my-backups' });
  expect(t.chat.replies('approval').length).toBe(approvalsBefore);
  const policy = setupState(t.sandbox).ram.policies.find((p) => p.name === 'ack-backup-c-sandbox-dedicated-migrate-controller')!;
  expect(JSON.stringify(policy)).toContain('acs:oss:*:*:my-backups');

  // Third run, another bucket: the policy approval says which vault loses access, and is rated high for that reason.
  await t.command(`/backup-setup ${ID}`);
  const done = driveToEnd(t, ID, { answers: { bucket: 'cnfs-oss-sandbox-backups' }, decisions: { createBucket: 'approve', ensurePolicy: 'deny' } });
  const approval = await t.chat.until(() => t.chat.replies('approval').find((a) => a.prompt.request.step === 'ensurePolicy' && a.prompt.preview.changes.some((c) => c.startsWith('⚠️'))));
  expect(approval.risk).toBe('high');
  expect(approval.riskReason).toMatch(/^revokes access to bucket `my-backups` \(vault `[a-z0-9-]+`\), which a backup vault of this cluster uses$/);
  expect(approval.prompt.preview.changes[0]).toMatch(/^⚠️ revokes access to bucket `my-backups` \(vault `[a-z0-9-]+`\), which this cluster's backups use/);
  expect((approval as Approval).prompt.preview.changes.join('\n')).toContain('removes Allow on `acs:oss:*:*:my-backups`');
  expect((await done).text).not.toMatch(COMPLETE);
  expect(JSON.stringify(setupState(t.sandbox).ram.policies)).toContain('acs:oss:*:*:my-backups');
});
