// Issue 9: fleet setup — one session per cluster, one approval message per step listing every cluster
// it covers, a summary table at the end; one cluster's failure does not stop the others.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/model.ts';
import { APPROVER, startTestBot, type TestBot } from '../support/bot-harness.ts';
import { setupState } from '../support/sandbox-state.ts';

let t: TestBot;
beforeEach(async () => {
  t = await startTestBot();
});
afterEach(async () => {
  await t.stop();
});

type Approval = Extract<Reply, { kind: 'approval' }>;

/** Approves every fleet approval as it appears, until the summary. */
async function approveAll(): Promise<{ summary: Extract<Reply, { kind: 'done' }>; approvals: Approval[] }> {
  const handled = new Set<string>();
  for (;;) {
    const next = await t.chat.until(() =>
      t.chat.messages.find((m) => !handled.has(m.messageId) && (m.reply.kind === 'approval' || m.reply.kind === 'done' || m.reply.kind === 'question')),
    );
    handled.add(next.messageId);
    if (next.reply.kind === 'question') throw new Error(`a fleet asked a question: ${next.reply.prompt.text}`);
    if (next.reply.kind === 'done') {
      const approvals = t.chat.messages.filter((m) => m.reply.kind === 'approval').map((m) => m.reply as Approval);
      return { summary: next.reply, approvals };
    }
    await t.decide(next, 'approve', APPROVER);
  }
}

const rowOf = (summary: string, clusterId: string) => summary.split('\n').find((line) => line.startsWith(clusterId));

describe('fleet setup', () => {
  it('sets up several clusters with one approval per step covering all of them, and a summary table', async () => {
    await t.command('/backup-setup c-sandbox-dedicated c-sandbox-registered c-sandbox-managed c-sandbox-serverless-basic');
    const { summary, approvals } = await approveAll();

    expect(rowOf(summary.text, 'c-sandbox-dedicated')).toMatch(/\bdone\b/);
    expect(rowOf(summary.text, 'c-sandbox-registered')).toMatch(/\bdone\b/);
    expect(rowOf(summary.text, 'c-sandbox-managed')).toMatch(/\bdone\b/);
    expect(rowOf(summary.text, 'c-sandbox-serverless-basic')).toMatch(/\bskipped\b.*Serverless Basic/);
    expect(summary.text).toMatch(/3 done, 1 skipped, 0 failed/);

    // One message per step; the add-on step covers the three supported clusters at once.
    const steps = approvals.map((a) => a.prompt.request.step);
    expect(new Set(steps).size).toBe(steps.length);
    const install = approvals.find((a) => a.prompt.request.step === 'installAddon')!;
    expect(install.covers?.sort()).toEqual(['c-sandbox-dedicated', 'c-sandbox-managed', 'c-sandbox-registered']);
    expect(install.prompt.preview.changes.filter((c) => c.startsWith('c-sandbox-managed: '))).not.toEqual([]);

    const state = setupState(t.sandbox);
    expect(state.ram.users.sort()).toEqual(['ack-backup-c-sandbox-dedicated', 'ack-one-user-csandboxre']);
    for (const id of ['c-sandbox-dedicated', 'c-sandbox-registered', 'c-sandbox-managed']) {
      expect(state.clusters[id]!.addons.map((a) => a.name)).toContain('migrate-controller');
    }
  });

  it("a cluster's permanent failure is reported in its row and the others complete", async () => {
    t.sandbox.faults.ram.add({
      operation: 'CreateUser',
      fault: { kind: 'error', status: 403, code: 'NoPermission', message: 'You are not authorized to do this action. You should be authorized by RAM.' },
      times: 1,
    });
    await t.command('/backup-setup c-sandbox-dedicated c-sandbox-managed');
    const { summary } = await approveAll();
    expect(rowOf(summary.text, 'c-sandbox-dedicated')).toMatch(/\bfailed\b.*RAM user/);
    expect(rowOf(summary.text, 'c-sandbox-managed')).toMatch(/\bdone\b/);
    expect(summary.ok).toBe(false);
    expect(t.sandbox.publicState().clusters['c-sandbox-managed']!.addons.map((a) => a.name)).toContain('migrate-controller');
    expect(setupState(t.sandbox).ram.users).toEqual([]);
  });

  it('by region: --region cn-wulanchabu --all covers every cluster of that region', async () => {
    await t.command('/backup-setup --region cn-wulanchabu --all');
    const { summary } = await approveAll();
    expect(summary.text.split('\n').filter((l) => l.startsWith('c-'))).toHaveLength(1);
    expect(rowOf(summary.text, 'c-sandbox-ulanqab')).toBeDefined();
  });
});
