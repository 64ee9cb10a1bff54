// Operating the bot (issue 8): what /metrics and /readyz say after a real setup, and SIGTERM in the middle
// of a privileged step: the step finishes, the process exits cleanly, and a restart goes on from there.
import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.ts';
import type { SlackApi } from '../../src/sandbox/slack/api.ts';
import type { BotProcess } from '../support/bot-process.ts';
import { startLiveWorld, type LiveWorld } from '../support/live-world.ts';
import { isApproval, isClosing, isQuestion, SlackDriver } from '../support/slack-driver.ts';
import { setupState } from '../support/sandbox-state.ts';

const BOT_TOKEN = 'xoxb-7070-7070-operatetoken';
const REQUESTER = 'U0ALICE';
const APPROVER = 'U0BOB';

let world: LiveWorld | undefined;
let sandbox: Sandbox | undefined;
let api: SlackApi | undefined;

afterEach(async () => {
  await world?.close();
});

async function startBot(): Promise<{ slack: SlackDriver; bot: BotProcess }> {
  world = await startLiveWorld({ botToken: BOT_TOKEN, approvers: `slack:${APPROVER}` });
  ({ sandbox, api } = world);
  const bot = await world.newBot();
  await bot.start();
  return { slack: new SlackDriver(api, `${bot.url}/slack/events`), bot };
}

const metricValue = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('operating the bot', () => {
  it('/readyz names its checks and /metrics counts sessions, approvals and step durations by step and cluster type', async () => {
    const { slack, bot } = await startBot();
    const ready = await fetch(`${bot.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: { store: true, slack: true } });

    await slack.command('c-sandbox-dedicated', REQUESTER);
    const parent = await slack.parentOf('c-sandbox-dedicated');
    expect((await slack.clickThrough(parent.ts, REQUESTER, APPROVER)).text).toMatch(/^✅ Backup center setup complete/);

    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    expect(metricValue(metrics, 'backup_setup_sessions_started_total')).toBe(1);
    expect(metricValue(metrics, 'backup_setup_sessions_ended_total{status="complete"}')).toBe(1);
    expect(metricValue(metrics, 'backup_setup_approvals_total{result="approved"}')).toBeGreaterThanOrEqual(5);
    expect(metricValue(metrics, 'backup_setup_step_duration_seconds_count{step="createRamUser",flow="dedicated",result="created"}')).toBe(1);
    expect(metricValue(metrics, 'backup_setup_step_duration_seconds_count{step="installAddon",flow="dedicated",result="created"}')).toBe(1);
  }, 90_000);

  it('SIGTERM during a step lets the step finish, exits 0, and a restart continues at the next approval', async () => {
    const { slack, bot } = await startBot();
    // Hold the RAM user creation long enough to stop the bot while it waits for the answer.
    sandbox!.faults.ram.add({ operation: 'CreateUser', fault: { kind: 'latency', ms: 1_500 }, times: 1 });
    await slack.command('c-sandbox-dedicated', REQUESTER);
    const parent = await slack.parentOf('c-sandbox-dedicated');
    const handled = new Set<string>();
    for (;;) {
      const next = await slack.nextPrompt(parent.ts, handled);
      handled.add(next.ts);
      if (isQuestion(next)) {
        await slack.click(next, 'first', REQUESTER);
        continue;
      }
      expect(isApproval(next)).toBe(true);
      await slack.click(next, 'approve', APPROVER);
      break;
    }
    await slack.until('the CreateUser call', () => sandbox!.faults.ram.calls.includes('CreateUser'));
    const exitCode = await bot.terminate();
    expect(exitCode).toBe(0);
    expect(setupState(sandbox!).ram.users).toEqual(['ack-backup-c-sandbox-dedicated']);
    expect(api!.messages.some((m) => m.threadTs === parent.ts && /createRamUser: created/.test(m.text ?? ''))).toBe(true);

    await bot.start();
    for (;;) {
      const next = await slack.nextPrompt(parent.ts, handled);
      handled.add(next.ts);
      if (isClosing(next)) {
        expect(next.text).toMatch(/^✅ Backup center setup complete/);
        break;
      }
      await slack.click(next, isApproval(next) ? 'approve' : 'first', isApproval(next) ? APPROVER : REQUESTER);
    }
    expect(sandbox!.faults.ram.calls.filter((c) => c === 'CreateUser')).toHaveLength(1);
    expect(setupState(sandbox!).ram.users).toEqual(['ack-backup-c-sandbox-dedicated']);
  }, 90_000);
});
