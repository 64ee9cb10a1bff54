// CHANNEL_CLUSTERS enforcement: a channel may set up only the clusters (or regions) it is bound to.
import type { Conversation } from '../chat/model.ts';
import type { ChannelBinding } from '../config/channel-clusters.ts';
import type { Executor } from '../executor/contract.ts';
import { code } from '../../flows/domain/inline.js';

/** Why this conversation may not act on this cluster, or null. Reads the cluster's region only when needed. */
export async function channelRefusal(
  bindings: ChannelBinding[] | null,
  conversation: Conversation,
  clusterId: string,
  executor: Pick<Executor, 'readCluster'>,
): Promise<string | null> {
  if (bindings === null) return null;
  const binding = bindings.find((b) => b.platform === conversation.platform && b.channelId === conversation.channelId);
  const refusal = `This channel is not allowed to set up ${code(clusterId)}. Ask an operator to bind it in \`CHANNEL_CLUSTERS\`, or use the channel bound to this cluster.`;
  if (!binding) return refusal;
  if (binding.any || binding.clusters.includes(clusterId)) return null;
  if (binding.regions.length === 0) return refusal;
  const facts = await executor.readCluster(clusterId);
  return binding.regions.includes(facts.region) ? null : refusal;
}
