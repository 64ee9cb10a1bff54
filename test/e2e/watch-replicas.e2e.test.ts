// Issue 18: two replicas on one PostgreSQL both run the watch. Each watched cluster is checked once per
// interval, not twice (the watch row's compare-and-set claim), and its drift is posted once, by one of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { CHANNEL, startTestBot, type TestBot } from '../support/bot-harness.ts';
import { createPgSchema, type PgSchema } from '../support/pg-schema.ts';

const INTERVAL = 5_000;
const CLUSTERS = ['c-sandbox-managed', 'c-sandbox-dedicated', 'c-sandbox-registered', 'c-sandbox-edge', 'c-sandbox-serverless-pro', 'c-sandbox-old'];

let sandbox: Sandbox;
let schema: PgSchema | undefined;
const replicas: TestBot[] = [];

beforeAll(async () => {
  schema = await createPgSchema('bot_watch');
  sandbox = await startSandbox();
  for (const owner of ['replica-a', 'replica-b']) replicas.push(await startTestBot({ sandbox, databaseUrl: schema.url, watchIntervalMs: INTERVAL, owner }));
}, 60_000);

afterAll(async () => {
  for (const replica of replicas) await replica.stop();
  await sandbox?.close();
  await schema?.drop();
});

describe('the watch on two replicas sharing PostgreSQL', () => {
  it('checks each cluster once per interval and posts its drift once', async () => {
    const [a] = replicas as [TestBot, TestBot];
    // Watched from the channel, never set up: every check finds drift (the same drift each time).
    for (const clusterId of CLUSTERS) await a.command(`/backup-setup watch on ${clusterId}`);
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 4 * INTERVAL + 500));

    for (const clusterId of CLUSTERS) {
      const checks = (await a.store.listAudit(clusterId, 100)).filter((r) => r.action === 'watch.check').map((r) => r.at.getTime()).sort();
      // The first check falls at the cluster's offset in the first interval, then one per interval.
      expect(checks.length, clusterId).toBeGreaterThanOrEqual(4);
      expect(checks.length, clusterId).toBeLessThanOrEqual(5);
      expect(checks[0]! - start, clusterId).toBeLessThan(INTERVAL + 1_500);
      const gaps = checks.slice(1).map((at, i) => at - checks[i]!);
      // Never two checks in one interval (a second replica's check would come within a tick of the first).
      for (const gap of gaps) expect(gap, `${clusterId}: ${gaps.join(', ')}`).toBeGreaterThan(INTERVAL - 1_500);
      // One drift message for the cluster, from whichever replica ran its first check.
      const posted = replicas.flatMap((r) => r.chat.messages).filter((m) => m.reply.kind === 'question' && m.reply.sessionId === `watch.${clusterId}`);
      expect(posted, clusterId).toHaveLength(1);
      expect(posted[0]!.conversation).toEqual(CHANNEL);
    }
    const byReplica = replicas.map((r) => r.chat.messages.filter((m) => m.reply.kind === 'question').length);
    console.log(`drift messages posted by replica a / b: ${byReplica.join(' / ')}`);
  }, 60_000);
});
