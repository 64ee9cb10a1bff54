// Issue 5: the whole app (one HTTP server, real Bolt, sandbox cloud) driven from Slack by signed
// requests and clicks, against the strict local Slack Web API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { startSlackApi, type EmulatedMessage, type SlackApi } from '../../src/sandbox/slack/api.ts';
import { actionsOf, CHANNEL, isApproval, isQuestion, SlackDriver } from '../support/slack-driver.ts';
import { FORM, send, signed, slashCommand, SIGNING_SECRET } from '../slack/slack-requests.ts';
import { setupState } from '../support/sandbox-state.ts';

const BOT_TOKEN = 'xoxb-4242-4242-e2etoken';
const REQUESTER = 'U0ALICE';
const APPROVER = 'U0BOB';

let api: SlackApi;
let app: App;
let slack: SlackDriver;
let stateDir: string;

/** The whole app in sandbox mode with Slack configured against the emulator `api`. */
async function startWithSlack(approvers: string) {
  const config = loadConfig({
    BACKUP_SETUP_SANDBOX: '1',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: api.url,
    PORT: '0',
    STATE_DIR: stateDir,
    APPROVERS: approvers,
  });
  app = await startApp(config, { logger: pino({ level: 'silent' }), host: '127.0.0.1' });
  slack = new SlackDriver(api, `${app.url}/slack/events`);
}

beforeEach(async () => {
  api = await startSlackApi({ token: BOT_TOKEN });
  stateDir = mkdtempSync(join(tmpdir(), 'slack-e2e-'));
  await startWithSlack(`slack:${APPROVER}`);
});

