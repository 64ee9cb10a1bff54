// Issue 16: the bot's own RAM policy (deploy/bot-ram-policy.json, printed in the README) is exactly what the setups
// and verify need. Every path runs as the sandbox's bot user, whose one policy is that file, and RAM evaluates each
// call: the paths succeed with it (enough), each of its actions is used by some path (nothing extra), and without
// any one action that path stops with a message naming it. Driven by the file: edit it and this test follows.
import * as $Ram from '@alicloud/ram20150501';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_POLICY_FILE, ensureBotIdentity } from '../../src/sandbox/bot-identity.ts';
import { authorizeManagedRole } from '../../src/sandbox/kube/addon-token.ts';
import { ramClient } from '../sandbox/clients.ts';
import { COMPLETE, driveToEnd, startTestBot, type TestBot } from '../support/bot-harness.ts';

interface PolicyFile { Version: string; Statement: { Effect: string; Action: string[]; Resource: string }[] }
const policy = () => JSON.parse(readFileSync(BOT_POLICY_FILE, 'utf8')) as PolicyFile;
const ACTIONS = policy().Statement.flatMap((s) => s.Action);

function without(action: string): string {
  const document = policy();
  for (const statement of document.Statement) statement.Action = statement.Action.filter((a) => a !== action);
  document.Statement = document.Statement.filter((s) => s.Action.length > 0);
  return JSON.stringify(document);
}

interface Path {
  name: string;
  /** Brings the account to where the path starts (with the full policy). */
  prepare?: (t: TestBot) => Promise<void>;
  /** Runs the path to its end; with the full policy it must succeed. */
  run: (t: TestBot, full: boolean) => Promise<void>;
}

const setup = (clusterId: string, answers: Record<string, string> = {}) => async (t: TestBot, full: boolean) => {
  await t.command(`/backup-setup ${clusterId}`);
  const done = await driveToEnd(t, clusterId, { answers });
  if (full) expect(done.text).toMatch(COMPLETE);
};

/**
 * A policy with RAM's five versions and a key no Secret refers to, one the bot created in an earlier run (recorded in
 * its store; the bot never deletes a key it did not create): the policy and AccessKey steps clean up.
 */
async function drift(t: TestBot) {
  const ram = ramClient(t.sandbox);
  const userName = 'ack-backup-c-sandbox-dedicated';
  const policyName = `${userName}-migrate-controller`;
  await ram.createUser(new $Ram.CreateUserRequest({ userName }));
  const document = (n: number) => JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['oss:GetObject'], Resource: [`acs:oss:*:*:old-${n}`] }] });
  await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName, policyDocument: document(1) }));
  for (let n = 2; n <= 5; n++) await ram.createPolicyVersion(new $Ram.CreatePolicyVersionRequest({ policyName, policyDocument: document(n), setAsDefault: true }));
  await ram.attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ policyType: 'Custom', policyName, userName }));
  const key = await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName }));
  await t.store.recordCreatedAccessKey({ userName, accessKeyId: key.body!.accessKey!.accessKeyId!, clusterId: 'c-sandbox-dedicated' });
}

const PATHS: Path[] = [
  { name: 'dedicated setup', run: setup('c-sandbox-dedicated') },
  { name: 'registered setup', run: setup('c-sandbox-registered') },
  { name: 'managed setup with a new bucket', run: setup('c-sandbox-managed', { bucket: 'cnfs-oss-bot-policy-new' }) },
  { name: 'Edge setup that upgrades the add-on', run: setup('c-sandbox-edge') },
  {
    // The seeded snapshot service is off in cn-wulanchabu: its activation is approved here.
    name: 'Ulanqab setup (API Gateway authorization checked, snapshot service activated)',
    prepare: async (t) => t.sandbox.account.change((s) => authorizeManagedRole(s, s.clusters['c-sandbox-ulanqab']!)),
    run: async (t, full) => {
      await t.command('/backup-setup c-sandbox-ulanqab');
      const done = await driveToEnd(t, 'c-sandbox-ulanqab', { answers: { apiGateway: 'skip' } });
      if (full) expect(done.text).toMatch(/one manual step left/);
    },
  },
  {
    name: 'dedicated setup on an account without OSS and Cloud Backup (both activated)',
    prepare: async (t) => t.sandbox.account.change((s) => { s.services = { ossOff: true, cloudBackupOff: true }; }),
    run: setup('c-sandbox-dedicated'),
  },
  { name: 'dedicated setup over a policy with five versions and an orphan AccessKey', prepare: drift, run: setup('c-sandbox-dedicated') },
  {
    name: 'verify after a setup',
    prepare: async (t) => setup('c-sandbox-dedicated')(t, true),
    run: async (t, full) => {
      await t.command('/backup-setup verify c-sandbox-dedicated');
      if (full) expect(t.chat.replies('text').at(-1)?.text).toMatch(/All backup-center requirements are met/);
    },
  },
  {
    name: 'fleet setup of a region',
    run: async (t, full) => {
      await t.command('/backup-setup --region cn-wulanchabu --all');
      if (full) await t.chat.until(() => t.chat.replies('done').find((d) => /c-sandbox-ulanqab/.test(d.text)));
    },
  },
];

async function runPath(path: Path, document?: string) {
  const t = await startTestBot();
  bots.push(t);
  await path.prepare?.(t);
  if (document) t.sandbox.account.change((s) => ensureBotIdentity(s, document));
  t.sandbox.requests.clear();
  await path.run(t, document === undefined);
  const bot = t.sandbox.requests.entries.filter((e) => e.principal === 'user/backup-setup-bot');
  return { t, used: new Set(bot.filter((e) => e.allowed).map((e) => e.action)), refused: bot.filter((e) => !e.allowed).map((e) => e.action) };
}

const bots: TestBot[] = [];
afterEach(async () => {
  await Promise.all(bots.splice(0).map((t) => t.stop()));
});

describe("the bot's RAM policy", () => {
  it('is the one the README prints', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf("The bot's own RAM identity needs"));
    const block = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(block, 'README: no ```json block after "The bot\'s own RAM identity needs"').toBeDefined();
    expect(JSON.parse(block!)).toEqual(policy());
  });

  const usedBy = new Map<string, string>();

  it('is enough for every path, and every action in it is used by one', async () => {
    for (const path of PATHS) {
      const { used, refused } = await runPath(path);
      expect(refused, `${path.name} was refused`).toEqual([]);
      for (const action of used) if (!usedBy.has(action)) usedBy.set(action, path.name);
      await Promise.all(bots.splice(0).map((t) => t.stop()));
    }
    const unused = ACTIONS.filter((a) => !usedBy.has(a));
    expect(unused, 'actions no setup, verify or fleet path uses: remove them from deploy/bot-ram-policy.json (and the README), or add the path that needs them').toEqual([]);
  }, 300_000);

  it.each(ACTIONS)('without %s, the path that needs it stops with a message naming it', async (action) => {
    const name = usedBy.get(action);
    expect(name, `no path used ${action} (see the test above)`).toBeDefined();
    const { t } = await runPath(PATHS.find((p) => p.name === name)!, without(action));
    await t.chat.until(() => t.chat.allText().includes(`add \`${action}\` to the bot's RAM policy`) || undefined, 20_000);
  }, 60_000);
});
