// testBackup: proves the setup works. It backs up one small namespace with an ApplicationBackup (the component writes
// the files with its own credentials), waits for it, lists the files in the bucket with the bot's own oss:ListObjects,
// removes the backup again with a DeleteRequest and checks that its files are gone, then records the pass on the vault.
// Resumable: a rerun finds the backup (or its DeleteRequest) by name and carries on from there.
//
// ApplicationBackup fields from the kubectl guide's manifests (https://www.alibabacloud.com/help/doc-detail/469706.html, as
// reproduced in public manifests): spec.includedNamespaces, includeClusterResources, pvBackup.defaultPvBackup,
// storageLocation, ttl; the csdr.alibabacloud.com/backuplocations annotation. status.phase InProgress / Completed / Failed /
// PartiallyFailed are the FAQ's; status.message (the error) and status.startTimestamp / completionTimestamp are guesses
// modelled on Velero's Backup status.
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { BACKUP_NAMESPACE } from '../../../flows/domain/names.ts';
import { StepError } from '../contract.ts';
import { alreadyExists, call, type ExecContext } from '../context.ts';
import { toStepError } from '../errors.ts';
import { APPLICATION_BACKUP, DELETE_REQUEST, kubeOf, readCustomObject, type CustomObject } from '../reads.ts';
import { withRetry } from '../retry.ts';
import { diagnose } from '../test-backup-diagnosis.ts';
import {
  backupDirectory, configurationChanges, configurationOf, describeRecord, formatBytes, locationOf, readComponent, readVault, recordTest, type Vault,
} from '../test-backup-record.ts';
import type { StepModule } from './types.ts';

type Params = StepParamsByName['testBackup'];

export const meta = {
  step: 'testBackup', title: 'Run a test backup (it removes itself)', risk: 'low',
  apis: [
    'cs:DescribeClusterDetail', 'cs:DescribeClusterUserKubeconfig', 'ram:GetPolicy', 'oss:ListObjects',
    'kube: get/list/patch backuplocations; get/create applicationbackups, deleterequests; get secrets, deployments',
  ],
  timeoutMs: 15 * 60_000,
} as const satisfies StepModule<'testBackup'>['meta'];

/** Expiry of the test backup, should its removal not happen (the component deletes expired backups). */
const TEST_TTL = '1h0m0s';
const RESULT_ANNOTATION = 'backup-setup/test-result';
const TERMINAL = ['Completed', 'Failed', 'PartiallyFailed'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const phaseOf = (o: CustomObject | null) => ((o?.status ?? {}) as { phase?: string }).phase;
const messageOf = (o: CustomObject | null) => ((o?.status ?? {}) as { message?: string }).message ?? '';

function coordinates(resource: typeof APPLICATION_BACKUP | typeof DELETE_REQUEST) {
  return { group: resource.group, version: resource.version, namespace: BACKUP_NAMESPACE, plural: resource.plural };
}

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  const [{ vault, record }, component] = await Promise.all([readVault(ctx, params.clusterId, params.vault, params.target), readComponent(ctx, params.clusterId)]);
  const { configuration } = configurationOf(vault, component);
  const changed = record ? configurationChanges(record.configuration, configuration) : [];
  if (record && !params.force && changed.length === 0) {
    return {
      step: 'testBackup', upToDate: true,
      changes: [`Test backup of ${record.namespace} passed at ${record.at} with this configuration (${record.objects} objects written to ${record.location}, then removed); not run again`],
    };
  }
  return {
    step: 'testBackup', upToDate: false,
    changes: [
      `back up namespace ${params.namespace} (read only, no volume data) as ApplicationBackup ${BACKUP_NAMESPACE}/${params.backupName} into vault ${vault.name}: ` +
        `migrate-controller writes its files to ${locationOf(vault, params.backupName)} with its own credentials (${configuration.credentials})`,
      `wait for it (at most ${meta.timeoutMs / 60_000} minutes), then list its files in the bucket with the bot's own oss:ListObjects`,
      `then remove it: DeleteRequest ${BACKUP_NAMESPACE}/${params.backupName}-dbr deletes its files from the bucket and its record (it expires after ${TEST_TTL} should that fail)`,
      ...(record ? [`the last test backup passed at ${record.at}; changed since: ${changed.join('; ') || 'nothing (run on request)'}`] : []),
    ],
  };
}

