// CHANNEL_CLUSTERS adds to a channel's watch: the clusters it names, and the clusters of the regions it names
// (`*` is not expanded: every cluster of the account is no one channel's to watch). A cluster that is watched
// already, or was turned off, is left as it is.
import type { ChannelBinding } from '../config/channel-clusters.ts';
import type { Executor } from '../executor/contract.ts';
import type { Logger } from '../observability/logger.ts';
import type { Store } from '../store/contract.ts';
import { firstCheckAt } from './schedule.ts';

export interface BindingDeps {
  store: Store;
  executor: Pick<Executor, 'listClusters'>;
  logger: Logger;
  now: () => Date;
  intervalMs: number;
}

/** Returns the clusters it started watching. */
export async function watchBoundClusters(deps: BindingDeps, bindings: ChannelBinding[]): Promise<string[]> {
  const added: string[] = [];
  for (const binding of bindings) {
    const clusters = new Set(binding.clusters);
    for (const region of binding.regions) {
      try {
        for (const id of await deps.executor.listClusters(region)) clusters.add(id);
      } catch (error) {
        deps.logger.warn({ err: error, region }, 'the clusters of a bound region could not be listed for the watch');
      }
    }
    for (const clusterId of clusters) {
      const conversation = { platform: binding.platform, channelId: binding.channelId };
      const nextCheckAt = firstCheckAt(clusterId, deps.now(), deps.intervalMs);
      if (await deps.store.addWatch({ clusterId, conversation, nextCheckAt, by: 'CHANNEL_CLUSTERS' })) added.push(clusterId);
    }
  }
  return added;
}
