// What the bot remembers: the audit command, sessions from an older flow version, and sessions left
// waiting so long that the sweeper abandons them.
import { afterEach, describe, expect, it } from 'vitest';
import { APPROVER, COMPLETE, driveToEnd, firstApproval, startTestBot, type TestBot } from '../support/bot-harness.ts';

let t: TestBot;
afterEach(async () => {
  await t.stop();
});

describe('durability', () => {
  it('`/backup-setup audit <cluster>` lists who approved and what each step did, newest first', async () => {
    t = await startTestBot();
    await t.command('/backup-setup c-sandbox-dedicated');
    expect((await driveToEnd(t, 'c-sandbox-dedicated')).text).toMatch(COMPLETE);
    await t.command('/backup-setup audit c-sandbox-dedicated', APPROVER);
    const listing = t.chat.replies('text').at(-1)!.text;
    expect(listing).toMatch(/^Last \d+ audit entries for `c-sandbox-dedicated` \(newest first\):/);
    expect(listing).toMatch(new RegExp(`<@${APPROVER.id}> approval.approve \`\\w+\`: approved`));
    expect(listing).toMatch(/bot step `\w+`: created/);
    const times = [...listing.matchAll(/^<!time:(\d{4}-\d\d-\d\dT[\d:.]+Z)> /gm)].map((m) => m[1]!);
    expect(times.length).toBeGreaterThan(5);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('a session saved by an older flow version is ended with a clear message, and nothing runs', async () => {
    t = await startTestBot();
    await t.command('/backup-setup c-sandbox-dedicated');
    const approval = await firstApproval(t);
    const sessionId = (approval.reply as { sessionId: string }).sessionId;
    const row = (await t.store.getSession(sessionId))!;
    const snapshot = row.snapshot as { version: number };
    await t.store.saveSession(sessionId, { snapshot: { ...snapshot, version: snapshot.version - 1 }, state: row.state }, row.revision);
    const before = t.sandbox.publicState();

    await t.decide(approval, 'approve');
    const done = await t.chat.until(() => t.chat.replies('done')[0]);
    expect(done.ok).toBe(false);
    expect(done.text).toMatch(/started by an older version of the bot .* Start it again with `\/backup-setup c-sandbox-dedicated`/);
    expect(t.sandbox.publicState()).toEqual(before);
    expect((await t.store.getSession(sessionId))!.status).toBe('failed');
  });

  it('the sweeper abandons a session nobody touched for a week, with a message in its thread', async () => {
    let clock = Date.now();
    t = await startTestBot({ now: () => new Date(clock) });
    await t.command('/backup-setup c-sandbox-dedicated');
    const approval = await firstApproval(t);
    await t.bot.sweep();
    expect(t.chat.replies('done')).toHaveLength(0);

    clock += 8 * 24 * 3_600_000;
    await t.bot.sweep();
    const done = await t.chat.until(() => t.chat.messages.find((m) => m.reply.kind === 'done'));
    expect(done.conversation.threadId).toBe(approval.conversation.threadId);
    expect(await t.store.findActiveSession('c-sandbox-dedicated')).toBeNull();
  });
});
