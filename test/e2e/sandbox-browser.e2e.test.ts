// Issue 8: the sandbox as a newcomer sees it, in Chromium: the chat page of the running app, a
// dedicated-cluster setup typed by the requester and approved step by step by the approver.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { freePort } from '../support/bot-process.ts';
import { SELECTORS, chromiumPath, launchChromium, openChat, sendCommand, type Browser } from '../web/browser.ts';
import { BOT_USER } from '../../src/sandbox/bot-identity.ts';

const SCREENSHOT = new URL('../../test-results/sandbox-setup.png', import.meta.url);

let app: App;
let browser: Browser;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sandbox-browser-'));
  app = await startApp(loadConfig({ PORT: '0', STATE_DIR: stateDir }), { logger: pino({ level: 'silent' }), host: '127.0.0.1' });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

/** The id of the first message of `kind` not yet handled, or null. */
async function pending(page: Page, kind: string, handled: Set<string>): Promise<string | null> {
  const ids = await page.locator(`${SELECTORS.message}[data-kind="${kind}"]`).evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-message-id')!));
  return ids.find((id) => !handled.has(id)) ?? null;
}

/**
 * Answers each question (the first choice, or the one labelled `prefer` where there is one) and approves each step as
 * the approver, until the closing message; returns how many approvals were given.
 */
async function setUpInBrowser(
  requester: Page, approver: Page, clusterId: string, prefer?: string, beforeApproving?: (approval: string, index: number) => Promise<void>,
): Promise<number> {
  const handled = new Set<string>();
  let approvals = 0;
  const deadline = Date.now() + 60_000;
  while ((await requester.locator(SELECTORS.done, { hasText: clusterId }).count()) === 0) {
    if (Date.now() > deadline) throw new Error(`no closing message; page says: ${await requester.locator(SELECTORS.thread).last().textContent()}`);
    const question = await pending(requester, 'question', handled);
    if (question) {
      handled.add(question);
      const message = requester.locator(`${SELECTORS.message}[data-message-id="${question}"]`);
      const preferred = prefer ? message.locator(SELECTORS.choice, { hasText: prefer }) : null;
      if (preferred && (await preferred.count()) > 0) await preferred.first().click();
      else if ((await message.locator(SELECTORS.choice).count()) > 0) await message.locator(SELECTORS.choice).first().click();
      else await message.locator(SELECTORS.choiceSubmit).click();
      continue;
    }
    const approval = await pending(approver, 'approval', handled);
    if (approval) {
      handled.add(approval);
      await beforeApproving?.(approval, approvals);
      await approver.locator(`${SELECTORS.message}[data-message-id="${approval}"] ${SELECTORS.approve}`).click();
      await approver.locator(`${SELECTORS.message}[data-message-id="${approval}"][data-kind="decided"]`).waitFor();
      approvals++;
      continue;
    }
    await requester.waitForTimeout(50);
  }
  return approvals;
}

