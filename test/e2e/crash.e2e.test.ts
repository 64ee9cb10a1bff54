// Issue 7: the bot is killed with SIGKILL in the middle of each privileged step of the dedicated flow
// in turn (the cloud call has been received but not answered: the change happens after the process
// died), restarted on the same store, and the setup still completes with exactly one of each resource.
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultPlan } from '../../src/sandbox/faults.ts';
import { secretData, setupState } from '../support/sandbox-state.ts';
import type { BotProcess } from '../support/bot-process.ts';
import { startLiveWorld, type LiveWorld } from '../support/live-world.ts';
import { isApproval, isClosing, isQuestion, SlackDriver } from '../support/slack-driver.ts';

const BOT_TOKEN = 'xoxb-5150-5150-crashtoken';
const REQUESTER = 'U0ALICE';
const APPROVER = 'U0BOB';
const USER = 'ack-backup-c-sandbox-dedicated';

interface KillPoint {
  /** The step whose cloud call is cut off. */
  step: string;
  service: 'ram' | 'cs' | 'oss' | 'kube';
  operation: string;
  /** Matching calls to let through first. */
  after?: number;
}

// The mutating call of each step of the dedicated flow, in flow order.
const KILL_POINTS: KillPoint[] = [
  { step: 'createRamUser', service: 'ram', operation: 'CreateUser' },
  { step: 'ensurePolicy', service: 'ram', operation: 'CreatePolicy' },
  { step: 'attachPolicy', service: 'ram', operation: 'AttachPolicyToUser' },
  { step: 'createNamespace', service: 'kube', operation: 'kube:create' },
  { step: 'createAccessKeySecret (key made, Secret not yet written)', service: 'ram', operation: 'CreateAccessKey' },
  { step: 'createAccessKeySecret (Secret write)', service: 'kube', operation: 'kube:create', after: 1 },
  { step: 'installAddon', service: 'cs', operation: 'InstallClusterAddons' },
  { step: 'createBackupVault', service: 'kube', operation: 'kube:create', after: 2 },
  { step: 'testBackup (ApplicationBackup create)', service: 'kube', operation: 'kube:create', after: 3 },
  { step: 'testBackup (DeleteRequest create)', service: 'kube', operation: 'kube:create', after: 4 },
];

let world: LiveWorld | undefined;
let bot: BotProcess | undefined;

afterEach(async () => {
  await world?.close();
});

const count = (plan: FaultPlan, operation: string) => plan.calls.filter((c) => c === operation).length;

async function runWithKill(point: KillPoint) {
  world = await startLiveWorld({ botToken: BOT_TOKEN, approvers: `slack:${APPROVER}` });
  const { sandbox, api } = world;
  const plan = sandbox.faults[point.service];
  // Hold the call long enough to kill the bot while the emulator still carries it out.
  plan.add({ operation: point.operation, fault: { kind: 'latency', ms: 1_500 }, after: point.after ?? 0, times: 1 });

  bot = await world.newBot();
  await bot.start();
  const slack = new SlackDriver(api, `${bot.url}/slack/events`);
  expect((await slack.command('c-sandbox-dedicated', REQUESTER)).status).toBe(200);
  const parent = await slack.parentOf('c-sandbox-dedicated');

  let killed = false;
  const handled = new Set<string>();
  for (;;) {
    const next = await slack.until('the next prompt, or the call to cut off', () => {
      if (!killed && count(plan, point.operation) > (point.after ?? 0)) return 'kill' as const;
      return api.messages.find((m) => m.threadTs === parent.ts && !handled.has(m.ts) && (isApproval(m) || isQuestion(m) || isClosing(m)));
    });
    if (next === 'kill') {
      await bot.kill();
      killed = true;
      await new Promise((resolve) => setTimeout(resolve, 1_600)); // the emulator finishes the call
      await bot.start();
      continue;
    }
    handled.add(next.ts);
    if (isClosing(next)) {
      expect(killed).toBe(true);
      return next;
    }
    const response = isApproval(next) ? await slack.click(next, 'approve', APPROVER) : await slack.click(next, 'first', REQUESTER);
    expect(response.status).toBe(200);
  }
}

describe('crash safety: SIGKILL in every privileged step of the dedicated flow', () => {
  it.each(KILL_POINTS.map((p) => [p.step, p] as const))('killed during %s', async (_name, point) => {
    const closing = await runWithKill(point);
    expect(closing.text, bot!.output.join('')).toMatch(/^✅ Backup center setup complete/);
    // One test backup, resumed where it was, that removed itself: nothing is left in the bucket or the cluster.
    expect(closing.text).toMatch(/\n✅ Test backup of `kube-public`: 12 objects \(.+\) written to oss:\/\/cnfs-oss-sandbox-backups\/backups\/backup-setup-test-\w+-1\/ in \d+ s, then removed\n/);
    expect(world!.sandbox.publicState().oss.buckets.find((b) => b.name === 'cnfs-oss-sandbox-backups')?.objects).toBe(0);
    const tasks = Object.values(world!.sandbox.account.state.clusters['c-sandbox-dedicated']!.objects).filter((o) => o.kind === 'ApplicationBackup');
    expect(tasks).toEqual([]);

    const state = setupState(world!.sandbox);
    expect(state.ram.users).toEqual([USER]);
    expect(state.ram.policies.map((p) => p.name)).toEqual([`${USER}-migrate-controller`]);
    expect(state.ram.attachments).toEqual([{ user: USER, policy: `${USER}-migrate-controller` }]);
    expect(state.ram.accessKeys.filter((k) => k.user === USER)).toHaveLength(1);
    const cluster = state.clusters['c-sandbox-dedicated']!;
    expect(cluster.secrets.filter((s) => s === 'csdr/alibaba-addon-secret')).toHaveLength(1);
    expect(cluster.addons.filter((a) => a.name === 'migrate-controller')).toHaveLength(1);
    expect(cluster.backupVaults).toHaveLength(1);

    // The Secret holds the one key RAM has for the user (an orphan from the crash was replaced).
    const secret = secretData(world!.sandbox, 'c-sandbox-dedicated', 'csdr', 'alibaba-addon-secret')!;
    expect(secret['access-key-id']).toBe(state.ram.accessKeys.find((k) => k.user === USER)!.id);
  }, 120_000);
});
