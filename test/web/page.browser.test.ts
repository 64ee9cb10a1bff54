// The chat page in a real browser: a person types a command, answers the bot's question, switches to the
// approver identity and approves; the bot receives the events and the page shows the updated message.
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatEvent, Conversation, PostedMessage } from '../../src/chat/model.ts';
import { WEB_CHANNEL } from '../../src/chat/web/index.ts';
import { driftReply } from '../../src/watch/watcher.ts';
import { serveWebChat, type Served } from './harness.ts';
import { APPROVAL_ID, POLICY_DOCUMENT, SESSION_ID, bucketScopeQuestion, policyApproval } from './fixtures.ts';
import { hostileReplies } from '../chat/hostile-replies.ts';
import {
  SELECTORS,
  chromiumPath,
  launchChromium,
  messageById,
  messagesBy,
  messagesOfKind,
  openChat,
  sendCommand,
  switchIdentity,
  type Browser,
} from './browser.ts';

const SCREENSHOT = new URL('../../test-results/web-chat.png', import.meta.url);
const DRIFT_SCREENSHOT = new URL('../../test-results/web-drift.png', import.meta.url);

/** A stand-in for the session runtime: asks one question, then asks for one approval, then finishes. */
function fakeBot(served: Served) {
  const port = served.chat.port;
  let thread: Conversation = WEB_CHANNEL;
  served.recorder.reactWith(async (event: ChatEvent) => {
    if (event.kind === 'command') {
      const parent = await port.post(WEB_CHANNEL, {
        kind: 'text',
        text: `Backup center setup for \`c-sandbox-dedicated\`, requested by ${event.actor.name}.`,
      });
      thread = { ...WEB_CHANNEL, threadId: parent!.messageId };
      await port.post(thread, bucketScopeQuestion());
    } else if (event.kind === 'answer') {
      await port.post(thread, { kind: 'result', outcome: { step: 'createRamUser', outcome: 'created', detail: 'RAM user `ack-backup`' } });
      await port.post(thread, policyApproval('web:requester'));
    } else if (event.kind === 'decision') {
      const message: PostedMessage = { conversation: event.conversation, messageId: event.messageId };
      await port.update(message, {
        kind: 'decided',
        approvalId: event.approvalId,
        title: 'Create RAM policy `ack-backup-policy-c-sandbox-dedicated`',
        decision: event.decision === 'approve' ? 'approved' : 'denied',
        by: event.actor.id,
        at: '2026-11-24T13:30:00.000Z',
        shown: policyApproval('web:requester'),
      });
      await port.post(thread, { kind: 'done', ok: true, text: '✅ Backup center setup complete for `c-sandbox-dedicated`.' });
    }
  });
}

