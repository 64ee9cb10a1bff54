// When a watched cluster is checked: every cluster once per interval, each at its own offset in the
// interval (from its id), so a hundred clusters are not all read in the same second.
import { createHash } from 'node:crypto';

/** Where in the interval the cluster's checks fall, 0 ≤ offset < interval. */
export function offsetOf(clusterId: string, intervalMs: number): number {
  const fraction = createHash('sha256').update(clusterId).digest().readUInt32BE(0) / 2 ** 32;
  return Math.floor(fraction * intervalMs);
}

/** The first check of a cluster watched from `now` on: at its offset in the interval that follows. */
export function firstCheckAt(clusterId: string, now: Date, intervalMs: number): Date {
  return new Date(now.getTime() + offsetOf(clusterId, intervalMs));
}

/**
 * The check after the one due at `due`: an interval later, keeping the cluster's offset. Checks missed
 * while no replica ran are not made up for in a burst: the next one is the first still ahead.
 */
export function nextCheckAfter(due: Date, now: Date, intervalMs: number): Date {
  let next = due.getTime() + intervalMs;
  if (next <= now.getTime()) next += Math.ceil((now.getTime() - next + 1) / intervalMs) * intervalMs;
  return new Date(next);
}
