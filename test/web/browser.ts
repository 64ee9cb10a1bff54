// Driving the sandbox chat page in Debian's Chromium through playwright-core: launching the browser and
// the page's stable selectors and gestures, shared by every browser test of the page.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { toolPath } from '../support/tools.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium's path, or null when it is missing and the browser tests are skipped. */
export const chromiumPath = (): string | null => toolPath('chromium');

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile, offline except for 127.0.0.1. */
export async function launchChromium(): Promise<Browser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'web-chat-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath()!,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
  });
  // The page must work offline: any request leaving the machine is a bug.
  await context.route(/^(?!https?:\/\/127\.0\.0\.1[:/])/, (route) => route.abort('blockedbyclient'));
  return {
    context,
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

export const SELECTORS = {
  identity: '[data-testid="identity"]',
  connection: '[data-testid="connection"]',
  composer: '[data-testid="composer"]',
  composerSend: '[data-testid="composer-send"]',
  thread: '[data-testid="thread"]',
  message: '[data-testid="message"]',
  note: '[data-testid="note"]',
  choice: '[data-testid="choice"]',
  choiceSelect: '[data-testid="choice-select"]',
  choiceSubmit: '[data-testid="choice-submit"]',
  approval: '[data-testid="approval"]',
  approve: '[data-testid="approve"]',
  deny: '[data-testid="deny"]',
  policyDocument: '[data-testid="policy-document"]',
  decided: '[data-testid="decided"]',
  done: '[data-testid="done"]',
  threadReply: '[data-testid="thread-reply"]',
  threadReplySend: '[data-testid="thread-reply-send"]',
  status: '[data-testid="status"]',
  waitingOn: '[data-testid="waiting-on"]',
  cancelSession: '[data-testid="cancel-session"]',
  answered: '[data-testid="answered"]',
  denyReason: '[data-testid="deny-reason"]',
  denyConfirm: '[data-testid="deny-confirm"]',
  decisionReason: '[data-testid="decision-reason"]',
  askApproverLink: '[data-testid="ask-approver-link"]',
  guide: '[data-testid="guide"]',
  guideClusters: '[data-testid="guide-clusters"] li',
  announcer: '[data-testid="announcer"]',
  reminder: '[data-testid="reminder"]',
} as const;

/** A screenshot of the whole channel: the window grows to the channel's height first (the channel scrolls inside the page). */
export async function screenshotChannel(page: Page, path: string): Promise<void> {
  const size = page.viewportSize() ?? { width: 1200, height: 900 };
  const height = await page.locator('main').evaluate((main) => main.ownerDocument.body.scrollHeight - main.clientHeight + main.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height + 20, size.height), 16_000) });
  await page.screenshot({ path });
  await page.setViewportSize(size);
}

/** Opens the chat page as one of its identities and waits until its event stream is connected. */
export async function openChat(context: BrowserContext, baseUrl: string, userId: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/?user=${encodeURIComponent(userId)}`);
  await page.locator(`${SELECTORS.connection}[data-state="connected"]`).waitFor();
  return page;
}

/** Switches identity the way a person does, with the header's select, and waits for the replayed history. */
export async function switchIdentity(page: Page, userId: string): Promise<void> {
  await page.locator(SELECTORS.identity).selectOption(userId);
  await page.locator(`${SELECTORS.connection}[data-state="connected"]`).waitFor();
}

export async function sendCommand(page: Page, text: string): Promise<void> {
  await page.locator(SELECTORS.composer).fill(text);
  await page.locator(SELECTORS.composer).press('Enter');
}

/** The messages of one reply kind (text, question, approval, decided, done, …). */
export function messagesOfKind(page: Page, kind: string): Locator {
  return page.locator(`${SELECTORS.message}[data-kind="${kind}"]`);
}

export function messageById(page: Page, messageId: string): Locator {
  return page.locator(`${SELECTORS.message}[data-message-id="${messageId}"]`);
}

/** Messages a person typed (thread replies); the bot's messages have author "bot". */
export function messagesBy(page: Page, authorId: string): Locator {
  return page.locator(`${SELECTORS.message}[data-author="${authorId}"]`);
}
