// Issue 13: no acknowledged click is ever lost. The bot is a process; it stores an event and Slack
// gets its acknowledgement, then the process is killed (SIGKILL) before it handles the event. After a
// restart the event takes effect exactly once, with no second click — on SQLite and on PostgreSQL.
import { setupState } from '../support/sandbox-state.ts';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatedMessage } from '../../src/sandbox/slack/api.ts';
import type { BotProcess } from '../support/bot-process.ts';
import { startLiveWorld, type LiveWorld } from '../support/live-world.ts';
import { createPgSchema, type PgSchema } from '../support/pg-schema.ts';
import { CHANNEL, isApproval, isClosing, isQuestion, SlackDriver } from '../support/slack-driver.ts';

const BOT_TOKEN = 'xoxb-1313-1313-inboxtoken';
const REQUESTER = 'U0ALICE';
const APPROVER = 'U0BOB';
const CLUSTER = 'c-sandbox-dedicated';

let world: LiveWorld | undefined;
let schema: PgSchema | undefined;

afterEach(async () => {
  await world?.close();
  await schema?.drop();
  world = undefined;
  schema = undefined;
});

interface Running {
  bot: BotProcess;
  slack: SlackDriver;
}

async function start(store: 'sqlite' | 'postgres'): Promise<Running> {
  world = await startLiveWorld({ botToken: BOT_TOKEN, approvers: `slack:${APPROVER}` });
  if (store === 'postgres') schema = await createPgSchema('bot_inbox');
  const bot = await world.newBot(schema ? { DATABASE_URL: schema.url } : {});
  await bot.start();
  return { bot, slack: new SlackDriver(world.api, `${bot.url}/slack/events`) };
}

/** Acknowledged, then killed before handling it; back up with the same store. */
async function ackThenKill(running: Running, send: () => Promise<{ status: number }>) {
  const { bot } = running;
  await bot.stop();
  bot.env.BACKUP_SETUP_TEST_HOLD_INBOX = '1';
  await bot.start();
  expect((await send()).status).toBe(200);
  await bot.kill();
  delete bot.env.BACKUP_SETUP_TEST_HOLD_INBOX;
  await bot.start();
  running.slack.eventsUrl = `${bot.url}/slack/events`;
}

const inThread = (parent: EmulatedMessage) => world!.api.messages.filter((m) => m.threadTs === parent.ts);
const calls = (operation: string) => world!.sandbox.faults.ram.calls.filter((c) => c === operation).length;

async function waitingOn(running: Running, what: (m: EmulatedMessage) => boolean, label: string) {
  const parent = await running.slack.parentOf(CLUSTER);
  return running.slack.until(label, () => inThread(parent).find((m) => what(m) && running.slack.api.messages.includes(m)));
}

/** Answers questions with their suggestion until the first approval. */
async function toFirstApproval(running: Running): Promise<EmulatedMessage> {
  expect((await running.slack.command(CLUSTER, REQUESTER)).status).toBe(200);
  const parent = await running.slack.parentOf(CLUSTER);
  const handled = new Set<string>();
  for (;;) {
    const next = await running.slack.nextPrompt(parent.ts, handled);
    handled.add(next.ts);
    if (isApproval(next)) return next;
    if (!isQuestion(next)) throw new Error(`closed before any approval: ${next.text}`);
    expect((await running.slack.click(next, 'first', REQUESTER)).status).toBe(200);
  }
}

describe.each(['sqlite', 'postgres'] as const)('an acknowledged event survives SIGKILL before it is handled (%s)', (store) => {
  it('a command starts exactly one setup after the restart', async () => {
    const running = await start(store);
    await ackThenKill(running, () => running.slack.command(CLUSTER, REQUESTER));
    const question = await waitingOn(running, isQuestion, 'the first question');
    const parents = world!.api.messages.filter((m) => !m.threadTs && (m.text ?? '').includes(`Backup center setup for \`${CLUSTER}\``));
    expect(parents).toHaveLength(1);
    expect(inThread(parents[0]!).filter(isQuestion)).toEqual([question]);
  }, 90_000);

  it('an answer is taken exactly once after the restart', async () => {
    const running = await start(store);
    expect((await running.slack.command(CLUSTER, REQUESTER)).status).toBe(200);
    const region = await waitingOn(running, isQuestion, 'the region question');
    await ackThenKill(running, () => running.slack.click(region, 'first', REQUESTER));
    const parent = await running.slack.parentOf(CLUSTER);
    const bucket = await running.slack.until('the bucket question', () => inThread(parent).find((m) => isQuestion(m) && m.ts !== region.ts));
    expect(bucket.text).toContain('Which OSS bucket');
    // The answered question shows the answer and has no buttons; no second question for the region.
    await running.slack.until('the answer shown on the question', () => region.edits > 0);
    expect(region.edits).toBe(1);
    expect(JSON.stringify(region.blocks)).toContain(' chose ');
    expect(inThread(parent).filter((m) => (m.text ?? '').startsWith('In which region'))).toHaveLength(1);
  }, 90_000);

  it('an approval runs its step exactly once after the restart', async () => {
    const running = await start(store);
    const approval = await toFirstApproval(running);
    expect(approval.text).toContain('Create RAM user');
    await ackThenKill(running, () => running.slack.click(approval, 'approve', APPROVER));
    const parent = await running.slack.parentOf(CLUSTER);
    await running.slack.until('the next approval', () => inThread(parent).find((m) => isApproval(m) && m.ts !== approval.ts));
    expect(calls('CreateUser')).toBe(1);
    expect(setupState(world!.sandbox).ram.users).toEqual([`ack-backup-${CLUSTER}`]);
    expect(approval.text).toMatch(/Approved by/);
  }, 90_000);

  it('a cancel ends the setup exactly once after the restart', async () => {
    const running = await start(store);
    const approval = await toFirstApproval(running);
    await ackThenKill(running, () => running.slack.command(`cancel ${CLUSTER}`, REQUESTER));
    const parent = await running.slack.parentOf(CLUSTER);
    const closing = await running.slack.until('the closing message', () => inThread(parent).find(isClosing));
    expect(closing.text).toMatch(/^🛑 Cancelled by/);
    // The approval nobody decided lost its buttons and says why; nothing was created.
    await running.slack.until('the approval closed', () => !isApproval(approval) || undefined);
    expect(approval.text).toMatch(/Closed/);
    expect(inThread(parent).filter(isClosing)).toHaveLength(1);
    expect(calls('CreateUser')).toBe(0);
    expect(world!.api.messages.some((m) => m.channel === CHANNEL && (m.text ?? '').startsWith('🛑'))).toBe(true);
  }, 90_000);
});
