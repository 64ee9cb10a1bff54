// What a test backup proves and where that is remembered. A passed test is recorded on the backup vault it wrote to
// (annotation backup-setup/last-test-backup on the BackupLocation), with the configuration it ran with: the vault, the
// credentials migrate-controller uses, the default version of their RAM policy, and the component's image. The record
// lives with the thing it proves, so every bot replica, verify, and anyone with kubectl sees it, and a lost bot database
// loses nothing. A later setup skips the test while the configuration is the same, and verify says when it changed.
import { createHash } from 'node:crypto';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { StepParamsByName } from '../../flows/contract.ts';
import { classifyCluster, flowFor } from '../../flows/domain/cluster.ts';
import { ADDON_SECRET_NAME, BACKUP_NAMESPACE, CONTROLLER_DEPLOYMENT, CONTROLLER_NAMESPACE, MANAGED_BACKUP_ROLE, credentialNames } from '../../flows/domain/names.ts';
import { vaultNameCandidates } from '../../flows/domain/vault.ts';
import { StepError } from './contract.ts';
import { policyGrants } from './steps/ensure-policy.ts';
import { call, type ExecContext } from './context.ts';
import { MANAGED_ROLE_TOKEN_SECRET } from './read-cluster.ts';
import { BACKUP_LOCATION, clusterDetail, deploymentImage, kubeOf, listBackupLocations, policyDefaultVersion, readSecret, type CustomObject } from './reads.ts';

export const LAST_TEST_ANNOTATION = 'backup-setup/last-test-backup';

export interface Vault { name: string; bucket: string; prefix: string; region: string; network: string }

/** What the component works with, in words people can compare: a change in any of them calls for a new test. */
export interface TestConfiguration { vault: string; credentials: string; policy: string; component: string }

export interface TestRecord {
  at: string;
  backup: string;
  namespace: string;
  objects: number;
  bytes: number;
  seconds: number;
  location: string;
  configuration: TestConfiguration;
}

/** What the component uses to reach OSS, by its documented rules (sandbox/kube/migrate-controller.ts restates them). */
export interface ComponentCredentials {
  kind: 'accessKey' | 'role' | 'none';
  /** "Secret csdr/alibaba-addon-secret (AccessKey LTAI…)", "AliyunCSManagedBackupRestoreRole", "none". */
  description: string;
  /** The custom policy that grants the AccessKey its OSS permissions (the setup's), when the kind is accessKey. */
  policyName: string | null;
}

export function vaultOf(object: CustomObject, name: string): Vault {
  const spec = (object.spec ?? {}) as { objectStorage?: { bucket?: string; prefix?: string }; config?: { region?: string; network?: string } };
  return {
    name,
    bucket: spec.objectStorage?.bucket ?? '',
    prefix: spec.objectStorage?.prefix ?? '',
    region: spec.config?.region ?? '',
    network: spec.config?.network ?? '',
  };
}

export type VaultTarget = NonNullable<StepParamsByName['testBackup']['target']>;

/** The vault points at the target: provider, bucket, prefix, region and network (createBackupVault's test for reuse). */
export function vaultPointsAt(object: CustomObject, target: VaultTarget): boolean {
  const spec = (object.spec ?? {}) as { provider?: string; objectStorage?: { bucket?: string; prefix?: string }; config?: { region?: string; network?: string } };
  return spec.provider === 'alibabacloud' && spec.objectStorage?.bucket === target.bucket && (spec.objectStorage?.prefix ?? '') === target.prefix
    && spec.config?.region === target.region && spec.config?.network === target.network;
}

/**
 * The vault to test. A setup names where its vault points (`target`): the vault step keeps an existing vault that points
 * there or creates `<name>`, `<name>-2` … (flows/domain/vault.ts), so the vault pointing there is the one, the planned name
 * first. The test alone: the named vault, else the one verify judges (the latest recorded test), else `<name>-2` …, else
 * the first vault.
 */
