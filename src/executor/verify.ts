// A read-only checklist of every seed requirement for one cluster, each with what was seen and its fix.
import type { ClusterKind, FlowName, PolicyDocument, StepName } from '../../flows/contract.ts';
import { addonIsCurrent, classifyCluster, flowFor, KIND_LABEL, managedRoleCoversBucket, MINIMUM_KUBERNETES, supportProblem } from '../../flows/domain/cluster.ts';
import { SERVICE_ORDER, SERVICES, serviceTitle } from '../../flows/domain/services.ts';
import {
  ADDON_NAME, BACKUP_NAMESPACE, CONTROLLER_DEPLOYMENT, CONTROLLER_NAMESPACE, accessKeySecretOf, credentialNames, MANAGED_BACKUP_ROLE,
} from '../../flows/domain/names.ts';
import { grantedBuckets, needsEcsSnapshotPermissions } from '../../flows/domain/policy.ts';
import { compareVersions } from '../../flows/domain/versions.ts';
import type { VerifyCheck, VerifyReport } from './contract.ts';
import type { ExecContext } from './context.ts';
import { apiGatewayAuthorized, managedRoleAuthorized, readClusterOrSuggest } from './read-cluster.ts';
import { defaultPolicyDocument, listBackupLocations, policyAttached, readyReplicas, userExists, type CustomObject } from './reads.ts';
import { readAccessKeySecret } from './steps/ensure-access-key-secret.ts';
import { policyGrants } from './steps/ensure-policy.ts';
import { configurationChanges, currentConfiguration, describeRecord, recordOf, vaultOf } from './test-backup-record.ts';

const check = (requirement: string, ok: boolean, detail: string, fix: string, steps?: StepName[]): VerifyCheck =>
  ok ? { requirement, status: 'pass', detail } : { requirement, status: 'fail', detail, fix, ...(steps ? { steps } : {}) };

const notApplicable = (requirement: string, detail: string): VerifyCheck => ({ requirement, status: 'n/a', detail });

/** Actions migrate-controller ≥ 1.7.7 needs for cross-region disk restore (reference §1c, §8). */
const ECS_SNAPSHOT_MARKERS = ['ecs:CopySnapshot', 'ecs:CreateSnapshot', 'ecs:DescribeSnapshots'];

