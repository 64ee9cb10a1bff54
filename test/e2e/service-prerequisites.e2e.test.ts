// Issue 20 (Cloud Backup, OSS, the snapshot service activated, checked before any change) and issue 15 item 3 (ask
// everything up front; the sandbox's emulated console finishes the Ulanqab case), through the whole bot.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalReply } from '../../src/chat/model.ts';
import { authorizeManagedRole } from '../../src/sandbox/kube/addon-token.ts';
import { approvedSteps, COMPLETE, driveToEnd, startTestBot, type TestBot } from '../support/bot-harness.ts';
import { setupState } from '../support/sandbox-state.ts';

let t: TestBot;
beforeEach(async () => { t = await startTestBot(); });
afterEach(async () => { await t.stop(); });

const approvals = () => t.chat.replies('approval') as ApprovalReply[];
const questions = () => t.chat.messages.flatMap((m) => (m.reply.kind === 'question' ? [m.reply.prompt.questionId] : []));

describe('Ulanqab in the sandbox: every prerequisite up front, then finished with the emulated console', () => {
  it('asks the managed role, the API Gateway authorization and the snapshot service before any change; the button does the console steps', async () => {
    await t.command('/backup-setup c-sandbox-ulanqab');
    const done = await driveToEnd(t, 'c-sandbox-ulanqab', { answers: { managedRole: 'emulatedConsole', apiGateway: 'emulatedConsole' } });
    expect(done.text).toMatch(COMPLETE);
    expect(done.text).not.toContain('Still to do');
    // Both console questions came first and offered the sandbox-only button.
    expect(questions().slice(0, 2)).toEqual(['managedRole', 'apiGateway']);
    for (const m of t.chat.messages.filter((x) => x.reply.kind === 'question' && ['managedRole', 'apiGateway'].includes(x.reply.prompt.questionId))) {
      expect(m.reply.kind === 'question' && m.reply.prompt.choices.map((c) => c.label)).toContain('Authorize in the emulated console');
    }
    const text = t.chat.allText();
    expect(text).toContain('The ECS snapshot service in cn-wulanchabu is not activated: disk volumes are backed up as ECS snapshots.');
    expect(text).toContain('Prerequisites, checked before any change:');
    // The activation is the first approval, rated high, with the billing note, "cannot be undone" and the console.
    const first = approvals()[0]!;
    expect(first.prompt.request).toEqual({ step: 'activateSnapshot', params: { service: 'snapshot', region: 'cn-wulanchabu' } });
    expect(first.risk).toBe('high');
    expect(first.apis).toEqual(['ecs:DescribeSnapshots', 'ecs:OpenSnapshotService']);
    expect(first.prompt.preview.changes).toContain('billing: activating it is free; snapshots are then billed by size and retention');
    expect(first.prompt.preview.changes).toContain('activating accepts the service terms and cannot be undone: the service cannot be closed once it is opened');
    expect(first.prompt.preview.changes.some((l) => l.includes('https://ecs.console.aliyun.com/'))).toBe(true);
    expect(approvedSteps(t.chat)[0]).toBe('activateSnapshot');
    const state = t.sandbox.account.state;
    expect(state.services?.snapshotOffRegions).toEqual([]);
    expect(state.ram.roles.map((r) => r.name)).toContain('AliyunServiceRoleForHbrMagpieBridge');
  });

  it('a second run finds the snapshot service on and the authorizations in place: it asks none of them', async () => {
    await t.command('/backup-setup c-sandbox-ulanqab');
    await driveToEnd(t, 'c-sandbox-ulanqab', { answers: { managedRole: 'emulatedConsole', apiGateway: 'emulatedConsole' } });
    t.chat.messages.length = 0;
    await t.command('/backup-setup c-sandbox-ulanqab');
    const done = await driveToEnd(t, 'c-sandbox-ulanqab');
    expect(done.text).toMatch(COMPLETE);
    expect(questions()).not.toContain('managedRole');
    expect(questions()).not.toContain('apiGateway');
    expect(approvals().map((a) => a.prompt.request.step)).not.toContain('activateSnapshot');
    expect(t.chat.allText()).not.toContain('is not activated');
  });
});

