// Issue 7: two bot processes share one PostgreSQL; every approval click reaches both at the same
// moment (twice each), and every privileged step still runs exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.ts';
import type { SlackApi } from '../../src/sandbox/slack/api.ts';
import type { BotProcess } from '../support/bot-process.ts';
import { startLiveWorld, type LiveWorld } from '../support/live-world.ts';
import { createPgSchema, type PgSchema } from '../support/pg-schema.ts';
import { setupState } from '../support/sandbox-state.ts';
import { isClosing, isQuestion, SlackDriver } from '../support/slack-driver.ts';

const BOT_TOKEN = 'xoxb-7070-7070-replicatoken';
const REQUESTER = 'U0ALICE';
const APPROVER = 'U0BOB';

let world: LiveWorld | undefined;
let sandbox: Sandbox;
let api: SlackApi;
const bots: BotProcess[] = [];
let schema: PgSchema | undefined;

beforeAll(async () => {
  schema = await createPgSchema('bot_replicas');

  world = await startLiveWorld({ botToken: BOT_TOKEN, approvers: `slack:${APPROVER}` });
  ({ sandbox, api } = world);
  for (let i = 0; i < 2; i++) bots.push(await world.newBot({ DATABASE_URL: schema.url }));
  await Promise.all(bots.map((b) => b.start()));
}, 60_000);

afterAll(async () => {
  await world?.close();
  await schema?.drop();
});

const SERVICES = ['ram', 'cs', 'oss', 'kube'] as const;
const callCounts = () => SERVICES.map((s) => sandbox.faults[s].calls.length);
/** The mutating calls each emulator received since `since` (from callCounts). */
const mutatingCallsSince = (since: number[]) =>
  SERVICES.flatMap((s, i) => sandbox.faults[s].calls.slice(since[i])).filter((c) =>
    /^(Create|Attach|Install|Upgrade|PutBucket|kube:create|kube:patch|kube:update)/.test(c),
  );

async function raceThrough(clusterId: string) {
  const [a, b] = bots as [BotProcess, BotProcess];
  const slack = new SlackDriver(api, `${a.url}/slack/events`);
  expect((await slack.command(clusterId, REQUESTER)).status).toBe(200);
  const parent = await slack.parentOf(clusterId);
  const handled = new Set<string>();
  let races = 0;
  for (;;) {
    const next = await slack.nextPrompt(parent.ts, handled);
    handled.add(next.ts);
    if (isClosing(next)) return { closing: next, races };
    if (isQuestion(next)) {
      await slack.click(next, 'first', REQUESTER);
      continue;
    }
    const clicks = [a, b, a, b].map((bot) => slack.click(next, 'approve', APPROVER, `${bot.url}/slack/events`));
    const responses = await Promise.all(clicks);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    races++;
  }
}

describe('two replicas on one PostgreSQL', () => {
  it.each([['c-sandbox-dedicated'], ['c-sandbox-registered'], ['c-sandbox-managed']])(
    '%s: the same click on both replicas at once runs every step exactly once',
    async (clusterId) => {
      const before = callCounts();
      const { closing, races } = await raceThrough(clusterId);
      expect(closing.text).toMatch(/^✅ Backup center setup complete/);
      expect(races).toBeGreaterThan(0);
      const calls = mutatingCallsSince(before).filter((c) => !c.startsWith('kube:'));
      expect(new Set(calls).size, `cloud writes: ${calls.join(', ')}`).toBe(calls.length);
      // Three of every four clicks were refused, each to the clicker only.
      const refusals = api.ephemerals.filter((e) => e.user === APPROVER && /already decided/.test(e.text ?? ''));
      const told = [
        ...api.ephemerals.filter((e) => e.user === APPROVER).map((e) => e.text),
        ...api.messages.filter((m) => m.threadTs === closing.threadTs).map((m) => `${m.ts} ${(m.text ?? '').slice(0, 60)} ${JSON.stringify(m.blocks).match(/approval:[^"]+/)?.[0] ?? ''}`),
      ];
      expect(refusals.length, `told the approver: ${JSON.stringify(told)}`).toBeGreaterThanOrEqual(races * 3);
      api.ephemerals.length = 0;
    },
    90_000,
  );

  it('the account holds one of each resource for each cluster', () => {
    const state = setupState(sandbox);
    expect(state.ram.users.sort()).toEqual(['ack-backup-c-sandbox-dedicated', 'ack-one-user-csandboxre']);
    expect(state.ram.attachments).toHaveLength(2);
    expect(state.ram.accessKeys).toHaveLength(2);
    // Registered clusters keep it where onectl does, in kube-system.
    for (const [id, secret] of [['c-sandbox-dedicated', 'csdr/alibaba-addon-secret'], ['c-sandbox-registered', 'kube-system/alibaba-addon-secret']] as const) {
      expect(state.clusters[id]!.secrets.filter((s) => s === secret)).toHaveLength(1);
    }
  });
});