export async function readVault(ctx: ExecContext, clusterId: string, name: string, target?: VaultTarget): Promise<{ vault: Vault; record: TestRecord | null }> {
  const all = await listBackupLocations(ctx, clusterId, BACKUP_NAMESPACE);
  const named = (n: string) => all.find((v) => v.metadata?.name === n);
  const candidates = vaultNameCandidates(name);
  const byName = (a: CustomObject, b: CustomObject) => rank(a) - rank(b);
  const rank = (v: CustomObject) => { const i = candidates.indexOf(v.metadata?.name ?? ''); return i < 0 ? candidates.length : i; };
  let object: CustomObject | undefined;
  if (target) {
    object = all.filter((v) => vaultPointsAt(v, target)).sort(byName)[0];
    if (!object) {
      throw new StepError(ctx.step, 'NoBackupVault', `No backup vault in namespace ${BACKUP_NAMESPACE} of cluster ${clusterId} points at bucket ${target.bucket}${target.prefix ? `/${target.prefix}` : ''} (${target.region}, ${target.network} network): run /backup-setup ${clusterId} again (it creates the vault).`);
    }
  } else {
    const tested = all.filter((v) => recordOf(v) !== null).sort((a, b) => recordOf(b)!.at.localeCompare(recordOf(a)!.at));
    object = named(name) ?? tested[0] ?? [...all].sort(byName)[0];
  }
  if (!object) {
    throw new StepError(ctx.step, 'NoBackupVault', `Backup vault ${name} does not exist in namespace ${BACKUP_NAMESPACE} of cluster ${clusterId}: run /backup-setup ${clusterId} first (it creates the vault).`);
  }
  const found = object.metadata?.name ?? name;
  const vault = vaultOf(object, found);
  if (!vault.bucket || !vault.region) {
    throw new StepError(ctx.step, 'InvalidBackupVault', `Backup vault ${found} in cluster ${clusterId} names no bucket or region (spec.objectStorage.bucket, spec.config.region): recreate it with /backup-setup ${clusterId}.`);
  }
  return { vault, record: recordOf(object) };
}

/** The pass recorded on a vault, or null (none, or unreadable). */
export function recordOf(object: CustomObject): TestRecord | null {
  const text = object.metadata?.annotations?.[LAST_TEST_ANNOTATION];
  if (!text) return null;
  try {
    const record = JSON.parse(text) as TestRecord;
    return typeof record.at === 'string' && typeof record.configuration === 'object' ? record : null;
  } catch {
    return null;
  }
}

/** Velero's layout of one backup's files (vmware-tanzu/velero pkg/persistence/object_store_layout.go). */
export function backupDirectory(vault: Vault, backup: string): string {
  const root = vault.prefix.replace(/^\/+|\/+$/g, '');
  return `${root ? `${root}/` : ''}backups/${backup}/`;
}

export const locationOf = (vault: Vault, backup: string) => `oss://${vault.bucket}/${backupDirectory(vault, backup)}`;

export async function componentCredentials(ctx: ExecContext, clusterId: string): Promise<ComponentCredentials> {
  const detail = await clusterDetail(ctx, clusterId);
  const flow = flowFor(classifyCluster(detail)) ?? 'managed';
  // Registered clusters: onectl keeps the Secret in kube-system; the component looks there first.
  const namespaces = flow === 'registered' ? ['kube-system', BACKUP_NAMESPACE] : [BACKUP_NAMESPACE];
  const [secrets, roleToken] = await Promise.all([
    Promise.all(namespaces.map((namespace) => readSecret(ctx, clusterId, namespace, ADDON_SECRET_NAME))),
    flow === 'managed' ? readSecret(ctx, clusterId, CONTROLLER_NAMESPACE, MANAGED_ROLE_TOKEN_SECRET) : Promise.resolve(null),
  ]);
  for (const [i, secret] of secrets.entries()) {
    const id = secret?.data['access-key-id'];
    if (id && secret.data['access-key-secret']) {
      return { kind: 'accessKey', description: `Secret ${namespaces[i]}/${ADDON_SECRET_NAME} (AccessKey ${id})`, policyName: credentialNames(flow, clusterId).policyName };
    }
  }
  if (roleToken !== null) return { kind: 'role', description: MANAGED_BACKUP_ROLE, policyName: null };
  return { kind: 'none', description: 'none', policyName: null };
}