describe.skipIf(!chromiumPath())('the sandbox chat page in Chromium', () => {
  let served: Served;
  let browser: Browser;

  beforeAll(async () => {
    served = await serveWebChat();
    fakeBot(served);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  it('runs a setup conversation: command, choice, Approve as the approver, updated message', async () => {
    const page = await openChat(browser.context, served.url, 'web:requester');
    const pageErrors: Error[] = [];
    page.on('pageerror', (error) => pageErrors.push(error));

    // A mistyped command is told to its author only.
    await sendCommand(page, '/backup-setup launch-rockets');
    await expect(page.locator(SELECTORS.note).textContent()).resolves.toContain('Only you can see this');
    await expect(page.locator(SELECTORS.note).textContent()).resolves.toContain('Unknown word launch-rockets');

    await sendCommand(page, '/backup-setup c-sandbox-dedicated');
    expect(await served.recorder.next()).toMatchObject({
      kind: 'command',
      command: { verb: 'setup', clusterIds: ['c-sandbox-dedicated'] },
      actor: { id: 'web:requester' },
    });

    const choices = page.locator(SELECTORS.choice);
    await choices.first().waitFor();
    expect(await choices.allTextContents()).toEqual(['Only cnfs-oss-backup (suggested)', 'All buckets']);
    expect(await choices.first().getAttribute('class')).toBe('suggested');
    await choices.first().click();
    expect(await served.recorder.next()).toMatchObject({
      kind: 'answer',
      sessionId: SESSION_ID,
      questionId: 'bucketScope',
      value: 'bucket',
      actor: { id: 'web:requester' },
    });

    const approval = page.locator(SELECTORS.approval);
    await approval.waitFor();
    expect(await approval.locator('h3').textContent()).toMatch(/^🔐 Approval needed: Create or update RAM policy ack-backup-policy-c-sandbox-dedicated/);
    expect(JSON.parse((await page.locator(SELECTORS.policyDocument).textContent())!)).toEqual(POLICY_DOCUMENT);
    expect(await approval.textContent()).toContain('ram:CreatePolicy');
    expect(await messagesOfKind(page, 'result').textContent()).toContain('createdRAM user ack-backup');

    // The bot echoes what people type: it must show as text, never run.
    const thread = page.locator(SELECTORS.thread).last();
    await thread.locator(SELECTORS.threadReply).fill('<img src=x onerror="window.pwned=1"> *bold* `code`');
    await thread.locator(SELECTORS.threadReplySend).click();
    expect(await served.recorder.next()).toMatchObject({ kind: 'threadText', text: '<img src=x onerror="window.pwned=1"> *bold* `code`' });
    const echoed = messagesBy(page, 'web:requester');
    await echoed.waitFor();
    expect(await echoed.locator('.body').textContent()).toBe('<img src=x onerror="window.pwned=1"> *bold* code');
    expect(await echoed.locator('img').count()).toBe(0);
    expect(await echoed.locator('strong').count()).toBe(0);
    expect(await echoed.locator('code').textContent()).toBe('code');

    // The approver does not see the requester's private note.
    await switchIdentity(page, 'web:approver');
    await page.locator(SELECTORS.approve).waitFor();
    expect(await page.locator(SELECTORS.note).count()).toBe(0);

    const approvalId = await page.locator(SELECTORS.approve).evaluate((button) => button.closest('[data-message-id]')!.getAttribute('data-message-id'));
    await page.locator(SELECTORS.approve).click();
    expect(await served.recorder.next()).toMatchObject({
      kind: 'decision',
      sessionId: SESSION_ID,
      approvalId: APPROVAL_ID,
      decision: 'approve',
      messageId: approvalId,
      actor: { id: 'web:approver', name: 'Avery (approver)' },
    });

    const decided = messageById(page, approvalId!);
    await page.locator(`${SELECTORS.message}[data-message-id="${approvalId}"][data-kind="decided"]`).waitFor();
    // The decided approval keeps what was approved (folded), and says who decided and when, by name and in local time.
    const decision = (await decided.locator(SELECTORS.decided).textContent())!;
    expect(decision).toMatch(/^✅ Approved by Avery \(approver\) at .+ — Create RAM policy ack-backup-policy-c-sandbox-dedicated$/);
    expect(decision).not.toContain('2026-11-24T13:30');
    expect(decision).toContain(await page.evaluate(() => new Date('2026-11-24T13:30:00.000Z').toLocaleString()));
    const kept = decided.locator('[data-testid="decided-details"]');
    expect(await kept.getAttribute('open')).toBeNull();
    await kept.locator('summary').click();
    expect(JSON.parse((await kept.locator(SELECTORS.policyDocument).textContent())!)).toEqual(POLICY_DOCUMENT);
    expect(await kept.textContent()).toContain('Requested byRiley (requester)');
    expect(await kept.textContent()).not.toContain('web:requester');
    expect(await page.locator(SELECTORS.approve).count()).toBe(0);
    expect(await page.locator(SELECTORS.done).textContent()).toBe('✅ Backup center setup complete for c-sandbox-dedicated.');

    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(pageErrors).toEqual([]);
    await mkdir(new URL('.', SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
  });

  it('makes links clickable: <url|label> and bare URLs, without their closing punctuation, opening in a new tab', async () => {
    const posted = await served.chat.port.post(WEB_CHANNEL, {
      kind: 'text',
      text: 'Authorize in <https://ram.console.aliyun.com/role/authorize?request=x|the RAM console>, or log on to the console (https://hbr.console.aliyun.com/).',
    });
    const page = await openChat(browser.context, served.url, 'web:requester');
    const links = messageById(page, posted!.messageId).locator('a');
    expect(await links.allTextContents()).toEqual(['the RAM console', 'https://hbr.console.aliyun.com/']);
    expect(await links.evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.getAttribute('target'), a.getAttribute('rel')]))).toEqual([
      ['https://ram.console.aliyun.com/role/authorize?request=x', '_blank', 'noopener noreferrer'],
      ['https://hbr.console.aliyun.com/', '_blank', 'noopener noreferrer'],
    ]);
    await page.close();
  });

  it('offers more than five choices as a select, suggested default first, and answers with the chosen one', async () => {
    const regions = ['cn-hangzhou', 'cn-shanghai', 'cn-beijing', 'cn-shenzhen', 'cn-wulanchabu', 'ap-southeast-1'];
    const posted = await served.chat.port.post(WEB_CHANNEL, {
      kind: 'question',
      sessionId: 's-regions',
      prompt: { kind: 'question', questionId: 'region', text: 'Which region?', choices: regions.map((r) => ({ label: r, value: r })), freeText: true },
    });
    const page = await openChat(browser.context, served.url, 'web:requester');
    const question = messageById(page, posted!.messageId);
    const select = question.locator(SELECTORS.choiceSelect);
    expect(await select.locator('option').allTextContents()).toEqual(['cn-hangzhou (suggested)', ...regions.slice(1)]);
    expect(await question.locator(SELECTORS.choice).count()).toBe(0);
    expect(await question.locator('[data-testid="free-text-hint"]').count()).toBe(1);

    await select.selectOption('cn-wulanchabu');
    await question.locator(SELECTORS.choiceSubmit).click();
    const answer = await served.recorder.next();
    expect(answer).toMatchObject({ kind: 'answer', sessionId: 's-regions', questionId: 'region', value: 'cn-wulanchabu' });
    expect(answer.conversation).toEqual({ ...WEB_CHANNEL, threadId: posted!.messageId });
  });

  it('shows every hostile identifier of every reply kind exactly, as code (issue 15 item 1)', async () => {
    const posted: { id: string; kind: string; shows: string[] }[] = [];
    for (const { reply, shows } of hostileReplies()) {
      const message = await served.chat.port.post(WEB_CHANNEL, reply);
      posted.push({ id: message!.messageId, kind: reply.kind, shows });
    }
    const page = await openChat(browser.context, served.url, 'web:requester');
    const pageErrors: Error[] = [];
    page.on('pageerror', (error) => pageErrors.push(error));
    for (const { id, kind, shows } of posted) {
      const message = messageById(page, id);
      await message.waitFor();
      const code = await message.locator('code, pre').allTextContents();
      for (const identifier of shows) {
        expect(code.some((text) => text === identifier || text.includes(identifier)), `${kind} shows ${identifier} as code; it shows ${JSON.stringify(code)}`).toBe(true);
      }
      expect(await message.textContent()).not.toMatch(/<!time:|<@/);
    }
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: new URL('../../test-results/web-chat-hostile.png', import.meta.url).pathname, fullPage: true });
  });

  it('shows a drift message with its one Fix button, and a click on it reaches the bot', async () => {
    const drift = {
      id: 'd1f7a2b3',
      items: [
        { requirement: 'A backup vault', status: 'fail' as const, detail: 'no BackupLocation in namespace csdr', steps: ['createBackupVault' as const] },
        { requirement: 'A passed test backup of the current configuration', status: 'warn' as const, detail: 'no test backup is recorded on vault sandbox-dedicated-backups', steps: ['testBackup' as const] },
      ],
      since: '2026-12-02T01:03:36.193Z',
      lastGood: '2026-12-02T01:03:31.193Z',
      message: null,
    };
    const posted = await served.chat.port.post(WEB_CHANNEL, driftReply('c-sandbox-dedicated', drift, true));
    const page = await openChat(browser.context, served.url, 'web:requester');
    const message = messageById(page, posted!.messageId);
    await message.waitFor();
    expect(await message.locator(SELECTORS.choice).allTextContents()).toEqual(['Fix']);
    await mkdir(new URL('.', DRIFT_SCREENSHOT), { recursive: true });
    await page.screenshot({ path: DRIFT_SCREENSHOT.pathname, fullPage: true });
    expect(await message.locator('.question').textContent()).toMatch(/^⚠️ Drift on c-sandbox-dedicated: /);
    expect(await message.locator('code').first().textContent()).toBe('c-sandbox-dedicated');
    await message.locator(SELECTORS.choice).click();
    expect(await served.recorder.next()).toMatchObject({ kind: 'answer', sessionId: 'watch.c-sandbox-dedicated', questionId: 'fix', value: 'd1f7a2b3', actor: { id: 'web:requester' } });
  });
});