export async function verify(ctx: ExecContext, clusterId: string): Promise<VerifyReport> {
  const facts = await readClusterOrSuggest(ctx, clusterId);
  const kind: ClusterKind = classifyCluster(facts);
  const flow = flowFor(kind);
  const checks: VerifyCheck[] = [];
  // `/backup-setup` is suggested only where it can run; elsewhere the blocker above comes first.
  const blocked = supportProblem(facts) !== null;
  const setupFix = (fix: string, manual: string): string => (blocked ? `${manual}.` : fix);

  checks.push(check('A cluster kind the backup center supports', flow !== null, KIND_LABEL[kind],
    'ACK Serverless Basic does not support the backup center: upgrade the cluster to ACK Serverless Pro.'));
  if (flow === null) return { clusterId, checks };

  let versionOk = false;
  try {
    versionOk = compareVersions(facts.kubernetesVersion, MINIMUM_KUBERNETES) >= 0;
  } catch { /* unreadable version: reported as failing */ }
  checks.push(check(`Kubernetes ${MINIMUM_KUBERNETES} or later`, versionOk, `Kubernetes ${facts.kubernetesVersion || 'unknown'}`,
    `Upgrade the cluster to Kubernetes ${MINIMUM_KUBERNETES} or later (ACK console → Cluster → Upgrade).`));

  checks.push(facts.storagePlugin === 'none'
    ? notApplicable('CSI storage plugin (not FlexVolume)', 'no volume plugin add-on is installed')
    : check('CSI storage plugin (not FlexVolume)', facts.storagePlugin === 'csi', facts.storagePlugin === 'csi' ? 'csi-plugin installed' : 'FlexVolume installed',
      'Migrate the cluster from FlexVolume to CSI (ACK docs: "Migrate from FlexVolume to CSI"), then run the setup again.'));

  const installed = facts.addon.installedVersion;
  const latest = facts.addon.latestVersion;
  if (installed === null) {
    checks.push(check(`${ADDON_NAME} installed and current`, false, 'not installed',
      setupFix(`Run /backup-setup, or install ${ADDON_NAME} ${latest} from the cluster's add-on page.`, `Install ${ADDON_NAME} ${latest} from the cluster's add-on page`), ['installAddon']));
  } else {
    checks.push(addonIsCurrent(facts.addon)
      ? { requirement: `${ADDON_NAME} installed and current`, status: 'pass', detail: `${installed}` }
      : { requirement: `${ADDON_NAME} installed and current`, status: 'warn', detail: `${installed} installed, ${latest} available`,
        fix: setupFix(`Upgrade ${ADDON_NAME} to ${latest} (run /backup-setup or use the cluster's add-on page).`, `Upgrade ${ADDON_NAME} to ${latest} on the cluster's add-on page`), steps: ['installAddon'] });
    const ready = await readyReplicas(ctx, clusterId, CONTROLLER_NAMESPACE, CONTROLLER_DEPLOYMENT);
    checks.push(check(`${ADDON_NAME} running`, ready !== null && ready >= 1, ready === null ? 'Deployment not found' : `${ready} ready replica(s)`,
      `Check the pods: kubectl -n ${CONTROLLER_NAMESPACE} get pods | grep ${CONTROLLER_DEPLOYMENT}; describe them for image or scheduling errors.`));
  }

  const vaults = await listBackupLocations(ctx, clusterId, BACKUP_NAMESPACE);
  const vaultBuckets = vaults.map((v) => (v.spec as { objectStorage?: { bucket?: string } } | undefined)?.objectStorage?.bucket).filter((b): b is string => !!b);
  if (flow === 'managed') {
    const authorized = facts.managedRoleAuthorized ?? (await managedRoleAuthorized(ctx, clusterId));
    checks.push(check(`${MANAGED_BACKUP_ROLE} authorized`, authorized, authorized ? 'role token Secret present in kube-system' : 'role token Secret missing from kube-system',
      setupFix(`Authorize ${MANAGED_BACKUP_ROLE} for Container Service in the RAM console (quick authorization), then run /backup-setup again.`,
        `Authorize ${MANAGED_BACKUP_ROLE} for Container Service in the RAM console (quick authorization)`)));
  }
  // Managed kinds need the AccessKey route only for a vault bucket their managed role does not cover.
  const uncovered = vaultBuckets.filter((b) => !managedRoleCoversBucket(facts, b));
  if (flow !== 'managed' || uncovered.length > 0) checks.push(...(await credentialChecks(ctx, clusterId, flow, installed, flow === 'managed' ? uncovered : vaultBuckets, setupFix)));

  const gateway = facts.apiGatewayAuthorized ?? (await apiGatewayAuthorized(ctx, facts.region));
  checks.push(gateway === null
    ? notApplicable('Cloud Backup authorized to use API Gateway', `not needed in ${facts.region}`)
    : check('Cloud Backup authorized to use API Gateway', gateway, gateway ? 'service-linked role present' : 'service-linked role AliyunServiceRoleForHbrMagpieBridge missing',
      'In the Cloud Backup console, authorize Cloud Backup to access API Gateway (install page, optional step 3).'));

  // The seed's service prerequisites: each activated for the account (and, for snapshots, the cluster's region).
  for (const service of SERVICE_ORDER) {
    const info = SERVICES[service];
    const on = facts.services[service] === 'on';
    checks.push(check(`${serviceTitle(service, facts.region)} activated`, on, on ? 'activated' : `not activated (${info.purpose})`,
      setupFix(`Run /backup-setup: its first step activates it after an approval (${info.billing}; it cannot be undone), or activate it in the console: ${info.console}`,
        `Activate it in the console: ${info.console}`)));
  }

  // Each vault's bucket must exist in the vault's own region (a bucket of that name elsewhere is not the vault's).
  const located = vaults.map((v) => {
    const spec = v.spec as { objectStorage?: { bucket?: string }; config?: { region?: string } } | undefined;
    return { bucket: spec?.objectStorage?.bucket ?? '', region: spec?.config?.region ?? facts.region };
  }).filter((v) => v.bucket !== '');
  const present = located.filter((v) => facts.buckets.some((b) => b.name === v.bucket && b.region === v.region));
  const missing = located.filter((v) => !present.includes(v));
  checks.push(check('An OSS bucket for backups, in the vault\'s region', located.length > 0 && missing.length === 0,
    located.length === 0
      ? 'no backup vault names a bucket yet'
      : missing.length === 0
        ? present.map((v) => `${v.bucket} (${v.region})`).join(', ')
        : missing.map((v) => `vault bucket ${v.bucket} does not exist in ${v.region}`).join('; '),
    setupFix('Run /backup-setup to create one (managed clusters: a name starting with cnfs-oss- needs no extra OSS grant).',
      'Create the bucket in the vault\'s region in the OSS console'), ['createBucket']));
  checks.push(check('A backup vault', vaults.length > 0, vaults.length ? vaults.map((v) => v.metadata?.name).join(', ') : `no BackupLocation in namespace ${BACKUP_NAMESPACE}`,
    setupFix('Run /backup-setup, or create a backup vault in the ACK console (Backup Center → Backup Vault).', 'Create a backup vault in the ACK console (Backup Center → Backup Vault)'), ['createBackupVault']));

  // The vault with the latest recorded test backup (a setup's vault name can shift, flows/domain/vault.ts), else the first.
  const tested = vaults.filter((v) => recordOf(v) !== null).sort((a, b) => recordOf(b)!.at.localeCompare(recordOf(a)!.at));
  const vault = tested[0] ?? vaults[0];
  if (vault && installed !== null) checks.push(await lastTestBackup(ctx, clusterId, vault));
  return { clusterId, checks, ...(vault ? { vault: vaultOf(vault, vault.metadata?.name ?? '') } : {}) };
}

