// Cloud faults end to end: throttling and 5xx are retried until the setup completes; a permanent
// error stops the session with a specific message and leaves later steps untouched. And across all of
// it, no AccessKey secret appears in a log line, a chat payload, an audit row or the store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { COMPLETE, driveToEnd, startTestBot, stepResults, type TestBot } from '../support/bot-harness.ts';
import { setupState } from '../support/sandbox-state.ts';

let sandbox: Sandbox;
const bots: TestBot[] = [];
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  for (const t of bots) await t.stop();
  await sandbox.close();
});

async function botOnSharedSandbox(): Promise<TestBot> {
  const t = await startTestBot({ sandbox });
  bots.push(t);
  return t;
}

describe('faults', () => {
  it('throttled and 5xx calls are retried and the dedicated setup completes with one of each resource', async () => {
    sandbox.faults.ram.add({ operation: 'CreateUser', fault: { kind: 'throttle' }, times: 2 });
    sandbox.faults.ram.add({ operation: 'CreatePolicy', fault: { kind: 'error5xx', status: 503 }, times: 2 });
    sandbox.faults.oss.add({ operation: '*', fault: { kind: 'error5xx', status: 500 }, times: 1 });
    sandbox.faults.kube.add({ operation: 'kube:create', fault: { kind: 'throttle' }, times: 1 });
    const t = await botOnSharedSandbox();
    await t.command('/backup-setup c-sandbox-dedicated');
    const done = await driveToEnd(t, 'c-sandbox-dedicated');
    sandbox.faults.ram.clear();
    sandbox.faults.oss.clear();
    sandbox.faults.kube.clear();

    expect(done.text).toMatch(COMPLETE);
    const state = setupState(sandbox);
    expect(state.ram.users).toEqual(['ack-backup-c-sandbox-dedicated']);
    expect(state.ram.policies).toHaveLength(1);
    expect(state.ram.accessKeys).toHaveLength(1);
    expect(state.clusters['c-sandbox-dedicated']!.secrets.filter((s) => s === 'csdr/alibaba-addon-secret')).toHaveLength(1);
    expect(stepResults(t.chat).map((r) => r.outcome)).not.toContain('failed');
  });

  it('a permanent NoPermission stops the session with the permission to add, and later steps never run', async () => {
    const before = setupState(sandbox);
    sandbox.faults.ram.add({
      operation: 'AttachPolicyToUser',
      fault: { kind: 'error', status: 403, code: 'NoPermission', message: 'You are not authorized to do this action. You should be authorized by RAM.' },
    });
    const t = await botOnSharedSandbox();
    await t.command('/backup-setup c-sandbox-registered');
    const done = await driveToEnd(t, 'c-sandbox-registered');
    sandbox.faults.ram.clear();

    expect(done.ok).toBe(false);
    expect(done.text).toContain('ram:AttachPolicyToUser');
    expect(done.text).toMatch(/add `ram:AttachPolicyToUser` to the bot's RAM policy/);
    const after = setupState(sandbox);
    // The user and policy made before the failure stay (the next run reports them present); nothing after it exists.
    expect(after.ram.attachments).toEqual(before.ram.attachments);
    expect(after.ram.accessKeys).toEqual(before.ram.accessKeys);
    expect(after.clusters['c-sandbox-registered']!.secrets).toEqual(before.clusters['c-sandbox-registered']!.secrets);
    expect(after.clusters['c-sandbox-registered']!.addons).toEqual(before.clusters['c-sandbox-registered']!.addons);

    // Fixed permission: the next run completes, reusing what exists.
    await t.command('/backup-setup c-sandbox-registered');
    expect((await driveToEnd(t, 'c-sandbox-registered')).text).toMatch(COMPLETE);
    expect(sandbox.publicState().ram.accessKeys.filter((k) => k.user === after.ram.users.find((u) => u.startsWith('ack-one-user-')))).toHaveLength(1);
  });
});

describe('secrets', () => {
  it('no AccessKey secret appears in logs, chat, audit rows, error messages or stored sessions', async () => {
    const secrets = [
      sandbox.account.state.rootKey.secret,
      ...sandbox.account.state.ram.accessKeys.map((k) => k.secret),
      ...(sandbox.account.state.sts ?? []).flatMap((c) => [c.secret, c.securityToken]),
    ];
    expect(secrets.length).toBeGreaterThan(2);
    for (const t of bots) {
      const audit = [];
      for await (const row of t.store.exportAudit()) audit.push(row);
      const sessions = await Promise.all(
        t.chat.messages.map((m) => ('sessionId' in m.reply ? t.store.getSession(m.reply.sessionId) : null)),
      );
      const haystacks = { logs: t.logs.join('\n'), chat: t.chat.allText(), audit: JSON.stringify(audit), sessions: JSON.stringify(sessions) };
      expect(audit.length).toBeGreaterThan(0);
      for (const [where, text] of Object.entries(haystacks)) {
        for (const secret of secrets) expect(text.includes(secret), `an AccessKey secret is in ${where}`).toBe(false);
      }
    }
  });
});
