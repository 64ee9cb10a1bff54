// ensurePolicy: the custom policy exists and its default version grants the document the flow asks for: exactly
// that, or for a policy shared by several clusters, that and everything it already grants.
import { CreatePolicyRequest, CreatePolicyVersionRequest, DeletePolicyVersionRequest } from '@alicloud/ram20150501';
import type { PolicyDocument, StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { describePolicy, grantedBuckets, unionPolicy } from '../../../flows/domain/policy.ts';
import { runtime } from '../clients.ts';
import { StepError } from '../contract.ts';
import { createOrPresent, write, type ExecContext } from '../context.ts';
import { policyVersions, type PolicyVersion } from '../reads.ts';
import type { StepModule } from './types.ts';
import { code } from '../../../flows/domain/inline.js';

type Params = StepParamsByName['ensurePolicy'];

export const MAX_POLICY_VERSIONS = 5;

export const meta = {
  step: 'ensurePolicy', title: 'Create or update RAM policy', risk: 'high', riskReason: 'grants access: the policy decides what migrate-controller may do in the account',
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
      const key = `${effect} on ${code(resource.join(' '))}`;
      byResource.set(key, [...(byResource.get(key) ?? []), action!]);
    }
    for (const [key, actions] of byResource) lines.push(`${verb} ${key}: ${actions.map(code).join(', ')}`);
  }
  return lines;
}

function oldestNonDefault(versions: PolicyVersion[]): PolicyVersion | undefined {
  const number = (v: PolicyVersion) => Number(v.versionId.replace(/^v/, '')) || 0;
  return versions.filter((v) => !v.isDefault).sort((a, b) => number(a) - number(b))[0];
}

/** The document the new default version must grant: the flow's, or for a shared policy, the union with what it grants now. */
function desiredDocument(params: Params, current: PolicyVersion | undefined): PolicyDocument {
  if (!params.shared || !current) return params.document;
  let parsed: PolicyDocument;
  try {
    parsed = JSON.parse(current.document) as PolicyDocument;
  } catch {
    throw new StepError('ensurePolicy', 'MalformedPolicyDocument',
      `The default version ${current.versionId} of policy ${code(params.policyName)} is not valid JSON, so the grants other clusters rely on cannot be kept: fix it in the RAM console, then retry.`);
  }
  return unionPolicy(parsed, params.document);
}

/** Buckets the shared policy grants now that this cluster does not ask for: kept, since other clusters may use them. */
function keptBuckets(params: Params, desired: PolicyDocument): string[] {
  const wanted = new Set(grantedBuckets(params.document));
  return grantedBuckets(desired).filter((b) => !wanted.has(b));
}

const SHARED = "shared by the account's registered clusters";

/** The current version grants `bucket` and the new one does not (`*` and `prefix-*` grants cover what they match). */
function revokes(current: PolicyDocument | null, desired: PolicyDocument, bucket: string): boolean {
  const covers = (document: PolicyDocument) =>
    grantedBuckets(document).some((granted) => granted === '*' || granted === bucket || (granted.endsWith('*') && bucket.startsWith(granted.slice(0, -1))));
  return current !== null && covers(current) && !covers(desired);
}