async function createTask(ctx: ExecContext, clusterId: string, resource: typeof APPLICATION_BACKUP | typeof DELETE_REQUEST, body: object, name: string) {
  const kube = await kubeOf(ctx, clusterId);
  const context = { service: 'kube' as const, permission: `create ${resource.plural}.${resource.group}`, resource: `${resource.kind} ${BACKUP_NAMESPACE}/${name} in cluster ${clusterId}`, scope: clusterId };
  try {
    await withRetry(() => kube.custom.createNamespacedCustomObject({ ...coordinates(resource), body }), ctx.retry);
  } catch (error) {
    if (!alreadyExists(error)) throw toStepError(ctx.step, error, context, ctx.metrics);
  }
}

function backupBody(params: Params, vault: Vault) {
  return {
    apiVersion: `${APPLICATION_BACKUP.group}/${APPLICATION_BACKUP.version}`,
    kind: APPLICATION_BACKUP.kind,
    metadata: {
      name: params.backupName,
      namespace: BACKUP_NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'backup-setup-bot', 'backup-setup/test': 'true' },
      annotations: {
        'csdr.alibabacloud.com/backuplocations': JSON.stringify({ name: vault.name, region: vault.region, bucket: vault.bucket, prefix: vault.prefix, provider: 'alibabacloud' }),
      },
    },
    spec: {
      includedNamespaces: [params.namespace],
      includeClusterResources: false,
      pvBackup: { defaultPvBackup: false },
      storageLocation: vault.name,
      ttl: TEST_TTL,
    },
  };
}

/**
 * Polls a task until `done` says so, reporting each new phase; a timeout is a failed test (the flow asks what to do).
 * A test backup of a tiny namespace takes seconds: the polls start 250 ms apart and slow down to the poll interval.
 */
async function waitFor(
  ctx: ExecContext, params: Params, resource: typeof APPLICATION_BACKUP | typeof DELETE_REQUEST, name: string, deadline: number,
  done: (object: CustomObject | null) => boolean,
): Promise<CustomObject | null> {
  let reported: string | undefined;
  for (let poll = 0; ; poll++) {
    const object = await readCustomObject(ctx, params.clusterId, resource, BACKUP_NAMESPACE, name);
    const phase = phaseOf(object) ?? (object ? 'New' : 'gone');
    if (phase !== reported) {
      ctx.progress?.(`${resource.kind} ${BACKUP_NAMESPACE}/${name} of the test backup: ${phase}`);
      reported = phase;
    }
    if (done(object)) return object;
    if (Date.now() > deadline) {
      throw new StepError('testBackup', 'TestBackupFailed',
        `${resource.kind} ${BACKUP_NAMESPACE}/${name} is still ${phase} after ${meta.timeoutMs / 60_000} minutes: check the backup component (kubectl -n csdr get pods; kubectl -n csdr describe ${resource.plural} ${name}), then test again.`,
        false, 'fixAndRetry');
    }
    await sleep(Math.min(ctx.pollMs, 250 * 2 ** poll));
  }
}

/** The files under the backup's directory, listed with the bot's credentials (ListObjectsV2). */
async function filesOf(ctx: ExecContext, vault: Vault, backup: string): Promise<{ keys: string[]; bytes: number }> {
  const oss = await ctx.clients.ossBucket(vault.region, vault.bucket);
  const prefix = backupDirectory(vault, backup);
  const keys: string[] = [];
  let bytes = 0;
  for (let token: string | undefined; ;) {
    const page = await call(ctx, { service: 'oss', permission: 'oss:ListObjects', resource: `bucket ${vault.bucket} (prefix ${prefix})` }, () =>
      oss.listV2({ prefix, 'max-keys': '1000', ...(token ? { 'continuation-token': token } : {}) } as never, {}));
    for (const object of page.objects ?? []) {
      keys.push(object.name);
      bytes += Number(object.size ?? 0);
    }
    if (!page.isTruncated || !page.nextContinuationToken) return { keys, bytes };
    token = page.nextContinuationToken;
  }
}

