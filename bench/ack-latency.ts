// Benchmark 1: how fast Slack gets its ack. p50/p99 of `/backup-setup` and approval clicks over signed
// HTTP against the whole bot, versus a bare Bolt app that acks the same requests and does nothing else.
// Every event is stored in the bot's inbox before the ack, so the figures include that insert:
// - on SQLite and on PostgreSQL;
// - and while a 50-cluster fleet setup runs in the same bot process (its cloud in another process,
//   answering each call after 30 ms, as a remote cloud would).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmulatedMessage, SlackApi } from '../src/sandbox/slack/api.ts';
import { startSlackApi } from '../src/sandbox/slack/api.ts';
import { blockActions, FORM, signed, slashCommand, SIGNING_SECRET } from '../test/slack/slack-requests.ts';
import { BotProcess, freePort, liveEnvFor } from '../test/support/bot-process.ts';
import { createPgSchema } from '../test/support/pg-schema.ts';
import { actionsOf, CHANNEL, isApproval, isClosing, SlackDriver } from '../test/support/slack-driver.ts';
import { startRemoteSandbox } from './remote-sandbox.ts';
import { percentile, ratio, round, type BenchResult } from './stats.ts';

const BOT_TOKEN = 'xoxb-9090-9090-benchtoken';
const REQUESTS = Number(process.env.BENCH_ACK_REQUESTS ?? 1500);
const WARMUP = 200;
const FLEET = 50;
const REQUESTER = 'U0ALICE';
const APPROVER = 'U0BOB';

async function timed(url: string, body: string, contentType: string): Promise<number> {
  const request = signed(body, contentType);
  const start = performance.now();
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  await response.arrayBuffer();
  const elapsed = performance.now() - start;
  if (response.status !== 200) throw new Error(`HTTP ${response.status} from ${url}`);
  return elapsed;
}

interface Samples {
  bare: number[];
  bot: number[];
  botCommand: number[];
  botClick: number[];
}

/** The first approval of a dedicated setup, as a message to click again and again. */
async function anApproval(slack: SlackDriver, cluster: string): Promise<EmulatedMessage> {
  await slack.command(cluster, REQUESTER);
  const parent = await slack.parentOf(cluster);
  const handled = new Set<string>();
  for (;;) {
    const next = await slack.nextPrompt(parent.ts, handled);
    if (isApproval(next)) return next;
    handled.add(next.ts);
    await slack.click(next, 'first', REQUESTER);
  }
}

/** Interleaved rounds of a command and a click to each app, so both see the same machine at the same moment. */
async function measure(api: SlackApi, bareUrl: string, botUrl: string, approval: EmulatedMessage, until: (round: number) => boolean): Promise<Samples> {
  const approve = actionsOf(approval)
    .flatMap((b) => (b.elements ?? []).map((e) => ({ ...e, block_id: b.block_id })))
    .find((e) => e.action_id === 'approve')!;
  const message = { ts: approval.ts, threadTs: approval.threadTs, blocks: approval.blocks, text: approval.text };
  // As Slack does, every request carries a response_url of its own.
  const clickBody = () => blockActions({ user: APPROVER, channel: CHANNEL, message, action: approve, responseUrl: api.responseUrl(APPROVER, CHANNEL) });
  const commandBody = () => slashCommand({ text: 'c-sandbox-dedicated', user: REQUESTER, channel: CHANNEL, responseUrl: api.responseUrl(REQUESTER, CHANNEL) });
  const samples: Samples = { bare: [], bot: [], botCommand: [], botClick: [] };
  for (let i = 0; until(i); i++) {
    const bc = await timed(bareUrl, commandBody(), FORM);
    const oc = await timed(botUrl, commandBody(), FORM);
    const bk = await timed(bareUrl, clickBody(), FORM);
    const ok = await timed(botUrl, clickBody(), FORM);
    if (i < WARMUP) continue;
    samples.bare.push(bc, bk);
    samples.bot.push(oc, ok);
    samples.botCommand.push(oc);
    samples.botClick.push(ok);
  }
  return samples;
}

const figure = (metric: string, value: number, baseline: number, goal: number, of = 'bare Bolt') => ({
  metric,
  value: round(value),
  unit: 'ms',
  baseline: round(baseline),
  ratio: ratio(value, baseline),
  goal: `≤ ${goal}× ${of}`,
  met: value / baseline <= goal,
});

/**
 * Quiet: the bot does nothing but take these requests. On PostgreSQL the goals are against a bare Bolt app that commits
 * one INSERT before its ack (bench/bare-bolt.ts): a durable inbox cannot do less, and the commit, not the bot, is most
 * of the time there.
 */
