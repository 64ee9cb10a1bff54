// createBackupVault: the BackupLocation custom resource (reference §2 and §8) pointing at the bucket.
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { BACKUP_NAMESPACE } from '../../../flows/domain/names.ts';
import { alreadyExists, call, guarded, type ExecContext } from '../context.ts';
import { toStepError } from '../errors.ts';
import { BACKUP_LOCATION, kubeOf, readBackupLocation, type CustomObject } from '../reads.ts';
import type { StepModule } from './types.ts';

type Params = StepParamsByName['createBackupVault'];

export const meta = {
  step: 'createBackupVault', title: 'Create backup vault', risk: 'low',
  apis: ['cs:DescribeClusterUserKubeconfig', 'kube: get/create/update backuplocations.csdr.alibabacloud.com'], timeoutMs: 60_000,
} as const satisfies StepModule<'createBackupVault'>['meta'];

/** The BackupLocation spec; the objectStorage field names follow Velero and are unverified (reference §8). */
export function backupLocationSpec(params: Params) {
  return {
    objectStorage: { bucket: params.bucket, prefix: params.prefix },
    config: { region: params.region, network: params.network },
  };
}

type Spec = ReturnType<typeof backupLocationSpec>;

/** "field: current → wanted" for each of our fields that differs; [] when equal. */
export function specDifferences(existing: CustomObject, params: Params): string[] {
  const have = (existing.spec ?? {}) as { objectStorage?: Partial<Spec['objectStorage']>; config?: Partial<Spec['config']> };
  const want = backupLocationSpec(params);
  const fields: [string, unknown, string][] = [
    ['objectStorage.bucket', have.objectStorage?.bucket, want.objectStorage.bucket],
    ['objectStorage.prefix', have.objectStorage?.prefix ?? '', want.objectStorage.prefix],
    ['config.region', have.config?.region, want.config.region],
    ['config.network', have.config?.network, want.config.network],
  ];
  return fields.filter(([, a, b]) => a !== b).map(([name, a, b]) => `${name}: ${a === undefined ? '(unset)' : JSON.stringify(a)} → ${JSON.stringify(b)}`);
}

const describe = (p: Params) => `bucket ${p.bucket}${p.prefix ? `/${p.prefix}` : ''}, ${p.region}, ${p.network} network`;

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  const existing = await readBackupLocation(ctx, params.clusterId, BACKUP_NAMESPACE, params.name);
  if (!existing) return { step: 'createBackupVault', upToDate: false, changes: [`create backup vault (BackupLocation ${BACKUP_NAMESPACE}/${params.name}) for ${describe(params)}`] };
  const differences = specDifferences(existing, params);
  if (differences.length === 0) return { step: 'createBackupVault', upToDate: true, changes: [`backup vault ${params.name} already points at ${describe(params)}`] };
  return { step: 'createBackupVault', upToDate: false, changes: [`update backup vault ${params.name}:`, ...differences] };
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  const kube = await kubeOf(ctx, params.clusterId);
  const context = { service: 'kube' as const, permission: 'create/update backuplocations.csdr.alibabacloud.com', resource: `backup vault ${BACKUP_NAMESPACE}/${params.name} in cluster ${params.clusterId}` };
  const coordinates = { group: BACKUP_LOCATION.group, version: BACKUP_LOCATION.version, namespace: BACKUP_NAMESPACE, plural: BACKUP_LOCATION.plural };
  let existing = await readBackupLocation(ctx, params.clusterId, BACKUP_NAMESPACE, params.name);
  if (!existing) {
    const body = { apiVersion: `${BACKUP_LOCATION.group}/${BACKUP_LOCATION.version}`, kind: BACKUP_LOCATION.kind, metadata: { name: params.name, namespace: BACKUP_NAMESPACE }, spec: backupLocationSpec(params) };
    try {
      await guarded(ctx, context, () => kube.custom.createNamespacedCustomObject({ ...coordinates, body }));
      ctx.logger.info({ clusterId: params.clusterId, vault: params.name }, 'created backup vault');
      return { step: 'createBackupVault', outcome: 'created', detail: `Created backup vault ${params.name} (${describe(params)})` };
    } catch (error) {
      if (!alreadyExists(error)) throw toStepError('createBackupVault', error, context, ctx.metrics);
      existing = await readBackupLocation(ctx, params.clusterId, BACKUP_NAMESPACE, params.name);
      if (!existing) throw toStepError('createBackupVault', error, context, ctx.metrics);
    }
  }
  const differences = specDifferences(existing, params);
  if (differences.length === 0) return { step: 'createBackupVault', outcome: 'already present', detail: `Backup vault ${params.name} already points at ${describe(params)}` };
  const spec = { ...((existing.spec ?? {}) as Record<string, unknown>), ...backupLocationSpec(params) };
  await call(ctx, context, () => kube.custom.replaceNamespacedCustomObject({ ...coordinates, name: params.name, body: { ...existing, spec } }));
  ctx.logger.info({ clusterId: params.clusterId, vault: params.name, differences }, 'updated backup vault');
  return { step: 'createBackupVault', outcome: 'updated', detail: `Updated backup vault ${params.name}: ${differences.join('; ')}` };
}

export const step: StepModule<'createBackupVault'> = { meta, preview, apply };