afterEach(async () => {
  await app.stop();
  await api.close();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Answers questions until the first approval is posted, and returns it. */
async function firstApproval(threadTs: string, requester = REQUESTER): Promise<EmulatedMessage> {
  const handled = new Set<string>();
  for (;;) {
    const next = await slack.nextPrompt(threadTs, handled);
    handled.add(next.ts);
    if (isApproval(next)) return next;
    if (!isQuestion(next)) throw new Error(`the setup closed before any approval: ${next.text}`);
    await slack.click(next, 'first', requester);
  }
}

const createCalls = () => {
  const { ram, oss, cs } = app.sandbox!.faults;
  return [...ram.calls, ...oss.calls, ...cs.calls].filter((c) => /^(Create|Put|Install|Attach)/.test(c));
};

describe('Slack end to end', () => {
  it('sets up c-sandbox-dedicated from the slash command to the final result, by clicks', async () => {
    const ack = await slack.command('c-sandbox-dedicated', REQUESTER);
    expect(ack.status).toBe(200);
    const parent = await slack.parentOf('c-sandbox-dedicated');
    const closing = await slack.clickThrough(parent.ts, REQUESTER, APPROVER);
    expect(closing.text).toMatch(/^✅ Backup center setup complete/);

    const state = setupState(app.sandbox!);
    expect(state.ram.users).toEqual(['ack-backup-c-sandbox-dedicated']);
    expect(state.ram.accessKeys).toHaveLength(1);
    expect(state.clusters['c-sandbox-dedicated']!.secrets).toContain('csdr/alibaba-addon-secret');

    // Every approval and question was updated after its decision or answer (who, when, what) and has no buttons left.
    const edited = api.messages.filter((m) => m.threadTs === parent.ts && m.edits > 0);
    const decided = edited.filter((m) => /approved/i.test(m.text ?? ""));
    const answered = edited.filter((m) => JSON.stringify(m.blocks).includes(' chose '));
    expect(decided.length).toBeGreaterThanOrEqual(5);
    expect(answered).toHaveLength(3); // region, bucket, bucket scope
    const answers = answered.map((m) => JSON.stringify(m.blocks));
    expect(answers.some((b) => b.includes(`✔️ <@${REQUESTER}> chose region \`cn-hangzhou\` (cluster region)`))).toBe(true);
    expect(answers.some((b) => b.includes(`✔️ <@${REQUESTER}> chose bucket \`cnfs-oss-sandbox-backups\` (existing)`))).toBe(true);
    expect(decided.length + answered.length).toBe(edited.length);
    for (const m of edited) expect(actionsOf(m)).toEqual([]);
  });

  it('the top message says where the setup is; Deny opens a modal whose reason reaches the thread and the audit log', async () => {
    await slack.command('c-sandbox-dedicated', REQUESTER);
    const parent = await slack.parentOf('c-sandbox-dedicated');
    const blocksOf = (m: EmulatedMessage) => JSON.stringify(m.blocks);
    expect(actionsOf(parent)[0]!.elements!.map((e) => e.action_id)).toEqual(['cancel_session']);
    expect(JSON.stringify(actionsOf(parent))).toContain('"accessibility_label":"Cancel the backup center setup of c-sandbox-dedicated"');
    const approval = await firstApproval(parent.ts);
    await slack.until('the top message at the first approval', () => blocksOf(parent).includes('Step 1 of 8: Create RAM user'));
    expect(blocksOf(parent)).toContain('waiting for an approver.');
    expect(blocksOf(parent)).toContain(`Waiting on <@${APPROVER}>`);
    expect(parent.text).toMatch(/^Backup center setup for `c-sandbox-dedicated`, requested by <@U0ALICE>: Step 1 of 8/);
    const labels = actionsOf(approval)[0]!.elements!.map((e) => (e as { accessibility_label?: string }).accessibility_label);
    expect(labels).toEqual(['Approve: Create RAM user', 'Deny: Create RAM user']);

    expect((await slack.click(approval, 'deny', APPROVER)).status).toBe(200);
    const modal = await slack.until('the deny modal', () => api.views[0]);
    expect(modal).toMatchObject({ user: APPROVER, view: { callback_id: 'deny_reason', title: { text: 'Deny this step' } } });
    expect(JSON.stringify(modal.view.blocks)).toContain('Create RAM user');
    expect(approval.edits).toBe(0); // nothing is decided until the modal is submitted
    expect((await slack.submit(modal, { reason: { reason: 'Use the team <bucket> & key' } })).status).toBe(200);

    const closing = await slack.until('the closing message', () => api.messages.find((m) => m.threadTs === parent.ts && /^❌ Stopped/.test(m.text ?? '')));
    expect(closing.text).toMatch(/denied "Create RAM user/);
    expect(approval.text).toMatch(/^🚫 Denied by U0BOB|^🚫 Denied by slack:U0BOB|^🚫 Denied by <@U0BOB>/);
    expect(blocksOf(approval)).toContain('(reason: `Use the team &lt;bucket&gt; &amp; key`)');
    expect(actionsOf(approval)).toEqual([]);
    await slack.until('the summary in the top message', () => blocksOf(parent).includes('not done: 8'));
    expect(actionsOf(parent)).toEqual([]);
    expect(createCalls()).toEqual([]);

    await slack.command('audit c-sandbox-dedicated', REQUESTER);
    const audit = await slack.until('the audit listing', () => api.messages.find((m) => (m.text ?? '').includes('audit entries for')));
    expect(audit.text).toContain('approval.deny `createRamUser`: denied (`Use the team &lt;bucket&gt; &amp; key`)');
  });

  it('the Cancel button of the top message cancels the setup', async () => {
    await slack.command('c-sandbox-dedicated', REQUESTER);
    const parent = await slack.parentOf('c-sandbox-dedicated');
    await firstApproval(parent.ts);
    expect((await slack.click(parent, 'cancel_session', REQUESTER)).status).toBe(200);
    const closing = await slack.until('the closing message', () => api.messages.find((m) => m.threadTs === parent.ts && /^🛑/.test(m.text ?? '')));
    expect(closing.text).toMatch(/^🛑 Cancelled by/);
    await slack.until('the summary in the top message', () => actionsOf(parent).length === 0);
    expect(api.messages.filter((m) => m.threadTs === parent.ts && isApproval(m))).toEqual([]);
    expect(createCalls()).toEqual([]);
  });

  it('a replayed approval click executes nothing twice and tells the clicker', async () => {
    await slack.command('c-sandbox-dedicated', REQUESTER);
    const parent = await slack.parentOf('c-sandbox-dedicated');
    const approval = await firstApproval(parent.ts);
    const copy = { ...approval };
    await Promise.all([slack.click(copy, 'approve', APPROVER), slack.click(copy, 'approve', APPROVER), slack.click(copy, 'approve', APPROVER)]);

    await slack.until('two refusals of the replays', () => api.ephemerals.filter((e) => e.user === APPROVER && /already decided/.test(e.text ?? '')).length === 2);
    await slack.until('the next approval', () => api.messages.some((m) => m.threadTs === parent.ts && m.ts !== approval.ts && isApproval(m)));
    const creates = createCalls();
    expect(creates.length).toBeGreaterThan(0);
    expect(new Set(creates).size).toBe(creates.length);
  });

  it('refuses self-approval and non-approvers privately, and the approval still waits', async () => {
    // An approver who starts a setup may not approve it alone.
    await slack.command('c-sandbox-dedicated', APPROVER);
    const parent = await slack.parentOf('c-sandbox-dedicated');
    const approval = await firstApproval(parent.ts, APPROVER);
    await slack.click(approval, 'approve', APPROVER);
    await slack.click(approval, 'approve', 'U0CAROL');
    await slack.until('two refusals', () => api.ephemerals.filter((e) => /changed nothing|cannot approve/.test(e.text ?? '')).length >= 2);
    expect(api.ephemerals.find((e) => e.user === APPROVER)?.text).toMatch(/cannot approve its steps yourself/);
    expect(api.ephemerals.find((e) => e.user === 'U0CAROL')?.text).toMatch(/not an approver/);
    expect(approval.edits).toBe(0);
    expect(createCalls()).toEqual([]);
  });

  it('forged, missing and 6-minute-old signatures get 401 and change nothing', async () => {
    const body = slashCommand({ text: 'c-sandbox-dedicated', user: REQUESTER, channel: CHANNEL, responseUrl: api.responseUrl(REQUESTER, CHANNEL) });
    const url = `${app.url}/slack/events`;
    const forged = await send(url, signed(body, FORM, { secret: 'not-the-signing-secret' }));
    const old = await send(url, signed(body, FORM, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }));
    const missing = await send(url, { body, headers: { 'content-type': FORM } });
    expect([forged.status, old.status, missing.status]).toEqual([401, 401, 401]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(api.messages).toEqual([]);
    expect(createCalls()).toEqual([]);
  });
});

describe('a Slack user group as approvers', () => {
  it('lets a member of the group named in APPROVERS approve, and refuses someone outside it', async () => {
    await app.stop();
    await api.close();
    api = await startSlackApi({ token: BOT_TOKEN, userGroups: [{ id: 'S0OPS', handle: 'platform-oncall', users: ['U0CAROL'] }] });
    await startWithSlack('slack:S0OPS');

    await slack.command('c-sandbox-dedicated', REQUESTER);
    const parent = await slack.parentOf('c-sandbox-dedicated');
    const approval = await firstApproval(parent.ts);
    // The top message names the group it waits on as a group mention.
    await slack.until('the group in the top message', () => JSON.stringify(parent.blocks).includes('Waiting on <!subteam^S0OPS>'));
    expect((await slack.click(approval, 'approve', APPROVER)).status).toBe(200);
    await slack.until('the refusal', () => api.ephemerals.find((e) => e.user === APPROVER));
    expect(api.ephemerals.find((e) => e.user === APPROVER)!.text).toMatch(/not an approver/);
    expect(approval.edits).toBe(0);

    expect((await slack.click(approval, 'approve', 'U0CAROL')).status).toBe(200);
    await slack.until('the decision', () => /Approved by/.test(approval.text ?? ''));
    expect(api.calls.filter((c) => c.method === 'usergroups.users.list').length).toBeGreaterThan(0);
  });
});