/** A warning line and the raised risk when the new version takes away access a backup vault of the cluster uses. */
function vaultWarnings(params: Params, current: PolicyVersion | undefined, desired: PolicyDocument): Pick<StepPreview, 'changes' | 'raisedRisk'> {
  let parsed: PolicyDocument | null = null;
  try {
    parsed = current ? (JSON.parse(current.document) as PolicyDocument) : null;
  } catch {
    parsed = null;
  }
  const cut = (params.vaults ?? []).filter((v) => revokes(parsed, desired, v.bucket));
  if (cut.length === 0) return { changes: [] };
  const named = cut.map((v) => `bucket ${code(v.bucket)} (vault ${code(v.name)})`).join(', ');
  return {
    changes: [`⚠️ revokes access to ${named}, which this cluster's backups use: backups and restores through ${cut.length > 1 ? 'these vaults' : 'this vault'} fail once this version is the default`],
    raisedRisk: { level: 'high', reason: `revokes access to ${named}, which a backup vault of this cluster uses` },
  };
}

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  const versions = await policyVersions(ctx, params.policyName);
  if (versions === null) {
    return { step: 'ensurePolicy', upToDate: false, changes: [`create custom RAM policy ${code(params.policyName)} (${describePolicy(params.document)})${params.shared ? `, ${SHARED}` : ''}`] };
  }
  const current = versions.find((v) => v.isDefault);
  const desired = desiredDocument(params, current);
  const kept = params.shared ? keptBuckets(params, desired) : [];
  const keeps = kept.length
    ? [`keeps access to ${kept.map((b) => (b === '*' ? 'every bucket' : `bucket ${code(b)}`)).join(', ')}: the policy is ${SHARED} and another cluster may use ${kept.length > 1 ? 'them' : 'it'}`]
    : [];
  const differences = policyDifferences(current?.document ?? '{}', desired);
  if (differences.length === 0) {
    return { step: 'ensurePolicy', upToDate: true, changes: [`policy ${code(params.policyName)} already grants what is needed (default version ${current?.versionId})`, ...keeps] };
  }
  const warnings = vaultWarnings(params, current, desired);
  const changes = [...warnings.changes, `add a new default version to policy ${code(params.policyName)} (${describePolicy(desired)}), replacing ${current?.versionId ?? 'no default'}`, ...differences, ...keeps];
  const oldest = versions.length >= MAX_POLICY_VERSIONS ? oldestNonDefault(versions) : undefined;
  if (oldest) changes.push(`delete its oldest non-default version ${oldest.versionId} (RAM keeps at most ${MAX_POLICY_VERSIONS} versions)`);
  return { step: 'ensurePolicy', upToDate: false, changes, ...(warnings.raisedRisk ? { raisedRisk: warnings.raisedRisk } : {}) };
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  const name = params.policyName;
  const writeTimeout = ctx.clients.timeouts.write;
  let versions = await policyVersions(ctx, name);
  if (versions === null) {
    const result = await createOrPresent(ctx, { service: 'ram', permission: 'ram:CreatePolicy', resource: `policy ${name}` }, () =>
      ctx.clients.ram.createPolicyWithOptions(new CreatePolicyRequest({ policyName: name, policyDocument: JSON.stringify(params.document), description: 'migrate-controller (ACK backup center), managed by the backup-setup bot' }), runtime(writeTimeout)),
      async () => (await policyVersions(ctx, name)) !== null);
    if (result === 'created') {
      ctx.logger.info({ policyName: name }, 'created policy');
      return { step: 'ensurePolicy', outcome: 'created', detail: `Created policy ${code(name)} (${describePolicy(params.document)})` };
    }
    versions = (await policyVersions(ctx, name)) ?? [];
  }
  // Re-read at apply time: another cluster may have added a grant since the approval was shown; it is kept too.
  const current = versions.find((v) => v.isDefault);
  const desired = desiredDocument(params, current);
  if (current && policyDifferences(current.document, desired).length === 0) {
    return { step: 'ensurePolicy', outcome: 'already present', detail: `Policy ${code(name)} already grants what is needed (${current.versionId})` };
  }
  if (versions.length >= MAX_POLICY_VERSIONS) {
    const oldest = oldestNonDefault(versions);
    if (oldest) {
      await write(ctx, { service: 'ram', permission: 'ram:DeletePolicyVersion', resource: `policy ${name} version ${oldest.versionId}` }, () =>
        ctx.clients.ram.deletePolicyVersionWithOptions(new DeletePolicyVersionRequest({ policyName: name, versionId: oldest.versionId }), runtime(writeTimeout)),
        async () => ((await policyVersions(ctx, name)) ?? []).some((v) => v.versionId === oldest.versionId) ? null : ({} as never));
      ctx.logger.info({ policyName: name, versionId: oldest.versionId }, 'deleted oldest non-default policy version');
    }
  }
  const landedVersion = async () => {
    const now = ((await policyVersions(ctx, name)) ?? []).find((v) => v.isDefault);
    return now && now.versionId !== current?.versionId && policyDifferences(now.document, desired).length === 0 ? now.versionId : null;
  };
  const versionId = await write(ctx, { service: 'ram', permission: 'ram:CreatePolicyVersion', resource: `policy ${name}` }, async () => {
    const created = await ctx.clients.ram.createPolicyVersionWithOptions(new CreatePolicyVersionRequest({ policyName: name, policyDocument: JSON.stringify(desired), setAsDefault: true }), runtime(writeTimeout));
    return created.body?.policyVersion?.versionId ?? 'new version';
  }, landedVersion);
  ctx.logger.info({ policyName: name, versionId }, 'updated policy');
  const kept = params.shared ? keptBuckets(params, desired) : [];
  return {
    step: 'ensurePolicy', outcome: 'updated',
    detail: `Updated policy ${code(name)}: ${versionId} is now the default (${describePolicy(desired)})${kept.length ? `; kept ${kept.map(code).join(', ')} for the other clusters` : ''}`,
  };
}

export const step: StepModule<'ensurePolicy'> = { meta, preview, apply };
