// CHANNEL_CLUSTERS: which chat channel may set up which clusters or regions.
// Format: comma-separated `<platform>:<channel>=<target>|<target>…`, a target being a cluster id,
// a region id or `*`. Example: `slack:C0123=c-sandbox-dedicated|cn-hangzhou,dingtalk:cidAbC==*`.
import type { Platform } from '../conversation.ts';
import { CLUSTER_ID, REGION_ID } from '../chat/grammar.ts';

export interface ChannelBinding {
  platform: Platform;
  channelId: string;
  clusters: string[];
  regions: string[];
  any: boolean;
}

const PLATFORMS: string[] = ['slack', 'dingtalk', 'web'];

export function parseChannelClusters(text: string): ChannelBinding[] | string {
  const bindings: ChannelBinding[] = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    // A DingTalk conversation id may itself contain "=" (base64 padding): the targets follow the last "=".
    const colon = raw.indexOf(':');
    const cut = raw.lastIndexOf('=');
    const platform = raw.slice(0, colon);
    const channelId = raw.slice(colon + 1, cut);
    const targets = raw.slice(cut + 1);
    if (colon < 0 || cut <= colon + 1 || !targets || !PLATFORMS.includes(platform)) {
      return `entry "${raw}" is not <platform>:<channel>=<cluster-or-region>|… (platform slack, dingtalk or web)`;
    }
    const binding: ChannelBinding = { platform: platform as Platform, channelId, clusters: [], regions: [], any: false };
    for (const target of targets.split('|').map((s) => s.trim())) {
      if (target === '*') binding.any = true;
      else if (CLUSTER_ID.test(target) && !REGION_ID.test(target)) binding.clusters.push(target);
      else if (REGION_ID.test(target)) binding.regions.push(target);
      else return `target "${target}" in entry "${raw}" is neither a cluster id (c…), a region id (cn-hangzhou) nor *`;
    }
    bindings.push(binding);
  }
  return bindings;
}
