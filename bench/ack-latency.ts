// Benchmark 1: how fast Slack gets its ack. p50/p99 of `/backup-setup` and approval clicks over signed
// HTTP against the whole bot, versus a bare Bolt app that acks the same requests and does nothing else.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSlackApi } from '../src/sandbox/slack/api.ts';
import { blockActions, FORM, signed, slashCommand, SIGNING_SECRET } from '../test/slack/slack-requests.ts';
import { actionsOf, CHANNEL, isApproval, SlackDriver } from '../test/support/slack-driver.ts';
import { BotProcess, freePort } from '../test/support/bot-process.ts';
import { percentile, ratio, round, type BenchResult } from './stats.ts';

const BOT_TOKEN = 'xoxb-9090-9090-benchtoken';
const REQUESTS = Number(process.env.BENCH_ACK_REQUESTS ?? 1500);
const WARMUP = 200;

async function timed(url: string, body: string, contentType: string): Promise<number> {
  const request = signed(body, contentType);
  const start = performance.now();
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  await response.arrayBuffer();
  const elapsed = performance.now() - start;
  if (response.status !== 200) throw new Error(`HTTP ${response.status} from ${url}`);
  return elapsed;
}

export async function ackLatency(): Promise<BenchResult> {
  const api = await startSlackApi({ token: BOT_TOKEN });
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-ack-'));

  // Both apps run as processes of their own, as in production: the measuring client and the Slack API
  // emulator here share no event loop with either.
  const slackEnv = { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: api.url };
  const bare = new BotProcess(slackEnv, await freePort(), 'bench/bare-bolt.ts');
  const app = new BotProcess({ ...slackEnv, BACKUP_SETUP_SANDBOX: '1', STATE_DIR: stateDir, APPROVERS: 'slack:U0BOB', LOG_LEVEL: 'error' }, await freePort());
  await Promise.all([bare.start(), app.start()]);
  const bareUrl = `${bare.url}/slack/events`;
  const botUrl = `${app.url}/slack/events`;

  // A real approval message to click: the first step of a dedicated setup.
  const slack = new SlackDriver(api, botUrl);
  await slack.command('c-sandbox-dedicated', 'U0ALICE');
  const parent = await slack.parentOf('c-sandbox-dedicated');
  const handled = new Set<string>();
  let approval = await slack.nextPrompt(parent.ts, handled);
  while (!isApproval(approval)) {
    handled.add(approval.ts);
    await slack.click(approval, 'first', 'U0ALICE');
    approval = await slack.nextPrompt(parent.ts, handled);
  }
  const approve = actionsOf(approval)
    .flatMap((b) => (b.elements ?? []).map((e) => ({ ...e, block_id: b.block_id })))
    .find((e) => e.action_id === 'approve')!;
  // As Slack does, every request carries a response_url of its own.
  const clickBody = () =>
    blockActions({
      user: 'U0BOB',
      channel: CHANNEL,
      message: { ts: approval.ts, threadTs: approval.threadTs, blocks: approval.blocks, text: approval.text },
      action: approve,
      responseUrl: api.responseUrl('U0BOB', CHANNEL),
    });
  const commandBody = () => slashCommand({ text: 'c-sandbox-dedicated', user: 'U0ALICE', channel: CHANNEL, responseUrl: api.responseUrl('U0ALICE', CHANNEL) });

  const samples = { bareCommand: [] as number[], botCommand: [] as number[], bareClick: [] as number[], botClick: [] as number[] };
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    // Interleaved, so both see the same machine at the same moment.
    const bc = await timed(bareUrl, commandBody(), FORM);
    const oc = await timed(botUrl, commandBody(), FORM);
    const bk = await timed(bareUrl, clickBody(), FORM);
    const ok = await timed(botUrl, clickBody(), FORM);
    if (i < WARMUP) continue;
    samples.bareCommand.push(bc);
    samples.botCommand.push(oc);
    samples.bareClick.push(bk);
    samples.botClick.push(ok);
  }

  await Promise.all([app.stop(), bare.stop()]);
  await api.close();
  rmSync(stateDir, { recursive: true, force: true });

  const bare50 = percentile([...samples.bareCommand, ...samples.bareClick], 50);
  const bare99 = percentile([...samples.bareCommand, ...samples.bareClick], 99);
  const bot50 = percentile([...samples.botCommand, ...samples.botClick], 50);
  const bot99 = percentile([...samples.botCommand, ...samples.botClick], 99);
  const figure = (metric: string, value: number, baseline: number, goal: number) => ({
    metric,
    value: round(value),
    unit: 'ms',
    baseline: round(baseline),
    ratio: ratio(value, baseline),
    goal: `≤ ${goal}× bare Bolt`,
    met: value / baseline <= goal,
  });
  return {
    name: 'Ack latency (signed HTTP, /backup-setup + approval clicks)',
    figures: [
      figure('p50', bot50, bare50, 1.25),
      figure('p99', bot99, bare99, 1.5),
      { metric: 'p50 /backup-setup', value: round(percentile(samples.botCommand, 50)), unit: 'ms', baseline: round(percentile(samples.bareCommand, 50)) },
      { metric: 'p50 click', value: round(percentile(samples.botClick, 50)), unit: 'ms', baseline: round(percentile(samples.bareClick, 50)) },
    ],
    notes: [
      `${REQUESTS} requests of each kind per app after ${WARMUP} warm-up rounds, interleaved; each app is its own process ` +
        '(the bot: `node src/main.ts` in sandbox mode with Slack), the client and the Slack API emulator are in the bench process.',
    ],
  };
}