function secondsBetween(status: unknown, fallbackMs: number): number {
  const s = (status ?? {}) as { startTimestamp?: string; completionTimestamp?: string };
  const measured = Date.parse(s.completionTimestamp ?? '') - Date.parse(s.startTimestamp ?? '');
  return Math.max(0, Math.round((Number.isNaN(measured) ? fallbackMs : measured) / 1000));
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  const started = Date.now();
  const deadline = started + meta.timeoutMs;
  const deleteName = `${params.backupName}-dbr`;
  const [{ vault }, component, pending] = await Promise.all([
    readVault(ctx, params.clusterId, params.vault, params.target),
    readComponent(ctx, params.clusterId),
    readCustomObject(ctx, params.clusterId, DELETE_REQUEST, BACKUP_NAMESPACE, deleteName),
  ]);
  const view = configurationOf(vault, component);
  const location = locationOf(vault, params.backupName);
  const failure = (what: string, componentError: string) => {
    const { remedy, fix } = diagnose(componentError, vault, view.credentials, view.policyDocument);
    return new StepError('testBackup', 'TestBackupFailed', `${what}: «${componentError}». Likely fix: ${fix}`, false, remedy);
  };

  let written: { objects: number; bytes: number; seconds: number };
  if (pending) {
    // A rerun after the backup was checked and its removal asked for: carry on with the removal.
    written = JSON.parse(pending.metadata?.annotations?.[RESULT_ANNOTATION] ?? '{"objects":0,"bytes":0,"seconds":0}') as typeof written;
  } else {
    await createTask(ctx, params.clusterId, APPLICATION_BACKUP, backupBody(params, vault), params.backupName);
    const backup = await waitFor(ctx, params, APPLICATION_BACKUP, params.backupName, deadline, (o) => o === null || TERMINAL.includes(phaseOf(o) ?? ''));
    if (backup === null) {
      throw new StepError('testBackup', 'TestBackupFailed', `ApplicationBackup ${BACKUP_NAMESPACE}/${params.backupName} disappeared before it completed: someone deleted it; test again.`, false, 'fixAndRetry');
    }
    if (phaseOf(backup) !== 'Completed') {
      throw failure(
        `ApplicationBackup ${BACKUP_NAMESPACE}/${params.backupName} is ${phaseOf(backup)} (kept for inspection: kubectl -n csdr describe applicationbackup ${params.backupName})`,
        messageOf(backup) || 'no message',
      );
    }
    const files = await filesOf(ctx, vault, params.backupName);
    if (!files.keys.some((k) => k.endsWith('/velero-backup.json')) || !files.keys.some((k) => k.endsWith(`/${params.backupName}.tar.gz`))) {
      throw new StepError('testBackup', 'TestBackupFailed',
        `ApplicationBackup ${BACKUP_NAMESPACE}/${params.backupName} says Completed, but ${location} holds ${files.keys.length} files and not its velero-backup.json and ${params.backupName}.tar.gz: check the vault's bucket and prefix, then test again.`,
        false, 'fixAndRetry');
    }
    written = { objects: files.keys.length, bytes: files.bytes, seconds: secondsBetween(backup.status, Date.now() - started) };
    ctx.progress?.(`The test backup wrote ${written.objects} objects (${formatBytes(written.bytes)}) to ${location}; removing it`);
    await createTask(ctx, params.clusterId, DELETE_REQUEST, {
      apiVersion: `${DELETE_REQUEST.group}/${DELETE_REQUEST.version}`,
      kind: DELETE_REQUEST.kind,
      metadata: {
        name: deleteName, namespace: BACKUP_NAMESPACE,
        labels: { 'app.kubernetes.io/managed-by': 'backup-setup-bot', 'backup-setup/test': 'true' },
        annotations: { [RESULT_ANNOTATION]: JSON.stringify(written) },
      },
      spec: { deleteObjectName: params.backupName, deleteObjectType: 'Backup' },
    }, deleteName);
  }

  const request = await waitFor(ctx, params, DELETE_REQUEST, deleteName, deadline, (o) => o !== null && TERMINAL.includes(phaseOf(o) ?? ''));
  if (phaseOf(request) !== 'Completed') {
    throw failure(`The test backup was written (${written.objects} objects) but DeleteRequest ${BACKUP_NAMESPACE}/${deleteName} is ${phaseOf(request)}; its files stay under ${location} until it is removed`, messageOf(request) || 'no message');
  }
  const left = await filesOf(ctx, vault, params.backupName);
  if (left.keys.length > 0) {
    throw new StepError('testBackup', 'TestBackupFailed',
      `DeleteRequest ${BACKUP_NAMESPACE}/${deleteName} is Completed, but ${left.keys.length} files of the test backup remain under ${location}: delete them in the OSS console, then test again.`,
      false, 'fixAndRetry');
  }
  const record = { at: new Date().toISOString(), backup: params.backupName, namespace: params.namespace, location, ...written, configuration: view.configuration };
  await recordTest(ctx, params.clusterId, vault, record);
  return { step: 'testBackup', outcome: 'created', detail: `Test backup of ${params.namespace}: ${describeRecord(record)}` };
}

export const step: StepModule<'testBackup'> = { meta, preview, apply };
