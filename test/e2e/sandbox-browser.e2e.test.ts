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
import { SELECTORS, chromiumPath, launchChromium, openChat, sendCommand, type Browser } from '../web/browser.ts';

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

describe.skipIf(!chromiumPath())('the sandbox in a browser', () => {
  it('sets up c-sandbox-dedicated: command, answers, an approval per step, and the success message', async () => {
    const requester = await openChat(browser.context, app.url, 'web:requester');
    const approver = await openChat(browser.context, app.url, 'web:approver');
    const errors: Error[] = [];
    requester.on('pageerror', (e) => errors.push(e));
    approver.on('pageerror', (e) => errors.push(e));

    await sendCommand(requester, '/backup-setup c-sandbox-dedicated');
    const handled = new Set<string>();
    let approvals = 0;
    const deadline = Date.now() + 60_000;
    while ((await requester.locator(SELECTORS.done).count()) === 0) {
      if (Date.now() > deadline) throw new Error(`no closing message; page says: ${await requester.locator(SELECTORS.thread).last().textContent()}`);
      const question = await pending(requester, 'question', handled);
      if (question) {
        handled.add(question);
        const message = requester.locator(`${SELECTORS.message}[data-message-id="${question}"]`);
        if ((await message.locator(SELECTORS.choice).count()) > 0) await message.locator(SELECTORS.choice).first().click();
        else await message.locator(SELECTORS.choiceSubmit).click();
        continue;
      }
      const approval = await pending(approver, 'approval', handled);
      if (approval) {
        handled.add(approval);
        await approver.locator(`${SELECTORS.message}[data-message-id="${approval}"] ${SELECTORS.approve}`).click();
        await approver.locator(`${SELECTORS.message}[data-message-id="${approval}"][data-kind="decided"]`).waitFor();
        approvals++;
        continue;
      }
      await requester.waitForTimeout(50);
    }

    expect(await requester.locator(SELECTORS.done).textContent()).toMatch(/^✅ Backup center setup complete/);
    expect(approvals).toBeGreaterThanOrEqual(5);
    expect(await approver.locator(SELECTORS.approve).count()).toBe(0);
    expect(errors).toEqual([]);

    const state = (await (await fetch(`${app.url}/sandbox/state`)).json()) as { ram: { users: string[] } };
    expect(state.ram.users).toEqual(['ack-backup-c-sandbox-dedicated']);
    await mkdir(new URL('.', SCREENSHOT), { recursive: true });
    await requester.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
  });
});
