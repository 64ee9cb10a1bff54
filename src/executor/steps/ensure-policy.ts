// ensurePolicy: the custom policy exists and its default version grants exactly the document the flow asks for.
import { CreatePolicyRequest, CreatePolicyVersionRequest, DeletePolicyVersionRequest } from '@alicloud/ram20150501';
import type { PolicyDocument, StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { describePolicy } from '../../../flows/domain/policy.ts';
import { runtime } from '../clients.ts';
import { call, createOrPresent, type ExecContext } from '../context.ts';
import { policyVersions, type PolicyVersion } from '../reads.ts';
import type { StepModule } from './types.ts';

type Params = StepParamsByName['ensurePolicy'];

export const MAX_POLICY_VERSIONS = 5;

export const meta = {
  step: 'ensurePolicy', title: 'Create or update RAM policy', risk: 'high',
  apis: ['ram:ListPolicyVersions', 'ram:CreatePolicy', 'ram:CreatePolicyVersion', 'ram:DeletePolicyVersion'], timeoutMs: 60_000,
} as const satisfies StepModule<'ensurePolicy'>['meta'];

/** Granted (effect, action, resource) triples: order, duplicates and string-vs-array forms do not matter. */
export function policyGrants(document: string | PolicyDocument): Set<string> {
  const parsed = (typeof document === 'string' ? JSON.parse(document) : document) as { Statement?: unknown };
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
  const grants = new Set<string>();
  for (const s of statements as { Effect?: string; Action?: string | string[]; Resource?: string | string[] }[]) {
    const actions = Array.isArray(s.Action) ? s.Action : s.Action ? [s.Action] : [];
    const resources = Array.isArray(s.Resource) ? s.Resource : s.Resource ? [s.Resource] : [];
    for (const a of actions) for (const r of resources) grants.add(`${s.Effect ?? 'Allow'} ${a} on ${r}`);
  }
  return grants;
}

/** Human lines for what the desired document adds to and removes from the current one; [] when equal. */
export function policyDifferences(current: string, desired: PolicyDocument): string[] {
  let have: Set<string>;
  try {
    have = policyGrants(current);
  } catch {
    return ['the current default version is not valid JSON and is replaced'];
  }
  const want = policyGrants(desired);
  const lines: string[] = [];
  for (const [verb, grants] of [['adds', [...want].filter((g) => !have.has(g))], ['removes', [...have].filter((g) => !want.has(g))]] as const) {
    // "Allow oss:GetObject on acs:oss:*:*:b" grouped as "adds Allow on acs:oss:*:*:b: oss:GetObject, …"
    const byResource = new Map<string, string[]>();
    for (const grant of grants) {
      const [effect, action, , ...resource] = grant.split(' ');
      const key = `${effect} on ${resource.join(' ')}`;
      byResource.set(key, [...(byResource.get(key) ?? []), action!]);
    }
    for (const [key, actions] of byResource) lines.push(`${verb} ${key}: ${actions.join(', ')}`);
  }
  return lines;
}

function oldestNonDefault(versions: PolicyVersion[]): PolicyVersion | undefined {
  const number = (v: PolicyVersion) => Number(v.versionId.replace(/^v/, '')) || 0;
  return versions.filter((v) => !v.isDefault).sort((a, b) => number(a) - number(b))[0];
}

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  const versions = await policyVersions(ctx, params.policyName);
  if (versions === null) {
    return { step: 'ensurePolicy', upToDate: false, changes: [`create custom RAM policy ${params.policyName} (${describePolicy(params.document)})`] };
  }
  const current = versions.find((v) => v.isDefault);
  const differences = policyDifferences(current?.document ?? '{}', params.document);
  if (differences.length === 0) {
    return { step: 'ensurePolicy', upToDate: true, changes: [`policy ${params.policyName} already grants exactly what is needed (default version ${current?.versionId})`] };
  }
  const changes = [`add a new default version to policy ${params.policyName} (${describePolicy(params.document)}), replacing ${current?.versionId ?? 'no default'}`, ...differences];
  const oldest = versions.length >= MAX_POLICY_VERSIONS ? oldestNonDefault(versions) : undefined;
  if (oldest) changes.push(`delete its oldest non-default version ${oldest.versionId} (RAM keeps at most ${MAX_POLICY_VERSIONS} versions)`);
  return { step: 'ensurePolicy', upToDate: false, changes };
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  const name = params.policyName;
  const documentJson = JSON.stringify(params.document);
  let versions = await policyVersions(ctx, name);
  if (versions === null) {
    const result = await createOrPresent(ctx, { service: 'ram', permission: 'ram:CreatePolicy', resource: `policy ${name}` }, () =>
      ctx.clients.ram.createPolicyWithOptions(new CreatePolicyRequest({ policyName: name, policyDocument: documentJson, description: 'migrate-controller (ACK backup center), managed by the backup-setup bot' }), runtime()));
    if (result === 'created') {
      ctx.logger.info({ policyName: name }, 'created policy');
      return { step: 'ensurePolicy', outcome: 'created', detail: `Created policy ${name} (${describePolicy(params.document)})` };
    }
    versions = (await policyVersions(ctx, name)) ?? [];
  }
  const current = versions.find((v) => v.isDefault);
  if (current && policyDifferences(current.document, params.document).length === 0) {
    return { step: 'ensurePolicy', outcome: 'already present', detail: `Policy ${name} already grants what is needed (${current.versionId})` };
  }
  if (versions.length >= MAX_POLICY_VERSIONS) {
    const oldest = oldestNonDefault(versions);
    if (oldest) {
      await call(ctx, { service: 'ram', permission: 'ram:DeletePolicyVersion', resource: `policy ${name} version ${oldest.versionId}` }, () =>
        ctx.clients.ram.deletePolicyVersionWithOptions(new DeletePolicyVersionRequest({ policyName: name, versionId: oldest.versionId }), runtime()));
      ctx.logger.info({ policyName: name, versionId: oldest.versionId }, 'deleted oldest non-default policy version');
    }
  }
  const created = await call(ctx, { service: 'ram', permission: 'ram:CreatePolicyVersion', resource: `policy ${name}` }, () =>
    ctx.clients.ram.createPolicyVersionWithOptions(new CreatePolicyVersionRequest({ policyName: name, policyDocument: documentJson, setAsDefault: true }), runtime()));
  const versionId = created.body?.policyVersion?.versionId ?? 'new version';
  ctx.logger.info({ policyName: name, versionId }, 'updated policy');
  return { step: 'ensurePolicy', outcome: 'updated', detail: `Updated policy ${name}: ${versionId} is now the default (${describePolicy(params.document)})` };
}

export const step: StepModule<'ensurePolicy'> = { meta, preview, apply };