describe.each([
  ['OSS', 'activateOss', { ossOff: true }],
  ['Cloud Backup', 'activateCloudBackup', { cloudBackupOff: true }],
  ['the ECS snapshot service in cn-hangzhou', 'activateSnapshot', { snapshotOffRegions: ['cn-hangzhou'] }],
] as const)('%s off on a dedicated cluster', (label, step, off) => {
  beforeEach(() => {
    t.sandbox.account.change((s) => { s.services = JSON.parse(JSON.stringify(off)) as typeof s.services; });
  });

  it('denied: the setup stops before any change, with the way to activate it by hand', async () => {
    await t.command('/backup-setup c-sandbox-dedicated');
    const done = await driveToEnd(t, 'c-sandbox-dedicated', { decisions: { [step]: 'deny' } });
    expect(done.text).toMatch(new RegExp(`^❌ Stopped: .* denied "Activate ${label} \\(cannot be undone\\)"`));
    expect(done.text).toContain('Nothing was changed.');
    expect(t.chat.allText()).toMatch(new RegExp(`${label} is not activated: .*Or activate it yourself in the console \\(https://`, 'i'));
    const state = setupState(t.sandbox);
    expect(state.ram.users).toEqual([]);
    expect(state.ram.policies).toEqual([]);
    expect(t.sandbox.publicState().clusters['c-sandbox-dedicated']!.addons.map((a) => a.name)).not.toContain('migrate-controller');
    expect(approvals().map((a) => a.prompt.request.step)).toEqual([step]);
  });

  it('approved: activated first, then the setup goes on; a second run asks nothing about it', async () => {
    await t.command('/backup-setup c-sandbox-dedicated');
    const done = await driveToEnd(t, 'c-sandbox-dedicated');
    expect(done.text).toMatch(COMPLETE);
    expect(approvedSteps(t.chat)[0]).toBe(step);
    expect(approvals()[0]!.risk).toBe('high');
    expect(done.text).toContain(`Activated ${label}`);
    t.chat.messages.length = 0;
    await t.command('/backup-setup c-sandbox-dedicated');
    await driveToEnd(t, 'c-sandbox-dedicated');
    expect(approvals().map((a) => a.prompt.request.step)).not.toContain(step);
    expect(t.chat.allText()).not.toContain('is not activated');
  });
});

it('the API Gateway authorization is asked before the first change (issue 15: ask everything up front)', async () => {
  t.sandbox.account.change((s) => { authorizeManagedRole(s, s.clusters['c-sandbox-ulanqab']!); s.services = {}; });
  await t.command('/backup-setup c-sandbox-ulanqab');
  await driveToEnd(t, 'c-sandbox-ulanqab', { answers: { apiGateway: 'skip' } });
  const order = t.chat.messages.map((m) => (m.reply.kind === 'question' ? m.reply.prompt.questionId : m.reply.kind));
  expect(order.indexOf('apiGateway')).toBeLessThan(order.indexOf('approval'));
  expect(order.indexOf('apiGateway')).toBeLessThan(order.indexOf('region'));
});

it('verify of an unknown cluster answers where it looked and the nearest id, not "Something went wrong"', async () => {
  await t.command('/backup-setup verify c-sandbox-manged');
  const told = await t.chat.until(() => t.chat.told.find((m) => m.text.includes('c-sandbox-manged')));
  expect(told.text).toBe('Cluster `c-sandbox-manged` was not found in cn-hangzhou, cn-wulanchabu; did you mean `c-sandbox-managed`?');
  expect(t.chat.allText()).not.toContain('Something went wrong');
});

it('verify lists the three services; Ulanqab shows the snapshot service off with the way to activate it', async () => {
  await t.command('/backup-setup verify c-sandbox-ulanqab');
  const report = await t.chat.until(() => t.chat.replies('text').find((r) => r.text.startsWith('Backup center check of `c-sandbox-ulanqab`')));
  expect(report.text).toMatch(/OSS activated: activated/);
  expect(report.text).toMatch(/Cloud Backup activated: activated/);
  expect(report.text).toMatch(/The ECS snapshot service in cn-wulanchabu activated: not activated/);
});