describe.skipIf(!chromiumPath())('the sandbox in a browser', () => {
  it('sets up c-sandbox-dedicated: command, answers, an approval per step, and the success message', async () => {
    const requester = await openChat(browser.context, app.url, 'web:requester');
    const approver = await openChat(browser.context, app.url, 'web:approver');
    const errors: Error[] = [];
    requester.on('pageerror', (e) => errors.push(e));
    approver.on('pageerror', (e) => errors.push(e));

    await sendCommand(requester, '/backup-setup c-sandbox-dedicated');
    const approvals = await setUpInBrowser(requester, approver, 'c-sandbox-dedicated');

    expect(await requester.locator(SELECTORS.done).textContent()).toMatch(/^✅ Backup center setup complete/);
    expect(approvals).toBeGreaterThanOrEqual(5);
    expect(await approver.locator(SELECTORS.approve).count()).toBe(0);
    expect(errors).toEqual([]);

    const state = (await (await fetch(`${app.url}/sandbox/state`)).json()) as { ram: { users: string[] } };
    expect(state.ram.users).toEqual([BOT_USER, 'ack-backup-c-sandbox-dedicated']);
    await mkdir(new URL('.', SCREENSHOT), { recursive: true });
    await requester.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
  });

  it('finishes c-sandbox-ulanqab: every prerequisite asked up front, the console ones done with "Authorize in the emulated console"', async () => {
    const requester = await openChat(browser.context, app.url, 'web:requester');
    const approver = await openChat(browser.context, app.url, 'web:approver');
    await sendCommand(requester, '/backup-setup c-sandbox-ulanqab');
    // Before any change: the service that is off is explained, and the first console question offers the sandbox's button.
    const button = requester.locator(SELECTORS.choice, { hasText: 'Authorize in the emulated console' });
    await button.first().waitFor();
    await requester.screenshot({ path: new URL('../../test-results/sandbox-ulanqab-prerequisites.png', import.meta.url).pathname });
    await setUpInBrowser(requester, approver, 'c-sandbox-ulanqab', 'Authorize in the emulated console', async (approval, index) => {
      if (index > 0) return;
      // The first approval activates the snapshot service: rated high, with the billing note and "cannot be undone".
      const card = approver.locator(`${SELECTORS.message}[data-message-id="${approval}"]`);
      const text = (await card.textContent()) ?? '';
      expect(text).toContain('Activate the ECS snapshot service');
      expect(text).toContain('cannot be undone');
      expect(text).toContain('snapshots are then billed by size and retention');
      expect(text).toMatch(/high/i);
      await card.scrollIntoViewIfNeeded();
      await approver.screenshot({ path: new URL('../../test-results/sandbox-ulanqab-activation.png', import.meta.url).pathname });
    });
    expect(await requester.locator(SELECTORS.done, { hasText: 'c-sandbox-ulanqab' }).textContent()).toMatch(/^✅ Backup center setup complete for `?sandbox-ulanqab/);
    const page = (await requester.locator(SELECTORS.thread).last().textContent()) ?? '';
    expect(page).toContain('The ECS snapshot service in cn-wulanchabu is not activated');
    expect(page).toContain('Found the Cloud Backup API Gateway authorization');
    const state = (await (await fetch(`${app.url}/sandbox/state`)).json()) as { clusters: Record<string, { backupVaults: string[] }> };
    expect(state.clusters['c-sandbox-ulanqab']!.backupVaults).toHaveLength(1);
    await requester.screenshot({ path: new URL('../../test-results/sandbox-ulanqab.png', import.meta.url).pathname, fullPage: true });
    await approver.screenshot({ path: new URL('../../test-results/sandbox-ulanqab-approver.png', import.meta.url).pathname, fullPage: true });
  }, 90_000);

  it('after a restart of the bot the thread and its pending approval are back, and the approval still works', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-restart-'));
    const port = await freePort();
    const config = loadConfig({ PORT: String(port), STATE_DIR: dir });
    let first: App | null = await startApp(config, { logger: pino({ level: 'silent' }), host: '127.0.0.1' });
    let second: App | null = null;
    try {
      const requester = await openChat(browser.context, first.url, 'web:requester');
      await sendCommand(requester, '/backup-setup c-sandbox-dedicated');
      const handled = new Set<string>();
      for (;;) {
        const question = await pending(requester, 'question', handled);
        if (question) {
          handled.add(question);
          await requester.locator(`${SELECTORS.message}[data-message-id="${question}"] ${SELECTORS.choice}`).first().click();
          continue;
        }
        if ((await requester.locator(`${SELECTORS.message}[data-kind="approval"]`).count()) > 0) break;
        await requester.waitForTimeout(50);
      }
      const approvalId = (await requester.locator(`${SELECTORS.message}[data-kind="approval"]`).first().getAttribute('data-message-id'))!;
      await first.stop();
      first = null;

      second = await startApp(config, { logger: pino({ level: 'silent' }), host: '127.0.0.1' });
      const approver = await openChat(browser.context, second.url, 'web:approver');
      const approval = approver.locator(`${SELECTORS.message}[data-message-id="${approvalId}"]`);
      await approval.waitFor();
      expect(await approver.locator(`${SELECTORS.message}[data-kind="question"]`).count()).toBe(0); // answered before the restart
      expect(await approver.locator(`${SELECTORS.message}[data-kind="answered"]`).count()).toBe(3);
      await approval.locator(SELECTORS.approve).click();
      await approver.locator(`${SELECTORS.message}[data-message-id="${approvalId}"][data-kind="decided"]`).waitFor();
      await approver.locator(`${SELECTORS.message}[data-kind="result"]`).first().waitFor();
      await requester.reload();
      await requester.locator(`${SELECTORS.message}[data-kind="result"]`).first().waitFor();
      await mkdir(new URL('.', SCREENSHOT), { recursive: true });
      await approver.screenshot({ path: new URL('../../test-results/sandbox-after-restart.png', import.meta.url).pathname, fullPage: true });
    } finally {
      await first?.stop();
      await second?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