async function quiet(store: 'SQLite' | 'PostgreSQL') {
  const api = await startSlackApi({ token: BOT_TOKEN });
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-ack-'));
  const schema = store === 'PostgreSQL' ? await createPgSchema('bench_ack') : null;
  const bareSchema = store === 'PostgreSQL' ? await createPgSchema('bench_bare') : null;
  const slackEnv = { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: api.url };
  const bare = new BotProcess({ ...slackEnv, ...(bareSchema ? { DATABASE_URL: bareSchema.url } : {}) }, await freePort(), 'bench/bare-bolt.ts');
  const app = new BotProcess(
    { ...slackEnv, BACKUP_SETUP_SANDBOX: '1', STATE_DIR: stateDir, APPROVERS: `slack:${APPROVER}`, LOG_LEVEL: 'error', ...(schema ? { DATABASE_URL: schema.url } : {}) },
    await freePort(),
  );
  const of = bareSchema ? 'bare Bolt + one INSERT' : 'bare Bolt';
  try {
    await Promise.all([bare.start(), app.start()]);
    const botUrl = `${app.url}/slack/events`;
    const approval = await anApproval(new SlackDriver(api, botUrl), 'c-sandbox-dedicated');
    const s = await measure(api, `${bare.url}/slack/events`, botUrl, approval, (i) => i < WARMUP + REQUESTS);
    return [
      figure(`${store}: p50`, percentile(s.bot, 50), percentile(s.bare, 50), 1.25, of),
      figure(`${store}: p99`, percentile(s.bot, 99), percentile(s.bare, 99), 1.5, of),
      { metric: `${store}: p50 /backup-setup`, value: round(percentile(s.botCommand, 50)), unit: 'ms' },
      { metric: `${store}: p50 click`, value: round(percentile(s.botClick, 50)), unit: 'ms' },
    ];
  } finally {
    await Promise.all([app.stop(), bare.stop()]);
    await api.close();
    await schema?.drop();
    await bareSchema?.drop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** While a fleet of FLEET clusters is set up in the same bot process, approved as fast as it asks. */
async function underLoad() {
  const api = await startSlackApi({ token: BOT_TOKEN });
  const cloud = await startRemoteSandbox({ copies: FLEET, template: 'c-sandbox-managed', latencyMs: 30 });
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-ack-'));
  const slackEnv = { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: api.url };
  const bare = new BotProcess(slackEnv, await freePort(), 'bench/bare-bolt.ts');
  const app = new BotProcess(
    { ...slackEnv, ...liveEnvFor(cloud), STATE_DIR: stateDir, APPROVERS: `slack:${APPROVER}`, LOG_LEVEL: 'error', ...profiling() },
    await freePort(),
  );
  try {
    await Promise.all([bare.start(), app.start()]);
    const botUrl = `${app.url}/slack/events`;
    const slack = new SlackDriver(api, botUrl);
    const approval = await anApproval(slack, 'c-sandbox-dedicated');

    // The fleet: every cluster copied from c-sandbox-managed, named on one command.
    const ids = Array.from({ length: FLEET }, (_, i) => `c-scale-${String(i).padStart(5, '0')}`);
    await slack.command(ids.join(' '), REQUESTER);
    const parent = await slack.until('the fleet thread', () => api.messages.find((m) => !m.threadTs && (m.text ?? '').includes(`${FLEET} clusters`)));
    let done = false;
    const clicked = new Set<string>();
    const approving = (async () => {
      while (!done) {
        const next = api.messages.find((m) => m.threadTs === parent.ts && isApproval(m) && !clicked.has(m.ts));
        if (next) {
          clicked.add(next.ts);
          await slack.click(next, 'approve', APPROVER);
        } else if (api.messages.some((m) => m.threadTs === parent.ts && isClosing(m))) {
          done = true;
        } else await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    // As many rounds as when quiet, all while the fleet works (it takes longer than they do; checked).
    const s = await measure(api, `${bare.url}/slack/events`, botUrl, approval, (i) => i < WARMUP + REQUESTS);
    const fleetRan = !done;
    await approving;
    if (!fleetRan) throw new Error('the fleet ended before the measurement did: measure fewer rounds or a bigger fleet');
    return [
      figure(`p99 during a ${FLEET}-cluster fleet`, percentile(s.bot, 99), percentile(s.bare, 99), 1.5),
      { metric: `p50 during the fleet`, value: round(percentile(s.bot, 50)), unit: 'ms', baseline: round(percentile(s.bare, 50)), ratio: ratio(percentile(s.bot, 50), percentile(s.bare, 50)) },

    ];
  } finally {
    await Promise.all([app.stop(), bare.stop()]);
    await api.close();
    await cloud.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** BENCH_PROFILE=<dir>: the bot under load writes a CPU profile there (what limits the p99). */
const profiling = (): Record<string, string> => (process.env.BENCH_PROFILE ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` } : {});

export async function ackLatency(): Promise<BenchResult> {
  const figures = [...(await quiet('SQLite')), ...(await quiet('PostgreSQL')), ...(await underLoad())];
  return {
    name: 'Ack latency (signed HTTP, /backup-setup + approval clicks; each stored in the inbox before its ack)',
    figures,
    notes: [
      `${REQUESTS} requests of each kind per app after ${WARMUP} warm-up rounds, interleaved; each app is its own process ` +
        '(the bot: `node src/main.ts` with Slack), the client and the Slack API emulator are in the bench process.',
      `Under load: the same rounds while the bot sets up ${FLEET} clusters (its cloud in another process, 30 ms per call); the fleet is still running when they end.`,
    ],
  };
}
