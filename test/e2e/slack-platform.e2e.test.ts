// Issue 14: the whole app against a Slack that behaves as the real one does: Socket Mode with a forced
// disconnect in the middle of a setup, a channel the bot is not in, and a 60-cluster fleet whose every
// message stays within Slack's limits (the emulator refuses msg_blocks_too_long as Slack does).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { blocksTextLength, LIMITS } from '../../src/sandbox/slack/block-kit.ts';
import { startSlackApi, type SlackApi } from '../../src/sandbox/slack/api.ts';
import { SIGNING_SECRET } from '../slack/slack-requests.ts';
import { actionsOf, CHANNEL, isApproval, SlackDriver, type Transport } from '../support/slack-driver.ts';

const BOT_TOKEN = 'xoxb-4242-4242-e2etoken';
const APP_TOKEN = 'xapp-1-A0BACKUPSETUP-1-e2eapptoken';
const REQUESTER = 'U0ALICE';
const APPROVER = 'U0BOB';
const OUTSIDE = 'C0ELSEWHERE';

let api: SlackApi;
let app: App;
let slack: SlackDriver;
let stateDir: string;

async function start(transport: Transport, env: Record<string, string> = {}) {
  api = await startSlackApi({
    token: BOT_TOKEN,
    appToken: APP_TOKEN,
    channels: [
      { id: CHANNEL, name: 'backups' },
      { id: OUTSIDE, name: 'elsewhere', botIsMember: false },
    ],
  });
  stateDir = mkdtempSync(join(tmpdir(), 'slack-platform-e2e-'));
  const config = loadConfig({
    BACKUP_SETUP_SANDBOX: '1',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    ...(transport === 'socket' ? { SLACK_APP_TOKEN: APP_TOKEN } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
    SLACK_API_URL: api.url,
    PORT: '0',
    STATE_DIR: stateDir,
    APPROVERS: `slack:${APPROVER}`,
    ...env,
  });
  app = await startApp(config, { logger: pino({ level: 'silent' }), host: '127.0.0.1' });
  slack = new SlackDriver(api, `${app.url}/slack/events`, transport);
}

afterEach(async () => {
  await app?.stop();
  await api?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const readyz = async () => (await fetch(`${app.url}/readyz`)).json() as Promise<{ ready: boolean; checks: Record<string, boolean> }>;

describe('Slack as it really behaves', () => {
  it('a full setup over Socket Mode, with the socket refreshed and then cut in the middle', async () => {
    await start('socket');
    await api.socket.waitForConnections(1);
    expect((await readyz()).checks.slack).toBe(true);

    expect((await slack.command('c-sandbox-dedicated', REQUESTER)).status).toBe(200);
    const parent = await slack.parentOf('c-sandbox-dedicated');
    const handled = new Set<string>();
    let approvals = 0;
    for (;;) {
      const next = await slack.nextPrompt(parent.ts, handled);
      handled.add(next.ts);
      if (!isApproval(next) && actionsOf(next).length === 0) {
        expect(next.text).toMatch(/^✅ Backup center setup complete/);
        break;
      }
      if (isApproval(next) && ++approvals === 2) {
        // Slack recycles the connection: the bot must open a new one at once and carry on.
        api.socket.requestRefresh('refresh_requested');
        await api.socket.waitForConnections(2);
      }
      if (isApproval(next) && approvals === 4) {
        // A network failure: no close handshake at all.
        api.socket.dropConnections();
        await api.socket.waitForConnections(3);
      }
      const response = isApproval(next) ? await slack.click(next, 'approve', APPROVER) : await slack.click(next, 'first', REQUESTER);
      expect(response.status).toBe(200);
    }
    expect(approvals).toBeGreaterThanOrEqual(5);
    expect(api.socket.connectionsOpened).toBeGreaterThanOrEqual(3);
    expect(app.sandbox!.publicState().clusters['c-sandbox-dedicated']!.addons.map((a) => a.name)).toContain('migrate-controller');
    expect((await readyz()).checks.slack).toBe(true);
  });

  it('/readyz says when the Socket Mode connection is down', async () => {
    await start('socket');
    await api.socket.waitForConnections(1);
    api.setOutage(true);
    api.socket.dropConnections();
    for (let i = 0; i < 500 && (await readyz()).checks.slack; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const down = await fetch(`${app.url}/readyz`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { checks: Record<string, boolean> }).checks.slack).toBe(false);
    api.setOutage(false);
    await api.socket.waitForConnections(2, 30_000);
    for (let i = 0; i < 500 && !(await readyz()).checks.slack; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await readyz()).ready).toBe(true);
  });

  it('a command from a channel the bot is not in is answered with how to invite it, and nothing starts', async () => {
    await start('http');
    const response = await slack.command('c-sandbox-dedicated', REQUESTER, slack.eventsUrl, OUTSIDE);
    expect(response.status).toBe(200);
    const body = JSON.parse(response.body) as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('/invite @backup-setup');
    expect(body.text).toContain('chat:write.public');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(api.messages).toEqual([]);
    expect(api.calls.filter((c) => c.method === 'chat.postMessage')).toEqual([]);
    expect(app.sandbox!.faults.cs.calls.filter((c) => c.startsWith('Install'))).toEqual([]);
  });

  it('removed from the channel after the check: the setup does not start, and the requester is told why', async () => {
    await start('http');
    // The membership check passed a moment ago (and is remembered briefly); then someone removes the bot.
    expect((await slack.command('verify c-sandbox-managed', REQUESTER)).status).toBe(200);
    await slack.until('the verify answer', () => api.messages.length > 0);
    api.setMembership(CHANNEL, false);
    expect((await slack.command('c-sandbox-dedicated', REQUESTER)).status).toBe(200);
    const told = await slack.until('the requester to be told', () =>
      api.ephemerals.find((e) => e.user === REQUESTER && /did not start/.test(e.text ?? '')),
    );
    expect(told.text).toContain('/invite @backup-setup');
    api.setMembership(CHANNEL, true);
    expect((await slack.command('status c-sandbox-dedicated', REQUESTER)).status).toBe(200);
    await slack.until('the status answer', () => api.ephemerals.some((e) => /No setup of `c-sandbox-dedicated` is running/.test(e.text ?? '')));
    expect(app.sandbox!.faults.ram.calls.filter((c) => c.startsWith('Create'))).toEqual([]);
  });

  it('beside Slack the sandbox web chat is off unless asked for, and then answers local clients only', async () => {
    await start('http');
    expect((await fetch(`${app.url}/`)).status).toBe(404);
    expect((await fetch(`${app.url}/chat/command`, { method: 'POST', body: '{}' })).status).toBe(404);
    // The emulated cloud stays available.
    expect((await fetch(`${app.url}/sandbox/state`)).status).toBe(200);
    await app.stop();
    await api.close();
    rmSync(stateDir, { recursive: true, force: true });

    await start('http', { BACKUP_SETUP_WEB_CHAT: '1' });
    expect((await fetch(`${app.url}/`)).status).toBe(200);
    // Through a proxy (anyone who can reach it) the identity switch is not served.
    expect((await fetch(`${app.url}/`, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status).toBe(404);
  });

  it('a 60-cluster fleet: every message within the limits, every approval arrives and is decided', async () => {
    await start('http', { SANDBOX_FLEET: '60' });
    expect((await slack.command('--region cn-hangzhou --all', REQUESTER)).status).toBe(200);
    const parent = await slack.until('the fleet thread', () => api.messages.find((m) => !m.threadTs && /clusters/.test(m.text ?? '')));
    const handled = new Set<string>();
    let summary;
    for (;;) {
      const next = await slack.until(
        'the next fleet approval or the summary',
        () => api.messages.find((m) => m.threadTs === parent.ts && !handled.has(m.ts) && (isApproval(m) || /^(✅ Backup center setup complete|Fleet setup finished)/.test(m.text ?? ''))),
        120_000,
      );
      handled.add(next.ts);
      if (!isApproval(next)) {
        summary = next;
        break;
      }
      expect((await slack.click(next, 'approve', APPROVER)).status).toBe(200);
    }
    const fleetRows = api.messages
      .filter((m) => m.threadTs === parent.ts)
      .flatMap((m) => JSON.stringify(m.blocks ?? []).match(/c-sandbox-fleet-\d{3} +done/g) ?? []);
    expect(new Set(fleetRows).size).toBe(60);
    expect(summary.text).toMatch(/Fleet setup finished: \d+ done/);

    // Nothing was refused, and every approval was decided (its buttons are gone).
    const refused = api.calls.filter((c) => c.method.startsWith('chat.') && c.error !== undefined);
    expect(refused).toEqual([]);
    const decided = api.messages.filter((m) => m.edits > 0 && /Approved by/.test(JSON.stringify(m.blocks)));
    expect(decided.length).toBe(handled.size - 1);
    expect(decided.length).toBeGreaterThan(3);
    expect(api.messages.filter(isApproval)).toEqual([]);
    // The per-cluster changes did not fit one message: they follow the approvals in the thread.
    expect(api.messages.some((m) => JSON.stringify(m.blocks ?? []).includes('Every change of this approval'))).toBe(true);
    for (const m of api.messages) {
      expect(blocksTextLength(m.blocks ?? [])).toBeLessThanOrEqual(LIMITS.messageText);
      expect((m.blocks ?? []).length).toBeLessThanOrEqual(LIMITS.blocks);
    }
    // The summary's table is a code block in every section it spans.
    for (const m of api.messages.filter((x) => x.threadTs === parent.ts && JSON.stringify(x.blocks ?? []).includes('result   reason'))) {
      for (const block of (m.blocks ?? []) as { text?: { text: string } }[]) {
        const fences = (block.text?.text.match(/```/g) ?? []).length;
        expect(fences % 2).toBe(0);
      }
    }
  }, 300_000);
});
