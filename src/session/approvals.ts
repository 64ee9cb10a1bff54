// Approval rules from DESIGN.md, as pure functions: who may decide, and what an approval is bound to.
import { createHash } from 'node:crypto';
import type { StepRequest, UserId } from '../../flows/contract.ts';
import { person, time } from '../../flows/domain/inline.js';

export interface ApprovalPolicy {
  /** People, or groups (a Slack user group `slack:S…`: its members approve). */
  approvers: readonly string[];
  allowSelfApproval: boolean;
  /** The groups a person belongs to, as approver ids (from their chat platform). */
  groupsOf?: (actor: UserId) => Promise<UserId[]>;
}

/** Named in APPROVERS, or a member of a group named there. */
export async function isApprover(policy: ApprovalPolicy, actor: UserId): Promise<boolean> {
  if (policy.approvers.includes(actor)) return true;
  if (!policy.groupsOf) return false;
  return (await policy.groupsOf(actor)).some((group) => policy.approvers.includes(group));
}

/** Why this person may not decide this step, or null when they may. Said to that person only. */
export async function decisionRefusal(policy: ApprovalPolicy, actor: UserId, requester: UserId): Promise<string | null> {
  if (!(await isApprover(policy, actor))) {
    return 'You are not an approver for backup-setup, so your click changed nothing. Ask one of the configured approvers.';
  }
  if (actor === requester && !policy.allowSelfApproval) {
    return 'You requested this setup, so you cannot approve its steps yourself. Ask another approver.';
  }
  return null;
}

/** The approvers who can click in a chat of `platform` (APPROVERS may name people and groups of several platforms). */
export function approversOn(platform: string, approvers: readonly UserId[]): UserId[] {
  return approvers.filter((a) => a.startsWith(`${platform}:`));
}

/** A stable hash of exactly what the approval message showed: the step and its parameters. */
export function paramsHash(request: StepRequest): string {
  return createHash('sha256').update(stableJson(request)).digest('hex');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Why a click on an approval that could not be consumed changed nothing (the store said `reason`). */
export function refusalFor(reason: string, approval: { decidedBy?: string | null; decidedAt?: Date | string | null } | undefined) {
  switch (reason) {
    case 'already-decided':
      return `This step was already decided${approval?.decidedBy ? ` by ${person(approval.decidedBy)}` : ''}${approval?.decidedAt ? ` at ${time(new Date(approval.decidedAt))}` : ''}; your click changed nothing.`;
    case 'expired':
      return 'This approval has expired; your click changed nothing. Start the setup again to get a fresh approval.';
    case 'mismatch':
      return 'This approval no longer matches what the setup is about to do; your click changed nothing.';
    default:
      return 'This approval is unknown; your click changed nothing.';
  }
}
