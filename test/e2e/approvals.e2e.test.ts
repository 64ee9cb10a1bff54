// Approval rules end to end (DESIGN.md "Approvals"): bound to the step, expiring, counted once, and
// closed by the sweeper with a message in the thread.
import { afterEach, describe, expect, it } from 'vitest';
import { APPROVER, BYSTANDER, driveToEnd, firstApproval, REQUESTER, startTestBot, type TestBot } from '../support/bot-harness.ts';
import { setupState } from '../support/sandbox-state.ts';

let t: TestBot;
afterEach(async () => {
  await t.stop();
});

/** Answers every question with its suggestion until the first approval, and returns it. */
describe('approvals', () => {
  it('an expired approval cannot be used: the click is refused privately and nothing runs', async () => {
    let clock = Date.now();
    t = await startTestBot({ now: () => new Date(clock), approvalTtlMs: 60_000 });
    await t.command('/backup-setup c-sandbox-dedicated');
    const approval = await firstApproval(t);
    clock += 61_000;
    await t.decide(approval, 'approve');
    expect(t.chat.told.at(-1)).toEqual({ userId: APPROVER.id, text: expect.stringMatching(/expired/) });
    expect(setupState(t.sandbox).ram.users).toEqual([]);
  });

  it('the sweeper closes an expired approval: the message says so and the thread says what was not done', async () => {
    let clock = Date.now();
    t = await startTestBot({ now: () => new Date(clock), approvalTtlMs: 60_000 });
    await t.command('/backup-setup c-sandbox-dedicated');
    const approval = await firstApproval(t);
    // A fifth of its time left: the approvers are reminded in the thread, once.
    clock += 47_000;
    await t.bot.sweep();
    expect(t.chat.replies('reminder')).toEqual([]);
    clock += 2_000;
    await t.bot.sweep();
    await t.bot.sweep();
    const reminders = t.chat.messages.filter((m) => m.reply.kind === 'reminder');
    expect(reminders.map((m) => m.reply)).toEqual([
      { kind: 'reminder', title: 'Create RAM user', expiresAt: new Date(clock + 11_000).toISOString(), approvers: [APPROVER.id] },
    ]);
    expect(reminders[0]!.conversation.threadId).toBe(approval.conversation.threadId);
    clock += 12_000;
    await t.bot.sweep();
    const done = await t.chat.until(() => t.chat.replies('done')[0]);
    expect(done.ok).toBe(false);
    expect(done.text).toMatch(/expired/);
    // The expired approval offers to request it again: a new setup of the cluster.
    expect(approval.updates).toContainEqual(expect.objectContaining({ kind: 'decided', decision: 'expired', again: { clusterId: 'c-sandbox-dedicated' } }));
    expect(setupState(t.sandbox).ram.users).toEqual([]);
  });

  it('the top message goes from reading the cluster to each step (waiting, then in progress) to the summary', async () => {
    t = await startTestBot();
    await t.command('/backup-setup c-sandbox-dedicated');
    const done = await driveToEnd(t, 'c-sandbox-dedicated');
    expect(done.ok).toBe(true);
    const head = t.chat.messages.find((m) => m.reply.kind === 'status')!;
    const lines = [head.reply, ...head.updates].map((r) => (r.kind === 'status' ? r.lines[0] : r.kind));
    expect(lines[0]).toBe('Reading the cluster…');
    expect(lines).toContain('Waiting for an answer to: Which OSS bucket in cn-hangzhou should hold the backups? Whichever bucket you pick, the setup creates a RAM user whose long-lived AccessKey (it does not expire) is stored in a Secret in the cluster. A name that does not exist yet creates the bucket. Pick one or type a name.');
    expect(lines).toContain('Step 1 of 8: Create RAM user `ack-backup-c-sandbox-dedicated` — waiting for an approver.');
    expect(lines).toContain('Step 1 of 8: Create RAM user `ack-backup-c-sandbox-dedicated` — approved, in progress.');
    expect(lines).toContain('Step 8 of 8 (7 done): Test backup of namespace `kube-public` into vault `sandbox-dedicated-backups`, then delete it — approved, in progress.');
    const last = head.updates.at(-1)!;
    expect(last).toMatchObject({ kind: 'status', cancellable: false, waitingOn: [] });
    expect((last as { lines: string[] }).lines).toEqual([
      expect.stringMatching(/^✅ Backup center setup complete for `sandbox-dedicated`/),
      'Created or changed: 7 · already present: 0 · not done: 0.',
      'Backup vault: Created backup vault `sandbox-dedicated-backups` (bucket `cnfs-oss-sandbox-backups`, cn-hangzhou, internal network)',
      'The whole story is in this thread.',
    ]);
  });

  it('self-approval and bystanders are refused; self-approval works when configured', async () => {
    t = await startTestBot({ approvers: [APPROVER.id, REQUESTER.id], allowSelfApproval: false });
    await t.command('/backup-setup c-sandbox-dedicated');
    const approval = await firstApproval(t);
    await t.decide(approval, 'approve', REQUESTER);
    await t.decide(approval, 'approve', BYSTANDER);
    expect(t.chat.told.map((n) => n.userId)).toEqual([REQUESTER.id, BYSTANDER.id]);
    expect(t.chat.told[0]!.text).toMatch(/cannot approve its steps yourself/);
    expect(t.chat.told[1]!.text).toMatch(/not an approver/);
    expect(approval.updates).toEqual([]);
    await t.stop();

    t = await startTestBot({ approvers: [REQUESTER.id], allowSelfApproval: true });
    await t.command('/backup-setup c-sandbox-dedicated');
    const own = await firstApproval(t);
    await t.decide(own, 'approve', REQUESTER);
    expect(own.updates).toContainEqual(expect.objectContaining({ kind: 'decided', decision: 'approved' }));
  });

  it('deny ends the session and says what was and was not changed, and why when the approver said', async () => {
    t = await startTestBot();
    await t.command('/backup-setup c-sandbox-dedicated');
    const approval = await firstApproval(t);
    await t.decide(approval, 'deny', APPROVER, '  Not before the $1 freeze\n(ask me after)  ');
    const done = await t.chat.until(() => t.chat.replies('done')[0]);
    expect(done.ok).toBe(false);
    expect(done.text.split('\n')[0]).toMatch(/denied "Create RAM user `ack-backup-c-sandbox-dedicated`"\. Reason: Not before the \$1 freeze \(ask me after\)$/);
    expect(approval.updates).toContainEqual(expect.objectContaining({ kind: 'decided', decision: 'denied', reason: 'Not before the $1 freeze (ask me after)' }));
    const audit = await t.store.listAudit('c-sandbox-dedicated', 50);
    expect(audit.find((r) => r.action === 'approval.deny')).toMatchObject({ outcome: 'denied', detail: 'Not before the $1 freeze (ask me after)' });
    expect(done.text).toMatch(/Nothing was changed|Not done/);
    expect(setupState(t.sandbox).ram.users).toEqual([]);
  });

  it('a second /backup-setup for the same cluster names who started the running one and offers its status', async () => {
    t = await startTestBot();
    await t.command('/backup-setup c-sandbox-dedicated');
    await firstApproval(t);
    await t.command('/backup-setup c-sandbox-dedicated', APPROVER);
    expect(t.chat.told.at(-1)!.text).toMatch(new RegExp(`already running: started by <@${REQUESTER.id}> at <!time:[^>]+>.*status c-sandbox-dedicated`));
  });

  it('a restart keeps a waiting approval usable', async () => {
    t = await startTestBot();
    await t.command('/backup-setup c-sandbox-dedicated');
    const approval = await firstApproval(t);
    await t.restart();
    await t.decide(approval, 'approve');
    await t.chat.until(() => t.chat.replies('result')[0]);
    expect(approval.updates).toContainEqual(expect.objectContaining({ kind: 'decided', decision: 'approved' }));
  });
});
