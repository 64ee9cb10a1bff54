// Issue 18: a CHANNEL_CLUSTERS binding adds its clusters, and the clusters of its regions, to the channel's watch.
import { afterEach, expect, it } from 'vitest';
import { parseChannelClusters, type ChannelBinding } from '../../src/config/channel-clusters.ts';
import { APPROVER, CHANNEL, startTestBot, type TestBot } from '../support/bot-harness.ts';

let t: TestBot | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

it('watches the bound clusters and regions from their channel, and leaves a watch turned off alone', async () => {
  const bindings = parseChannelClusters('web:ops=c-sandbox-managed|cn-wulanchabu,web:other=c-sandbox-edge') as ChannelBinding[];
  t = await startTestBot({ channelClusters: bindings, watchIntervalMs: 60_000 });
  await t.chat.until(() => true);
  const watched = async () => (await t!.store.listWatches()).map((w) => `${w.clusterId}@${w.conversation.channelId}:${w.enabled ? 'on' : 'off'}`);
  for (let i = 0; i < 50 && (await watched()).length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await watched()).toEqual(['c-sandbox-edge@other:on', 'c-sandbox-managed@ops:on', 'c-sandbox-ulanqab@ops:on']);

  await t.command('/backup-setup watch off c-sandbox-managed', APPROVER, CHANNEL);
  expect(await t.bot.watcher.watchBound()).toEqual([]);
  expect(await watched()).toEqual(['c-sandbox-edge@other:on', 'c-sandbox-managed@ops:off', 'c-sandbox-ulanqab@ops:on']);
  await t.command('/backup-setup watch');
  expect(t.chat.replies('text').at(-1)!.text).toMatch(/^This channel watches 2 clusters:\n• `c-sandbox-managed` — off \(turned off by <@web:approver>\) · not checked yet · no next check\n• `c-sandbox-ulanqab` — on · not checked yet · next check \S+$/);
});
