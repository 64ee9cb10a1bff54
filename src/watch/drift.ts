// What a watch check found, compared with what it found before: which requirements drifted, since when,
// the risk, and what a Fix would plan. Pure: the watcher reads and speaks, this decides.
import type { Repair, StepName } from '../../flows/contract.ts';
import type { PostedMessage } from '../chat/model.ts';
import type { VerifyReport } from '../executor/contract.ts';
import { code, time } from '../../flows/domain/inline.js';

export interface DriftItem {
  requirement: string;
  status: 'fail' | 'warn';
  /** What the check saw. */
  detail: string;
  steps: StepName[];
}

/** Where a vault pointed the last time the cluster passed: a Fix makes a deleted one again there. */
export interface Baseline {
  vault: string;
  bucket: string;
  region: string;
}

/** Drift reported in chat and not yet resolved (kept on the watch row). */
export interface OpenDrift {
  /** Names this report: the Fix button carries it, so a click on an older report's button is recognised. */
  id: string;
  items: DriftItem[];
  /** The check that first found it. */
  since: string;
  /** The last check that found everything in place, if any. */
  lastGood: string | null;
  message: PostedMessage | null;
}

export type Change =
  | { kind: 'none' }
  | { kind: 'new'; items: DriftItem[] }
  /** Still drifted: not posted again (the message is updated when what drifted changed). */
  | { kind: 'persists'; items: DriftItem[]; changed: boolean }
  | { kind: 'resolved'; drift: OpenDrift };

/**
 * Drift is a requirement that fails, or a warning a setup step puts right (an old or downgraded add-on, a test
 * backup that no longer proves the configuration). Warnings only people can act on are left to `verify`.
 */
export function driftItems(report: VerifyReport): DriftItem[] {
  return report.checks
    .filter((c) => c.status === 'fail' || (c.status === 'warn' && (c.steps?.length ?? 0) > 0))
    .map((c) => ({ requirement: c.requirement, status: c.status as 'fail' | 'warn', detail: c.detail, steps: c.steps ?? [] }));
}

const keyOf = (items: DriftItem[]) => items.map((i) => i.requirement).sort().join('\n');

export function compare(open: OpenDrift | null, items: DriftItem[]): Change {
  if (items.length === 0) return open ? { kind: 'resolved', drift: open } : { kind: 'none' };
  if (!open) return { kind: 'new', items };
  return { kind: 'persists', items, changed: keyOf(open.items) !== keyOf(items) };
}

export function baselineOf(report: VerifyReport): Baseline | null {
  return report.vault && report.vault.bucket ? { vault: report.vault.name, bucket: report.vault.bucket, region: report.vault.region } : null;
}

/** What a Fix plans: the steps of every drifted requirement, on the vault's bucket as it was; null when no vault was ever seen. */
export function repairOf(items: DriftItem[], baseline: Baseline | null): Repair | null {
  if (!baseline) return null;
  const steps = [...new Set(items.flatMap((i) => i.steps))];
  return { steps, bucket: baseline.bucket, region: baseline.region };
}

const RISK: Partial<Record<StepName, string>> = {
  createBucket: 'the vault points at a bucket that does not exist: every backup fails',
  createRamUser: 'migrate-controller\'s RAM user is gone: it cannot reach OSS, backups and restores fail',
  ensurePolicy: 'migrate-controller lacks permissions: backups (or cross-region disk restores) fail',
  attachPolicy: 'migrate-controller lacks permissions: backups and restores fail',
  createAccessKeySecret: 'migrate-controller has no working AccessKey: backups and restores fail',
  installAddon: 'the backup component is missing or older than the setup installed: backups are not taken or lack fixes',
  createBackupVault: 'there is no backup vault: no backup can be written',
  testBackup: 'the configuration is not proven by a test backup: a backup may fail when it is needed',
};

export function riskOf(items: DriftItem[]): { level: 'high' | 'medium'; lines: string[] } {
  const lines = [...new Set(items.map((i) => i.steps.map((s) => RISK[s]).find((r) => r) ?? 'backups may fail until this is fixed by hand'))];
  return { level: items.some((i) => i.status === 'fail') ? 'high' : 'medium', lines };
}

/** The drift message: what differs, since when, the risk; the Fix button is added by the watcher. */
export function driftText(clusterId: string, drift: Pick<OpenDrift, 'items' | 'since' | 'lastGood'>, fixable: boolean): string {
  const risk = riskOf(drift.items);
  return [
    `⚠️ Drift on ${code(clusterId)}: its backup setup changed behind the bot's back.`,
    ...drift.items.map((i) => `• ${i.status === 'fail' ? '❌' : '⚠️'} ${i.requirement}: ${i.detail}`),
    `Since: first seen ${time(drift.since)}${drift.lastGood ? `; the check at ${time(drift.lastGood)} found it in place` : ''}.`,
    `Risk (${risk.level}): ${risk.lines.join('; ')}.`,
    fixable
      ? 'Fix starts a setup in this thread that plans only what drifted, each step with its approval, and ends with a test backup.'
      : `Fix starts a setup of ${code(clusterId)} in this thread (no vault was ever seen, so nothing narrower can be planned).`,
  ].join('\n');
}

export function resolvedText(clusterId: string, drift: OpenDrift, at: string): string {
  return `✅ Resolved: the check at ${time(at)} found every requirement of ${code(clusterId)} in place again (drifted since ${time(drift.since)}).`;
}