/** The RAM user, its policy (ECS snapshot actions, the vault buckets) and the AccessKey Secret, for the flows that use them. */
async function credentialChecks(
  ctx: ExecContext, clusterId: string, flow: FlowName, installed: string | null, vaultBuckets: string[], setupFix: (fix: string, manual: string) => string,
): Promise<VerifyCheck[]> {
  const checks: VerifyCheck[] = [];
  const names = credentialNames(flow, clusterId);
  const user = await userExists(ctx, names.userName);
  checks.push(check(`RAM user ${names.userName}`, user, user ? 'exists' : 'missing', setupFix('Run /backup-setup to create it.', 'Create it in the RAM console'), ['createRamUser']));
  const attached = user && (await policyAttached(ctx, names.userName, names.policyName));
  checks.push(check(`Policy ${names.policyName} attached to ${names.userName}`, attached, attached ? 'attached' : 'not attached',
    setupFix('Run /backup-setup to create and attach it.', 'Create and attach it in the RAM console'), ['ensurePolicy', 'attachPolicy']));
  const document = await defaultPolicyDocument(ctx, names.policyName);
  if (installed !== null && needsEcsSnapshotPermissions(installed) && flow !== 'managed') {
    const grants = document === null ? new Set<string>() : safeGrants(document);
    const missing = ECS_SNAPSHOT_MARKERS.filter((action) => ![...grants].some((g) => g.startsWith(`Allow ${action} `)));
    checks.push(check(`Policy grants ECS snapshot actions (${ADDON_NAME} ${installed} ≥ 1.7.7)`, missing.length === 0,
      document === null ? 'policy missing' : missing.length ? `missing ${missing.join(', ')}` : 'granted',
      setupFix('Run /backup-setup: it adds a new default policy version with the ECS snapshot statement.', 'Add the ECS snapshot statement in the RAM console'), ['ensurePolicy']));
  }
  if (vaultBuckets.length > 0) {
    const granted = document === null ? [] : safeBuckets(document);
    const missing = vaultBuckets.filter((b) => !granted.includes('*') && !granted.includes(b));
    checks.push(check(`Policy ${names.policyName} grants OSS access to the vault bucket${vaultBuckets.length > 1 ? 's' : ''}`, missing.length === 0,
      document === null ? 'policy missing' : missing.length ? `no grant for ${missing.join(', ')}` : `granted: ${vaultBuckets.join(', ')}`,
      setupFix('Run /backup-setup: it adds the bucket to a new default policy version.', 'Add the bucket to the policy in the RAM console'), ['ensurePolicy']));
  }
  const secret = accessKeySecretOf(flow);
  const state = await readAccessKeySecret(ctx, { clusterId, userName: names.userName, ...secret });
  checks.push(check(`Secret ${secret.namespace}/${secret.secretName} holds an Active AccessKey of ${names.userName}`, state.problem === null,
    state.problem ?? `holds AccessKey ${state.secretKeyId}`, setupFix('Run /backup-setup: it creates a new AccessKey and writes the Secret.', 'Write an Active AccessKey of the user into the Secret'), ['createNamespace', 'createAccessKeySecret']));
  return checks;
}

function safeBuckets(document: string): string[] {
  try {
    return grantedBuckets(JSON.parse(document) as PolicyDocument);
  } catch {
    return [];
  }
}

/** The last passed test backup on the vault, and whether what it proved still holds (test-backup-record.ts). */
async function lastTestBackup(ctx: ExecContext, clusterId: string, object: CustomObject): Promise<VerifyCheck> {
  const requirement = 'A passed test backup of the current configuration';
  const fix = `\`/backup-setup verify ${clusterId} --test-backup\` runs one after an approval (it backs up kube-public to the vault's bucket, then removes it).`;
  const name = object.metadata?.name ?? '';
  const record = recordOf(object);
  if (!record) return { requirement, status: 'warn', detail: `no test backup is recorded on vault ${name}`, fix, steps: ['testBackup'] };
  const passed = `passed at ${record.at} (${record.namespace}: ${describeRecord(record)})`;
  const changes = configurationChanges(record.configuration, (await currentConfiguration(ctx, clusterId, vaultOf(object, name))).configuration);
  return changes.length === 0
    ? { requirement, status: 'pass', detail: `${passed}; nothing changed since` }
    : { requirement, status: 'warn', detail: `${passed}, but since then ${changes.join('; ')}`, fix, steps: ['testBackup'] };
}

function safeGrants(document: string): Set<string> {
  try {
    return policyGrants(document);
  } catch {
    return new Set();
  }
}
