// Issue 6: the whole app driven from a DingTalk group through the Stream and OpenAPI emulator, by card
// clicks: the real dingtalk-stream client, the sandbox cloud, the same approval rules as Slack.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.ts';
import { buttonsOf } from '../../src/chat/dingtalk/cards.ts';
import { loadConfig } from '../../src/config/index.ts';
import { startDingTalkEmulator, type DingTalkEmulator } from '../../src/sandbox/dingtalk/server.ts';
import { COMPLETE } from '../support/bot-harness.ts';

const CREDENTIALS = { clientId: 'dingbackupbot', clientSecret: 'dt-client-secret-0123456789abcdef', robotCode: 'dingbackupbot', cardTemplateId: 'tpl-backup.schema' };
const GROUP = 'cidBackupOps==';
const REQUESTER = 'alice01';
const APPROVER = 'manager123';

let emulator: DingTalkEmulator;
let app: App | undefined;
let stateDir: string;

const configFor = (secret = CREDENTIALS.clientSecret) =>
  loadConfig({
    BACKUP_SETUP_SANDBOX: '1',
    DINGTALK_CLIENT_ID: CREDENTIALS.clientId,
    DINGTALK_CLIENT_SECRET: secret,
    DINGTALK_ROBOT_CODE: CREDENTIALS.robotCode,
    DINGTALK_CARD_TEMPLATE_ID: CREDENTIALS.cardTemplateId,
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

async function startBot(): Promise<App> {
  app = await startApp(configFor(), { logger: pino({ level: 'silent' }), host: '127.0.0.1' });
  await emulator.waitForConnection();
  return app;
}

type Card = ReturnType<DingTalkEmulator['cards']>[number];

async function until<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; cards: ${JSON.stringify(emulator.cards().map((c) => c.cardParamMap.title))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const groupCards = () => emulator.cards().filter((c) => c.conversationId === GROUP);
const textOf = (card: Card) => `${card.cardParamMap.title ?? ''}\n${card.cardParamMap.markdown ?? ''}`;
const nextPrompt = (handled: Set<string>) =>
  until('the next question, approval or closing card', () =>
    groupCards().find((c) => !handled.has(c.outTrackId) && ['question', 'approval', 'done'].includes(c.cardParamMap.kind ?? '')),
  );
const click = (card: Card, userId: string, which: 'first' | 'approve' | 'deny') => {
  const buttons = buttonsOf(card.cardParamMap);
  const button = which === 'first' ? buttons[0] : buttons.find((b) => b.id === which);
  if (!button) throw new Error(`card ${card.cardParamMap.title} has no ${which} button`);
  return emulator.clickCard({ outTrackId: card.outTrackId, userId, actionId: button.id, params: button.params as unknown as Record<string, string> });
};
const creates = () => {
  const { ram, oss, cs, kube } = app!.sandbox!.faults;
  return [...ram.calls, ...oss.calls, ...cs.calls, ...kube.calls].filter((c) => /^(Create|Put|Install|Upgrade|Attach|kube:(create|patch|update))/.test(c));
};
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
      const kind = card.cardParamMap.kind;
      if (kind === 'done') {
        expect(card.cardParamMap.markdown).toMatch(COMPLETE);
        break;
      }
      if (kind === 'question') {
        expect((await click(card, REQUESTER, 'first')).acked).toBe(true);
        continue;
      }
      approvals++;
      expect(textOf(card)).toContain('What will change');
      expect(buttonsOf(card.cardParamMap).map((b) => b.id)).toEqual(['approve', 'deny']);
      expect((await click(card, APPROVER, 'approve')).acked).toBe(true);
      await until('the approval card to show the decision', () => {
        const now = groupCards().find((c) => c.outTrackId === card.outTrackId)!;
        return buttonsOf(now.cardParamMap).length === 0 && (now.cardParamMap.status ?? '').includes(APPROVER);
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

  it('refuses a non-approver click privately and executes nothing twice for a repeated callback', async () => {
    await startBot();
    await emulator.sendGroupMessage({ conversationId: GROUP, userId: REQUESTER, nick: 'Alice', text: '@backup-bot backup-setup c-sandbox-dedicated' });
    const handled = new Set<string>();
    let approval: Card;
    for (;;) {
      const card = await nextPrompt(handled);
      handled.add(card.outTrackId);
      if (card.cardParamMap.kind === 'approval') {
        approval = card;
        break;
      }
      await click(card, REQUESTER, 'first');
    }

    const before = creates().length;
    await click(approval, REQUESTER, 'approve');
    await until('a private refusal to the requester', () => privateTo(REQUESTER).length > 0);
    expect(JSON.stringify(privateTo(REQUESTER).at(-1)!.msgParam)).toMatch(/approve|approver/i);
    expect(buttonsOf(groupCards().find((c) => c.outTrackId === approval.outTrackId)!.cardParamMap)).toHaveLength(2);
    expect(creates().length).toBe(before);

    await click(approval, APPROVER, 'approve');
    await until('the first step result', () => groupCards().find((c) => c.cardParamMap.kind === 'result'));
    const afterFirst = creates().length;
    expect(afterFirst).toBeGreaterThan(before);
    await click(approval, APPROVER, 'approve');
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
