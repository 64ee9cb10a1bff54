// createBackupVault: a BackupLocation custom resource (backup vault) in csdr pointing at the bucket.
// A vault cannot be modified, nor created with the name of a deleted one (backup-center FAQ, "Can I modify the
// backup vault?" and "VaultError"): an existing vault that points at the bucket is used as it is; otherwise a new
// vault is created under the first free name of `<name>`, `<name>-2`, …
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { BACKUP_NAMESPACE } from '../../../flows/domain/names.ts';
import { vaultNameCandidates } from '../../../flows/domain/vault.ts';
import { StepError } from '../contract.ts';
import { alreadyExists, guarded, type ExecContext } from '../context.ts';
import { toStepError } from '../errors.ts';
import { BACKUP_LOCATION, kubeOf, listBackupLocations, readBackupLocation, type CustomObject } from '../reads.ts';
import { statusOf } from '../retry.ts';
import { vaultPointsAt } from '../test-backup-record.ts';
import type { StepModule } from './types.ts';

type Params = StepParamsByName['createBackupVault'];

export const meta = {
  step: 'createBackupVault', title: 'Create backup vault', risk: 'low',
  apis: ['cs:DescribeClusterUserKubeconfig', 'kube: get/list/create backuplocations.csdr.alibabacloud.com'], timeoutMs: 60_000,
} as const satisfies StepModule<'createBackupVault'>['meta'];

/**
 * The complete spec of ACK's kubectl example ("Use kubectl to back up and restore applications",
 * https://www.alibabacloud.com/help/doc-detail/469706.html, whose parameters are not to be deleted): backupSyncPeriod,
 * config.network and config.region (the bucket's region), objectStorage.bucket and prefix, provider alibabacloud.
 */
export function backupLocationSpec(params: Pick<Params, 'bucket' | 'prefix' | 'region' | 'network'>) {
  return {
    backupSyncPeriod: '0s',
    provider: 'alibabacloud',
    objectStorage: { bucket: params.bucket, prefix: params.prefix },
    config: { network: params.network, region: params.region },
  };
}

/** The vault points where the params ask: bucket, prefix, region and network. */
const pointsAt = (vault: CustomObject, params: Params) => vaultPointsAt(vault, params);

const describe = (p: Params) => `bucket ${p.bucket}${p.prefix ? `/${p.prefix}` : ''}, ${p.region}, ${p.network} network`;

async function vaults(ctx: ExecContext, params: Params) {
  const all = await listBackupLocations(ctx, params.clusterId, BACKUP_NAMESPACE);
  const taken = new Set(all.map((v) => v.metadata?.name ?? ''));
  return { same: all.find((v) => pointsAt(v, params)), free: vaultNameCandidates(params.name).filter((n) => !taken.has(n)), taken };
}

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  const { same, free, taken } = await vaults(ctx, params);
  if (same) return { step: 'createBackupVault', upToDate: true, changes: [`backup vault ${same.metadata?.name} already points at ${describe(params)}`] };
  const name = free[0];
  if (!name) throw new StepError('createBackupVault', 'VaultNamesTaken', `Backup vaults ${params.name} to ${vaultNameCandidates(params.name).at(-1)} already exist in cluster ${params.clusterId} and point elsewhere: delete one you no longer use, then retry.`);
  // One line per cluster: a fleet approval lists every cluster's lines.
  const why = taken.has(params.name) ? `; ${params.name} exists and points elsewhere, and a vault cannot be modified` : '';
  return {
    step: 'createBackupVault', upToDate: false,
    changes: [`create backup vault (BackupLocation ${BACKUP_NAMESPACE}/${name}) for ${describe(params)}${why} (if a deleted vault had the name, which cannot be reused, the next of ${params.name}-2 … -${vaultNameCandidates(params.name).length})`],
  };
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  const { same, free } = await vaults(ctx, params);
  if (same) return { step: 'createBackupVault', outcome: 'already present', detail: `Backup vault ${same.metadata?.name} already points at ${describe(params)}` };
  const kube = await kubeOf(ctx, params.clusterId);
  const coordinates = { group: BACKUP_LOCATION.group, version: BACKUP_LOCATION.version, namespace: BACKUP_NAMESPACE, plural: BACKUP_LOCATION.plural };
  let refusal: unknown = null;
  for (const name of free) {
    const context = { service: 'kube' as const, permission: 'create backuplocations.csdr.alibabacloud.com', resource: `backup vault ${BACKUP_NAMESPACE}/${name} in cluster ${params.clusterId}`, scope: params.clusterId };
    const body = { apiVersion: `${BACKUP_LOCATION.group}/${BACKUP_LOCATION.version}`, kind: BACKUP_LOCATION.kind, metadata: { name, namespace: BACKUP_NAMESPACE }, spec: backupLocationSpec(params) };
    try {
      await guarded(ctx, context, () => kube.custom.createNamespacedCustomObject({ ...coordinates, body }));
      ctx.logger.info({ clusterId: params.clusterId, vault: name }, 'created backup vault');
      return { step: 'createBackupVault', outcome: 'created', detail: `Created backup vault ${name} (${describe(params)})` };
    } catch (error) {
      if (alreadyExists(error)) {
        // Made meanwhile (another replica, a retried step): ours if it points where we asked.
        const now = await readBackupLocation(ctx, params.clusterId, BACKUP_NAMESPACE, name);
        if (now && pointsAt(now, params)) return { step: 'createBackupVault', outcome: 'already present', detail: `Backup vault ${name} already points at ${describe(params)}` };
        continue;
      }
      // A refused name (a deleted vault had it): the next one is tried. Anything else stops the step.
      if (statusOf(error) !== 400) throw toStepError('createBackupVault', error, context, ctx.metrics);
      ctx.logger.info({ clusterId: params.clusterId, vault: name }, 'backup vault name refused; trying the next one');
      refusal = error;
    }
  }
  const context = { service: 'kube' as const, permission: 'create backuplocations.csdr.alibabacloud.com', resource: `backup vault ${params.name} in cluster ${params.clusterId}`, scope: params.clusterId };
  const last = refusal === null ? null : toStepError('createBackupVault', refusal, context, ctx.metrics);
  throw new StepError('createBackupVault', last?.code ?? 'VaultNamesTaken',
    `No backup vault could be created under ${params.name} or ${params.name}-2 … ${params.name}-${vaultNameCandidates(params.name).length}${last ? ` (${last.message})` : ''}: create one in the ACK console (Backup Center → Backup Vault) pointing at ${describe(params)}, then run /backup-setup again.`);
}

export const step: StepModule<'createBackupVault'> = { meta, preview, apply };
