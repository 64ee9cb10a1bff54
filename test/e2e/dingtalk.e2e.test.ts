// Issue 6: the whole app driven from a DingTalk group through the Stream and OpenAPI emulator, by card
// clicks: the real dingtalk-stream client, the sandbox cloud, the same approval rules as Slack.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { startDingTalkEmulator, type DingTalkEmulator } from '../../src/sandbox/dingtalk/server.ts';
import { COMPLETE } from '../support/bot-harness.ts';

const CREDENTIALS = { clientId: 'dingbackupbot', clientSecret: 'dt-client-secret-0123456789abcdef', robotCode: 'dingbackupbot' };
const GROUP = 'cidBackupOps==';
const REQUESTER = 'alice01';
const APPROVER = 'manager123';

let emulator: DingTalkEmulator;
let app: App | undefined;
let stateDir: string;

const configFor = (secret = CREDENTIALS.clientSecret, env: Record<string, string> = {}) =>
  loadConfig({
    ...env,
    BACKUP_SETUP_SANDBOX: '1',
    DINGTALK_CLIENT_ID: CREDENTIALS.clientId,
    DINGTALK_CLIENT_SECRET: secret,
    DINGTALK_ROBOT_CODE: CREDENTIALS.robotCode,
    DINGTALK_API_URL: emulator.apiUrl,
    DINGTALK_GATEWAY_URL: emulator.gatewayUrl,
    PORT: '0',
    STATE_DIR: stateDir,
    APPROVERS: `dingtalk:${APPROVER}`,
  });

beforeEach(async () => {
  emulator = await startDingTalkEmulator(CREDENTIALS);
  stateDir = mkdtempSync(join(tmpdir(), 'dingtalk-e2e-'));
});

afterEach(async () => {
  await app?.stop();
  app = undefined;
  await emulator.close();
  rmSync(stateDir, { recursive: true, force: true });
});

async function startBot(env: Record<string, string> = {}): Promise<App> {
  app = await startApp(configFor(CREDENTIALS.clientSecret, env), { logger: pino({ level: 'silent' }), host: '127.0.0.1' });
  await emulator.waitForConnection();
  return app;
}

