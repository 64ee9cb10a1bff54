// The watch's pure decisions: what counts as drift, what changed since the last check, when the next check is.
import { describe, expect, it } from 'vitest';
import type { VerifyReport } from '../../src/executor/contract.ts';
import { baselineOf, compare, driftItems, repairOf, type OpenDrift } from '../../src/watch/drift.ts';
import { firstCheckAt, nextCheckAfter, offsetOf } from '../../src/watch/schedule.ts';

const report = (checks: VerifyReport['checks']): VerifyReport => ({ clusterId: 'c-1', checks, vault: { name: 'v', bucket: 'b', prefix: '', region: 'cn-hangzhou', network: 'internal' } });

describe('drift', () => {
  it('is a failing requirement, or a warning a setup step puts right; not a warning only people can act on', () => {
    const items = driftItems(report([
      { requirement: 'A backup vault', status: 'fail', detail: 'none', steps: ['createBackupVault'] },
      { requirement: 'add-on current', status: 'warn', detail: 'old', steps: ['installAddon'] },
      { requirement: 'API Gateway', status: 'warn', detail: 'later' },
      { requirement: 'Kubernetes', status: 'pass', detail: 'ok' },
      { requirement: 'CSI', status: 'n/a', detail: '-' },
    ]));
    expect(items.map((i) => i.requirement)).toEqual(['A backup vault', 'add-on current']);
    expect(repairOf(items, baselineOf(report([])))).toEqual({ steps: ['createBackupVault', 'installAddon'], bucket: 'b', region: 'cn-hangzhou' });
    expect(repairOf(items, null)).toBeNull();
  });

  it('is reported when new, not again while it persists, and resolved when gone', () => {
    const a = { requirement: 'A', status: 'fail' as const, detail: '', steps: [] };
    const b = { requirement: 'B', status: 'fail' as const, detail: '', steps: [] };
    const open: OpenDrift = { id: 'x', items: [a], since: 't', lastGood: null, message: null };
    expect(compare(null, [])).toEqual({ kind: 'none' });
    expect(compare(null, [a])).toEqual({ kind: 'new', items: [a] });
    expect(compare(open, [{ ...a, detail: 'other words' }])).toMatchObject({ kind: 'persists', changed: false });
    expect(compare(open, [a, b])).toMatchObject({ kind: 'persists', changed: true });
    expect(compare(open, [])).toEqual({ kind: 'resolved', drift: open });
  });
});

describe('the schedule', () => {
  const interval = 86_400_000;
  it('spreads clusters over the interval, each at its own offset', () => {
    const offsets = Array.from({ length: 50 }, (_, i) => offsetOf(`c-fleet-${i}`, interval));
    expect(offsets.every((o) => o >= 0 && o < interval)).toBe(true);
    // No tenth of the day holds more than a fifth of the checks (5 each if perfectly even).
    const perTenth = Array.from({ length: 10 }, (_, i) => offsets.filter((o) => Math.floor(o / (interval / 10)) === i).length);
    expect(Math.max(...perTenth), perTenth.join(' ')).toBeLessThanOrEqual(10);
    expect(firstCheckAt('c-1', new Date(0), interval).getTime()).toBe(offsetOf('c-1', interval));
  });

  it('checks an interval later, and after a long stop the next one ahead, not a burst of missed ones', () => {
    const due = new Date(1_000);
    expect(nextCheckAfter(due, new Date(1_500), 5_000).getTime()).toBe(6_000);
    expect(nextCheckAfter(due, new Date(23_000), 5_000).getTime()).toBe(26_000);
  });
});