/** What the component runs with, read from the cluster and RAM: its credentials, their policy, its image. */
export interface ComponentView { credentials: ComponentCredentials; policy: { versionId: string; document: string } | null; image: string | null }

export async function readComponent(ctx: ExecContext, clusterId: string): Promise<ComponentView> {
  const [credentials, image] = await Promise.all([
    componentCredentials(ctx, clusterId),
    deploymentImage(ctx, clusterId, CONTROLLER_NAMESPACE, CONTROLLER_DEPLOYMENT),
  ]);
  const policy = credentials.policyName ? await policyDefaultVersion(ctx, credentials.policyName) : null;
  return { credentials, policy, image };
}

export interface ConfigurationView { configuration: TestConfiguration; credentials: ComponentCredentials; policyDocument: string | null }

export function configurationOf(vault: Vault, { credentials, policy, image }: ComponentView): ConfigurationView {
  return {
    credentials,
    policyDocument: policy?.document ?? null,
    configuration: {
      vault: `${vault.bucket}/${vault.prefix} in ${vault.region} (${vault.network} network)`,
      credentials: credentials.description,
      policy: credentials.policyName ? `${credentials.policyName} ${policy ? grantsForVault(policy.document, vault.bucket) : '(missing)'}` : credentials.kind === 'role' ? `system policy of ${MANAGED_BACKUP_ROLE}` : 'none',
      component: image ?? 'not installed',
    },
  };
}

export async function currentConfiguration(ctx: ExecContext, clusterId: string, vault: Vault): Promise<ConfigurationView> {
  return configurationOf(vault, await readComponent(ctx, clusterId));
}

/**
 * What the policy lets the component do with this vault, in words that change only when that does: the grants but those
 * on another bucket's OSS resources, counted and fingerprinted. A policy shared by several clusters (registered clusters,
 * onectl's) gains a version when another cluster's bucket is added; that is no change for this vault, so its test holds.
 */
export function grantsForVault(document: string, bucket: string): string {
  let grants: string[];
  try {
    grants = [...policyGrants(document)];
  } catch {
    return 'default version is not valid JSON';
  }
  const ossBucket = (grant: string) => /^acs:oss:[^:]*:[^:]*:([^/]+)/.exec(grant.split(' on ')[1] ?? '')?.[1];
  const relevant = grants.filter((g) => { const b = ossBucket(g); return b === undefined || b === '*' || b === bucket; }).sort();
  const fingerprint = createHash('sha256').update(relevant.join('\n')).digest('hex').slice(0, 8);
  return `(${relevant.length} grants apply to bucket ${bucket}, fingerprint ${fingerprint})`;
}

/** "policy: p v2 → p v3", one per part that differs; [] when the configuration is the one tested. */
export function configurationChanges(tested: TestConfiguration, now: TestConfiguration): string[] {
  return (Object.keys(now) as (keyof TestConfiguration)[])
    .filter((key) => tested[key] !== now[key])
    .map((key) => `${key}: ${tested[key] ?? '(unknown)'} → ${now[key]}`);
}

export async function recordTest(ctx: ExecContext, clusterId: string, vault: Vault, record: TestRecord): Promise<void> {
  const kube = await kubeOf(ctx, clusterId);
  const body = { metadata: { annotations: { [LAST_TEST_ANNOTATION]: JSON.stringify(record) } } };
  await call(ctx, { service: 'kube', permission: 'patch backuplocations.csdr.alibabacloud.com', resource: `backup vault ${BACKUP_NAMESPACE}/${vault.name} in cluster ${clusterId}`, scope: clusterId }, () =>
    kube.custom.patchNamespacedCustomObject(
      { group: BACKUP_LOCATION.group, version: BACKUP_LOCATION.version, namespace: BACKUP_NAMESPACE, plural: BACKUP_LOCATION.plural, name: vault.name, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ));
}

export function describeRecord(record: TestRecord): string {
  return `${record.objects} objects (${formatBytes(record.bytes)}) written to ${record.location} in ${record.seconds} s, then removed`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
