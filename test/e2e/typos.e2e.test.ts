// Issue 15 item 11: typos get did-you-mean, and cluster ids are matched whatever their case.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/model.ts';
import { startTestBot, type TestBot } from '../support/bot-harness.ts';

let t: TestBot;
beforeEach(async () => {
  t = await startTestBot();
});
afterEach(async () => {
  await t.stop();
});

it('a setup of an unknown cluster id gets where it was looked for and the nearest id; nothing is changed', async () => {
  const before = JSON.stringify(t.sandbox.publicState());
  await t.command('/backup-setup c-sandbox-manged');
  const done = await t.chat.until(() => t.chat.replies('done').at(-1));
  // The same answer as verify gives (read-cluster.ts readClusterOrSuggest), here for a setup.
  expect(done.text).toBe('Cluster `c-sandbox-manged` was not found in cn-hangzhou, cn-wulanchabu; did you mean `c-sandbox-managed`?');
  expect(JSON.stringify(t.sandbox.publicState())).toBe(before);
});

it('a cluster id in upper case reaches the cluster (ids are lowercased before any call)', async () => {
  await t.command('/backup-setup C-Sandbox-Managed');
  const question = await t.chat.until(() => t.chat.messages.find((m) => m.reply.kind === 'question'));
  expect((question.reply as Extract<Reply, { kind: 'question' }>).prompt.questionId).toBeDefined();
  // The top message names the cluster by its id as CS knows it.
  expect(t.chat.replies('status')[0]).toMatchObject({ clusterId: 'c-sandbox-managed' });
  expect(t.chat.replies('done')).toEqual([]);
});
