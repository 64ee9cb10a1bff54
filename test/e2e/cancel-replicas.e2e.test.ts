// Issue 13: a cancel holds everywhere. Two bot processes share one PostgreSQL. Replica A is in the
// middle of a privileged step (its read before the write is slow) when replica B takes the cancel:
// no cloud write happens after the cancel, and the closing message says exactly how far the step got.
import { setupState } from '../support/sandbox-state.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BotProcess } from '../support/bot-process.ts';
import { startLiveWorld, type LiveWorld } from '../support/live-world.ts';
import { createPgSchema, type PgSchema } from '../support/pg-schema.ts';
import { isApproval, isClosing, isQuestion, SlackDriver } from '../support/slack-driver.ts';

const BOT_TOKEN = 'xoxb-1331-1331-canceltoken';
const REQUESTER = 'U0ALICE';
const APPROVER = 'U0BOB';
const CLUSTER = 'c-sandbox-dedicated';
const POLICY = `ack-backup-${CLUSTER}-migrate-controller`;

let world: LiveWorld;
let schema: PgSchema;
let a: BotProcess;
let b: BotProcess;

beforeEach(async () => {
  schema = await createPgSchema('bot_cancel');
  world = await startLiveWorld({ botToken: BOT_TOKEN, approvers: `slack:${APPROVER}` });
  a = await world.newBot({ DATABASE_URL: schema.url });
  b = await world.newBot({ DATABASE_URL: schema.url });
  await Promise.all([a.start(), b.start()]);
}, 60_000);

afterEach(async () => {
  await world?.close();
  await schema?.drop();
});

/** Drives the setup on A up to the approval whose text includes `words`, and returns it. */
async function approvalOnA(onA: SlackDriver, parentTs: string, words: string) {
  const handled = new Set<string>();
  for (;;) {
    const next = await onA.nextPrompt(parentTs, handled);
    handled.add(next.ts);
    if (isClosing(next)) throw new Error(`closed early: ${next.text}`);
    if (isQuestion(next)) {
      await onA.click(next, 'first', REQUESTER);
      continue;
    }
    if (isApproval(next) && (next.text ?? '').includes(words)) return next;
    await onA.click(next, 'approve', APPROVER);
  }
}

describe('cancel on one replica while the other runs a step', () => {
  it('stops the step before its next cloud write, and says so', async () => {
    const onA = new SlackDriver(world.api, `${a.url}/slack/events`);
    const onB = new SlackDriver(world.api, `${b.url}/slack/events`);
    expect((await onA.command(CLUSTER, REQUESTER)).status).toBe(200);
    const parent = await onA.parentOf(CLUSTER);
    const ram = world.sandbox.faults.ram;
    const policy = await approvalOnA(onA, parent.ts, 'policy');
    // A's read of the policy before it writes takes 2 s (the preview's read has passed).
    const reads = ram.calls.filter((c) => c === 'ListPolicyVersions').length;
    ram.add({ operation: 'ListPolicyVersions', fault: { kind: 'latency', ms: 2_000 }, times: 1 });
    expect((await onA.click(policy, 'approve', APPROVER)).status).toBe(200);
    await onA.until('A reading the policy', () => ram.calls.filter((c) => c === 'ListPolicyVersions').length > reads);

    const cancelledAt = ram.calls.length;
    expect((await onB.command(`cancel ${CLUSTER}`, REQUESTER)).status).toBe(200);
    const closing = await onB
      .until('the closing message', () => world.api.messages.find((m) => m.threadTs === parent.ts && isClosing(m)), 60_000)
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\nA: ${a.output.join('')}\nB: ${b.output.join('')}`);
      });
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // longer than A's slow read

    expect(ram.calls.slice(cancelledAt).filter((c) => /^(Create|Delete|Attach)/.test(c))).toEqual([]);
    expect(setupState(world.sandbox).ram.policies).toEqual([]);
    expect(closing.text).toMatch(/^🛑 Cancelled by/);
    expect(closing.text).toContain(`it stopped before ram:CreatePolicy on policy ${POLICY}, so it changed nothing.`);
    expect(world.api.messages.filter((m) => m.threadTs === parent.ts && isClosing(m))).toHaveLength(1);
  }, 120_000);

  it('posts no new approval when the cancel comes while A previews the next step', async () => {
    const onA = new SlackDriver(world.api, `${a.url}/slack/events`);
    const onB = new SlackDriver(world.api, `${b.url}/slack/events`);
    expect((await onA.command(CLUSTER, REQUESTER)).status).toBe(200);
    const parent = await onA.parentOf(CLUSTER);
    const ram = world.sandbox.faults.ram;
    const user = await approvalOnA(onA, parent.ts, 'Create RAM user');
    // After the user is created A previews the policy step; that read takes 2 s.
    ram.add({ operation: 'ListPolicyVersions', fault: { kind: 'latency', ms: 2_000 }, times: 1 });
    expect((await onA.click(user, 'approve', APPROVER)).status).toBe(200);
    await onA.until('A previewing the policy step', () => ram.calls.includes('ListPolicyVersions'));

    expect((await onB.command(`cancel ${CLUSTER}`, REQUESTER)).status).toBe(200);
    const closing = await onB.until('the closing message', () => world.api.messages.find((m) => m.threadTs === parent.ts && isClosing(m)), 60_000);
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // longer than A's slow read

    expect(closing.text).toMatch(/^🛑 Cancelled by/);
    expect(closing.text).toContain('Created RAM user `ack-backup-c-sandbox-dedicated`');
    // The user's approval is decided; no policy approval was posted.
    expect(world.api.messages.filter((m) => m.threadTs === parent.ts && isApproval(m))).toEqual([]);
    expect(world.api.messages.filter((m) => m.threadTs === parent.ts && isClosing(m))).toHaveLength(1);
    expect(ram.calls.filter((c) => c === 'CreatePolicy')).toEqual([]);
  }, 120_000);
});
