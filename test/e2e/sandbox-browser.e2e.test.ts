// Issue 8: the sandbox as a newcomer sees it, in Chromium: the chat page of the running app, a
// dedicated-cluster setup typed by the requester and approved step by step by the approver.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { freePort } from '../support/bot-process.ts';
import { SELECTORS, chromiumPath, launchChromium, openChat, screenshotChannel, sendCommand, type Browser } from '../web/browser.ts';
import { SANDBOX_GUIDE } from '../../src/sandbox/seed.ts';
import { BOT_USER } from '../../src/sandbox/bot-identity.ts';

const SCREENSHOT = new URL('../../test-results/sandbox-setup.png', import.meta.url);
const shot = (name: string) => new URL(`../../test-results/${name}`, import.meta.url).pathname;

let app: App;
let browser: Browser;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sandbox-browser-'));
  app = await startApp(loadConfig({ PORT: '0', STATE_DIR: stateDir }), { logger: pino({ level: 'silent' }), host: '127.0.0.1' });
  browser = await launchChromium();
});

// Each open page holds an EventSource, and Chromium opens at most 6 HTTP/1.1 connections per host: pages left open by
// one test would leave the next one's clicks queued behind them.
afterEach(async () => {
  for (const page of browser?.context.pages() ?? []) await page.close();
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

/** Answers each question with its suggested choice until an approval shows in `where` (the page, or one thread of it). */
async function answerUntilApproval(page: Page, where: Page | Locator = page): Promise<void> {
  const handled = new Set<string>();
  for (;;) {
    const question = await pending(page, 'question', handled);
    if (question) {
      handled.add(question);
      await page.locator(`${SELECTORS.message}[data-message-id="${question}"] [data-primary="true"]`).click();
      continue;
    }
    if ((await where.locator(`${SELECTORS.message}[data-kind="approval"]`).count()) > 0) return;
    await page.waitForTimeout(50);
  }
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

    // Issue 15 #12: the empty channel guides a newcomer: the seeded clusters, the approvers, how to switch.
    const guide = requester.locator(SELECTORS.guide);
    await guide.waitFor();
    expect(await requester.locator(SELECTORS.guideClusters).count()).toBe(SANDBOX_GUIDE.length);
    expect(await guide.textContent()).toContain('c-sandbox-dedicated — ACK dedicated: a RAM user, its policy and an AccessKey Secret');
    expect(await guide.textContent()).toContain('Avery (approver), Casey (second approver)');
    expect(await guide.textContent()).toContain('“You are” menu');
    expect(await requester.locator('link[rel="icon"]').getAttribute('href')).toBe('/chat/favicon.svg');
    expect((await fetch(`${app.url}/chat/favicon.svg`)).headers.get('content-type')).toBe('image/svg+xml');
    // The channel is no live region replaying everything; one small region announces new messages.
    expect(await requester.locator('[aria-live]').count()).toBe(1);
    expect(await requester.locator(`${SELECTORS.announcer}[aria-live="polite"]`).count()).toBe(1);
    await requester.screenshot({ path: shot('sandbox-guide.png') });
    await requester.locator('[data-testid="guide-start"][data-cluster="c-sandbox-dedicated"]').click();
    expect(await requester.locator(SELECTORS.composer).inputValue()).toBe('/backup-setup c-sandbox-dedicated');

    await requester.locator(SELECTORS.composer).press('Enter');
    await requester.locator(SELECTORS.status).first().waitFor();
    expect(await guide.isHidden()).toBe(true);
    const head = requester.locator(`${SELECTORS.message}[data-kind="status"]`);
    expect(await head.locator('[data-testid="status-title"]').textContent()).toMatch(/^Backup center setup for c-sandbox-dedicated, requested by Riley \(requester\) at /);
    const heads = new Set<string>();
    const handled = new Set<string>();
    let approvals = 0;
    const deadline = Date.now() + 60_000;
    while ((await requester.locator(SELECTORS.done).count()) === 0) {
      if (Date.now() > deadline) throw new Error(`no closing message; page says: ${await requester.locator(SELECTORS.thread).last().textContent()}`);
      heads.add((await head.locator(SELECTORS.status).textContent().catch(() => '')) ?? '');
      const question = await pending(requester, 'question', handled);
      if (question) {
        handled.add(question);
        const message = requester.locator(`${SELECTORS.message}[data-message-id="${question}"]`);
        // Keyboard focus is on the question's suggested answer: Enter answers it.
        await requester.locator(`${SELECTORS.message}[data-message-id="${question}"] [data-primary="true"]:focus`).waitFor({ timeout: 5_000 });
        await requester.keyboard.press('Enter');
        // #7: the question keeps its text, loses its buttons, and says who chose what.
        await requester.locator(`${SELECTORS.message}[data-message-id="${question}"][data-kind="answered"]`).waitFor({ timeout: 5_000 });
        expect(await message.locator('button').count()).toBe(0);
        expect(await message.locator(SELECTORS.answered).textContent()).toMatch(/^✔️ Riley \(requester\) chose \S+/);
        continue;
      }
      const approval = await pending(approver, 'approval', handled);
      if (approval) {
        handled.add(approval);
        const approve = approver.locator(`${SELECTORS.message}[data-message-id="${approval}"] ${SELECTORS.approve}`);
        // The reason field of Deny shows only after Deny.
        expect(await approver.locator(`${SELECTORS.message}[data-message-id="${approval}"] ${SELECTORS.denyReason}`).isVisible()).toBe(false);
        expect(await approve.getAttribute('aria-label')).toMatch(/^Approve: \S/);
        // Keyboard focus moved to the new approval's Approve button.
        await approver.locator(`${SELECTORS.message}[data-message-id="${approval}"] ${SELECTORS.approve}:focus`).waitFor({ timeout: 5_000 });
        if (approvals === 2) {
          await approver.locator(`[data-kind="status"] ${SELECTORS.status}:has-text("Step 3 of 8")`).waitFor();
          await screenshotChannel(approver, shot('sandbox-dedicated-waiting.png'));
        }
        await approve.click();
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

    const answers = await requester.locator(SELECTORS.answered).allTextContents();
    expect(answers).toContain('✔️ Riley (requester) chose bucket cnfs-oss-sandbox-backups (existing)');
    expect(answers).toContain('✔️ Riley (requester) chose region cn-hangzhou (cluster region)');
    // #9: the top message told where the setup was (step k of n, waiting on whom), and ends with the summary.
    expect([...heads].some((h) => /Step 1 of \d+: Create RAM user ack-backup-c-sandbox-dedicated — waiting for an approver\./.test(h))).toBe(true);
    expect([...heads].some((h) => h.startsWith('Waiting for an answer to: '))).toBe(true);
    await requester.locator(`${SELECTORS.message}[data-kind="status"] ${SELECTORS.status}:has-text("Created or changed")`).waitFor();
    const summary = (await head.locator(SELECTORS.status).textContent())!;
    expect(summary).toContain('✅ Backup center setup complete for sandbox-dedicated');
    expect(summary).toMatch(/Created or changed: 7 · already present: 0 · not done: 0\./);
    expect(summary).toContain('Backup vault: Created backup vault sandbox-dedicated-backups (bucket cnfs-oss-sandbox-backups, cn-hangzhou, internal network)');
    expect(await head.locator(SELECTORS.cancelSession).count()).toBe(0);
    // Stale buttons are gone, so they are out of the tab order.
    expect(await requester.locator('[data-testid="thread"] button:not([disabled])').count()).toBe(1); // the thread's Reply
    await screenshotChannel(requester, shot('sandbox-dedicated-thread.png'));
    // The live region said the newest message; a reload replays the channel without announcing it.
    expect(await requester.locator(SELECTORS.announcer).textContent()).toMatch(/^backup-setup: /);
    await requester.reload();
    await requester.locator(`${SELECTORS.connection}[data-state="connected"]`).waitFor();
    await requester.locator(SELECTORS.done).waitFor();
    expect(await requester.locator(SELECTORS.announcer).textContent()).toBe('');

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

  it('the requester, an approver, asks the second approver, who denies with a reason; another setup is cancelled from its top message', async () => {
    const avery = await openChat(browser.context, app.url, 'web:approver');
    await sendCommand(avery, '/backup-setup c-sandbox-managed');
    const thread = avery.locator(`${SELECTORS.thread}:has([data-kind="status"]:has-text("c-sandbox-managed"))`);
    await thread.waitFor();
    await answerUntilApproval(avery, thread);
    // Avery may not approve her own request: the approval is not hers to answer, and says who can.
    const approval = thread.locator(`${SELECTORS.message}[data-kind="approval"]`).first();
    expect(await approval.getAttribute('data-needs-answer')).toBe('other');
    expect(await thread.locator(SELECTORS.waitingOn).textContent()).toBe('Waiting on Avery (approver), Casey (second approver)');
    // Her own click is refused, privately; the buttons it disabled come back, since nothing changed.
    await approval.locator(SELECTORS.approve).click();
    expect(await approval.locator(SELECTORS.approve).isDisabled()).toBe(true);
    await avery.locator(`${SELECTORS.note}:has-text("cannot approve its steps yourself")`).waitFor();
    await approval.locator(`${SELECTORS.approve}:not([disabled])`).waitFor({ timeout: 6_000 });
    const [casey] = await Promise.all([browser.context.waitForEvent('page'), approval.locator(SELECTORS.askApproverLink).click()]);
    await casey!.locator(`${SELECTORS.connection}[data-state="connected"]`).waitFor();
    expect(await casey!.locator(SELECTORS.identity).inputValue()).toBe('web:approver-2');
    const id = (await approval.getAttribute('data-message-id'))!;
    const theirs = casey!.locator(`${SELECTORS.message}[data-message-id="${id}"]`);
    // The channel's history is replayed first; the approval is answerable once its buttons are enabled.
    await theirs.locator(`${SELECTORS.deny}:not([disabled])`).waitFor();
    expect(await theirs.locator(SELECTORS.denyReason).isVisible()).toBe(false);
    await theirs.locator(SELECTORS.deny).click();
    expect(await theirs.locator(`${SELECTORS.denyReason}:focus`).isVisible()).toBe(true);
    await theirs.locator(SELECTORS.denyReason).fill('Use the team bucket, not a new one');
    await theirs.locator(SELECTORS.denyConfirm).click();
    await theirs.locator(`${SELECTORS.decided}:has-text("reason:")`).waitFor();
    // The reason a person typed is shown as code, with every character it has.
    expect(await theirs.locator(`${SELECTORS.decided} code`).textContent()).toBe('Use the team bucket, not a new one');
    expect(await theirs.locator(SELECTORS.decided).textContent()).toMatch(/^🚫|^❌/u);
    await thread.locator(SELECTORS.done).waitFor();
    expect(await thread.locator(SELECTORS.done).textContent()).toMatch(/^❌ Stopped: .* denied "/u);
    await thread.locator(`[data-kind="status"] ${SELECTORS.status}:has-text("The whole story")`).waitFor();
    expect(await thread.locator(SELECTORS.cancelSession).count()).toBe(0);
    await screenshotChannel(casey!, shot('sandbox-denied-with-reason.png'));

    // The reason is in the audit log.
    await sendCommand(avery, '/backup-setup audit c-sandbox-managed');
    await avery.locator(`${SELECTORS.message}:has-text("audit entries for c-sandbox-managed")`).waitFor();
    expect(await avery.locator(`${SELECTORS.message}:has-text("audit entries for c-sandbox-managed")`).textContent()).toContain('Use the team bucket, not a new one');

    // The Cancel button of a running setup's top message (after a confirmation) cancels it.
    const riley = await openChat(browser.context, app.url, 'web:requester');
    await sendCommand(riley, '/backup-setup c-sandbox-edge');
    const edge = riley.locator(`${SELECTORS.thread}:has([data-kind="status"]:has-text("c-sandbox-edge"))`);
    const cancel = edge.locator(SELECTORS.cancelSession);
    await cancel.waitFor();
    expect(await cancel.getAttribute('aria-label')).toBe('Cancel the backup center setup of c-sandbox-edge');
    riley.once('dialog', (dialog) => void dialog.accept());
    await cancel.click();
    await edge.locator(SELECTORS.done).waitFor();
    expect(await edge.locator(SELECTORS.done).textContent()).toMatch(/Cancelled by/);
    await edge.locator(`[data-kind="status"] ${SELECTORS.status}:has-text("The whole story")`).waitFor();
    expect(await edge.locator(SELECTORS.cancelSession).count()).toBe(0);
    expect(await edge.locator(`${SELECTORS.message}[data-kind="question"]`).count()).toBe(0);
  }, 60_000);

  it('reminds the approvers before an approval expires, and an expired one can be requested again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-expiry-'));
    let offset = 0;
    const clocked = await startApp(loadConfig({ PORT: '0', STATE_DIR: dir }), {
      logger: pino({ level: 'silent' }),
      host: '127.0.0.1',
      now: () => new Date(Date.now() + offset),
      sweepEveryMs: 100,
    });
    try {
      const riley = await openChat(browser.context, clocked.url, 'web:requester');
      await sendCommand(riley, '/backup-setup c-sandbox-dedicated');
      await answerUntilApproval(riley);
      // 15 minutes to decide (APPROVAL_TTL); at 12 the approvers are reminded, in the thread.
      offset = 12 * 60_000 + 5_000;
      const reminder = riley.locator(`${SELECTORS.message}[data-kind="reminder"]`);
      await reminder.waitFor();
      expect(await reminder.textContent()).toMatch(/⏰ Avery \(approver\), Casey \(second approver\): the approval of Create RAM user expires at .+\. Approve or deny it above/);
      offset = 15 * 60_000 + 5_000;
      const expired = riley.locator(`${SELECTORS.message}[data-kind="decided"]`);
      await expired.locator('[data-testid="request-again"]').waitFor();
      expect(await expired.locator(SELECTORS.decided).textContent()).toMatch(/^⌛ Expired at .+; nothing was changed — Create RAM user$/);
      await riley.locator(SELECTORS.done).waitFor();
      expect(await riley.locator(SELECTORS.done).textContent()).toMatch(/^⌛ Stopped: nobody decided on "Create RAM user/u);
      expect(await riley.locator(SELECTORS.reminder).count()).toBe(1);
      await screenshotChannel(riley, shot('sandbox-expired.png'));
      await expired.locator('[data-testid="request-again"]').click();
      // A new setup of the cluster, in a new thread, asks again.
      await riley.locator(SELECTORS.thread).nth(1).locator(`${SELECTORS.message}[data-kind="status"]`).waitFor();
      expect(await riley.locator(SELECTORS.thread).count()).toBe(2);
    } finally {
      await clocked.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

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