type Card = ReturnType<DingTalkEmulator['cards']>[number];

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; cards: ${JSON.stringify(emulator.cards().slice(-5).map((c) => c.cardParamMap.title))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const groupCards = () => emulator.cards().filter((c) => c.conversationId === GROUP);
const shown = (card: Card) => emulator.rendered(card.outTrackId);
const textOf = (card: Card) => `${shown(card).title}\n${shown(card).markdown}`;
/** What a card is, as a person tells it: by its buttons and its title. */
const kindOf = (card: Card): 'question' | 'approval' | 'done' | 'other' => {
  const { title, buttons } = shown(card);
  if (buttons.some((b) => b.id === 'approve')) return 'approval';
  if (buttons.some((b) => b.id.startsWith('answer:'))) return 'question';
  return title === 'Done' || title === 'Stopped' ? 'done' : 'other';
};
const nextPrompt = (handled: Set<string>) =>
  until('the next question, approval or closing card', () => groupCards().find((c) => !handled.has(c.outTrackId) && kindOf(c) !== 'other'));
const click = (card: Card, userId: string, which: 'first' | 'approve' | 'deny', seen?: ReturnType<typeof shown>['buttons']) =>
  emulator.clickCard({ outTrackId: card.outTrackId, userId, button: which === 'first' ? 0 : which, ...(seen ? { seen } : {}) });
const creates = () => {
  const { ram, oss, cs, kube } = app!.sandbox!.faults;
  return [...ram.calls, ...oss.calls, ...cs.calls, ...kube.calls].filter((c) => /^(Create|Put|Install|Upgrade|Attach|kube:(create|patch|update))/.test(c));
};
/** The requester answers each question with its first choice until the first approval card: that card. */
async function firstApproval(): Promise<Card> {
  const handled = new Set<string>();
  for (;;) {
    const card = await nextPrompt(handled);
    handled.add(card.outTrackId);
    if (kindOf(card) === 'approval') return card;
    await click(card, REQUESTER, 'first');
  }
}
const privateTo = (userId: string) => emulator.messages().filter((m) => m.via === 'oto' && m.userIds?.includes(userId));

describe('DingTalk end to end', () => {
  it('sets up c-sandbox-managed from a group message by card clicks, through a dropped connection', async () => {
    await startBot();
    expect((await emulator.sendGroupMessage({ conversationId: GROUP, userId: REQUESTER, nick: 'Alice', text: 'backup-setup c-sandbox-managed' })).acked).toBe(true);

    const handled = new Set<string>();
    let dropped = false;
    let approvals = 0;
    for (;;) {
      const card = await nextPrompt(handled);
      handled.add(card.outTrackId);
      const kind = kindOf(card);
      if (kind === 'done') {
        expect(shown(card).markdown).toMatch(COMPLETE);
        break;
      }
      if (kind === 'question') {
        expect((await click(card, REQUESTER, 'first')).acked).toBe(true);
        continue;
      }
      approvals++;
      expect(textOf(card)).toContain('What will change');
      expect(shown(card).buttons.map((b) => b.id)).toEqual(['approve', 'deny']);
      expect((await click(card, APPROVER, 'approve')).acked).toBe(true);
      await until('the approval card to show the decision', () => {
        const now = shown(card);
        return now.buttons.length === 0 && now.markdown.includes(`Approved by ${APPROVER}`);
      });
      if (!dropped) {
        // The network drops mid-conversation: the client reconnects and the session goes on.
        dropped = true;
        emulator.dropConnections();
        await emulator.waitForConnection(10_000);
      }
    }
    expect(dropped).toBe(true);
    expect(approvals).toBeGreaterThan(0);
    const cluster = app!.sandbox!.publicState().clusters['c-sandbox-managed']!;
    expect(cluster.addons.map((a) => a.name)).toContain('migrate-controller');
  });

  it('the first card says where the setup is and whom it waits on, and its Cancel button cancels the setup', async () => {
    await startBot();
    await emulator.sendGroupMessage({ conversationId: GROUP, userId: REQUESTER, nick: 'Alice', text: 'backup-setup c-sandbox-dedicated' });
    const first = await until('the first card', () => groupCards()[0]);
    expect(shown(first).title).toBe('Backup center setup: c-sandbox-dedicated');
    expect(shown(first).buttons.map((b) => [b.id, b.text])).toEqual([['cancel', 'Cancel setup']]);
    const handled = new Set<string>([first.outTrackId]);
    for (;;) {
      const card = await nextPrompt(handled);
      handled.add(card.outTrackId);
      if (kindOf(card) === 'approval') break;
      await click(card, REQUESTER, 'first');
    }
    await until('the first card at the first approval', () => shown(first).markdown.includes('Step 1 of 8: Create RAM user'));
    expect(shown(first).markdown).toMatch(/requested by Alice at \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(GMT\+8\)/);
    expect(shown(first).markdown).toContain(`Waiting on ${APPROVER}`);

    expect((await emulator.clickCard({ outTrackId: first.outTrackId, userId: REQUESTER, button: 'cancel' })).acked).toBe(true);
    const closing = await until('the closing card', () => groupCards().find((c) => kindOf(c) === 'done'));
    expect(shown(closing).markdown).toMatch(/^🛑 Cancelled by/);
    await until('the summary on the first card', () => shown(first).buttons.length === 0 && shown(first).markdown.includes('not done: 8'));
    expect(creates()).toEqual([]);
  });

  it('Deny on a card takes its reason from a private message to the robot, into the card and the audit log', async () => {
    await startBot();
    await emulator.sendGroupMessage({ conversationId: GROUP, userId: REQUESTER, nick: 'Alice', text: 'backup-setup c-sandbox-dedicated' });
    const approval = await firstApproval();
    // Before any denial, a private message is not taken for anything.
    await emulator.sendPrivateMessage({ userId: APPROVER, nick: 'Mei', text: 'hello' });
    await until('the private answer', () => privateTo(APPROVER).length > 0);
    expect(JSON.stringify(privateTo(APPROVER).at(-1)!.msgParam)).toContain('Send backup-setup commands in a group');

    expect((await click(approval, APPROVER, 'deny')).acked).toBe(true);
    await until('the denial on the card', () => shown(approval).markdown.includes('Denied by'));
    await until('the hint', () => privateTo(APPROVER).length > 1);
    expect(JSON.stringify(privateTo(APPROVER).at(-1)!.msgParam)).toContain('send the reason to the robot in a private chat within 10 minutes');

    await emulator.sendPrivateMessage({ userId: APPROVER, nick: 'Mei', text: 'Use the team bucket' });
    await until('the reason on the card', () => shown(approval).markdown.includes('(reason: `Use the team bucket`)'));
    expect(shown(approval).buttons).toEqual([]);
    await until('the confirmation', () => privateTo(APPROVER).length > 2);
    expect(JSON.stringify(privateTo(APPROVER).at(-1)!.msgParam)).toContain('Your reason was added to your denial of \\"Create RAM user\\"');
    await emulator.sendGroupMessage({ conversationId: GROUP, userId: REQUESTER, nick: 'Alice', text: 'backup-setup audit c-sandbox-dedicated' });
    const audit = await until('the audit card', () => groupCards().find((c) => shown(c).markdown.includes('audit entries for')));
    // The audit listing names the approver and shows the reason as typed, as code.
    expect(shown(audit).markdown).toContain('Mei approval.deny `createRamUser`: reason (`Use the team bucket`)');
    // A second reason does not replace the first.
    await emulator.sendPrivateMessage({ userId: APPROVER, nick: 'Mei', text: 'another one' });
    await until('the answer', () => privateTo(APPROVER).length > 3);
    expect(shown(approval).markdown).not.toContain('another one');
    expect(creates()).toEqual([]);
  });

  it('refuses a non-approver click privately and executes nothing twice for a repeated callback', async () => {
    await startBot();
    await emulator.sendGroupMessage({ conversationId: GROUP, userId: REQUESTER, nick: 'Alice', text: '@backup-bot backup-setup c-sandbox-dedicated' });
    const approval = await firstApproval();

    const before = creates().length;
    const seen = shown(approval).buttons;
    await click(approval, REQUESTER, 'approve');
    await until('a private refusal to the requester', () => privateTo(REQUESTER).length > 0);
    expect(JSON.stringify(privateTo(REQUESTER).at(-1)!.msgParam)).toMatch(/approve|approver/i);
    expect(shown(approval).buttons).toHaveLength(2);
    expect(creates().length).toBe(before);

    await click(approval, APPROVER, 'approve');
    await until('the first step result', () => groupCards().find((c) => /^✅ \*\*/.test(shown(c).markdown)));
    const afterFirst = creates().length;
    expect(afterFirst).toBeGreaterThan(before);
    // A second click from a client that still shows the buttons.
    await click(approval, APPROVER, 'approve', seen);
    await until('a private note that it was already decided', () => privateTo(APPROVER).length > 0);
    expect(creates().length).toBe(afterFirst);
  });

  it('answers unknown words with the help text', async () => {
    await startBot();
    await emulator.sendGroupMessage({ conversationId: GROUP, userId: REQUESTER, text: 'backup-setup frobnicate' });
    const card = await until('the help card', () => groupCards()[0]);
    expect(textOf(card)).toContain('frobnicate');
    expect(textOf(card)).toContain('/backup-setup verify');
  });

  it('a 60-cluster fleet: every card within 5,000 characters, every approval arrives and is decided', async () => {
    await startBot({ SANDBOX_FLEET: '60' });
    await emulator.sendGroupMessage({ conversationId: GROUP, userId: REQUESTER, nick: 'Alice', text: 'backup-setup --region cn-hangzhou --all' });
    const handled = new Set<string>();
    let decided = 0;
    for (;;) {
      const card = await until('the next fleet approval or the summary', () =>
        groupCards().find((c) => !handled.has(c.outTrackId) && (kindOf(c) === 'approval' || /^(✅ Backup center setup complete|Fleet setup finished)/.test(shown(c).markdown))),
      120_000);
      handled.add(card.outTrackId);
      if (kindOf(card) !== 'approval') break;
      expect((await click(card, APPROVER, 'approve')).acked).toBe(true);
      await until('the decision on the card', () => shown(card).buttons.length === 0);
      decided++;
    }
    expect(decided).toBeGreaterThan(3);
    const all = groupCards().map((c) => shown(c).markdown);
    for (const markdown of all) expect(markdown.length).toBeLessThanOrEqual(5_000);
    const done = new Set(all.join('\n').match(/c-sandbox-fleet-\d{3} +done/g));
    expect(done.size).toBe(60);
    expect(emulator.calls().filter((c) => c.path.startsWith('/v1.0/card') && c.status !== 200 && c.status !== 403)).toEqual([]);
  }, 300_000);

  it('bad credentials stop start-up with one clear line that does not contain the secret', async () => {
    const wrong = 'dt-wrong-secret-abcdef0123456789';
    const error = await startApp(configFor(wrong), { logger: pino({ level: 'silent' }), host: '127.0.0.1' }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/^DingTalk refused DINGTALK_CLIENT_ID\/DINGTALK_CLIENT_SECRET: \w+/);
    expect(error?.message).not.toContain(wrong);
    expect(error?.message.split('\n')).toHaveLength(1);
  });
});
