// Which privileged steps each flow runs, decided from the facts and the answers (DESIGN "Cluster types").
import type { FlowInput, FlowName, NetworkType, PolicyDocument, StepRequest } from './contract.ts';
import { chosenBucket, type FlowContext, type Plan, type PlannedStep } from './blocks/context.ts';
import {
  ADDON_NAME,
  ADDON_SECRET_NAME,
  BACKUP_NAMESPACE,
  CONTROLLER_DEPLOYMENT,
  CONTROLLER_NAMESPACE,
  TEST_BACKUP_NAMESPACE,
  backupVaultName,
  credentialNames,
  isCnfsOssBucket,
  testBackupName,
} from './domain/names.ts';
import { policyDocument } from './domain/policy.ts';
import { compareVersions } from './domain/versions.ts';
import { STEP_ORDER } from './steps.ts';

/** Managed, Serverless Pro and Edge: add-on and vault; OSS permission only for a bucket outside cnfs-oss-*. */
export function managedPlan(context: FlowContext): Plan {
  const { bucket, region } = chosenBucket(context);
  const plan = startPlan(context);
  if (isCnfsOssBucket(bucket)) {
    plan.notices.push(
      `Bucket \`${bucket}\` starts with cnfs-oss-, so the cluster's AliyunCSManagedBackupRestoreRole can use it: no RAM user, policy or Secret is needed.`,
    );
  } else {
    plan.steps.push(...ossPermissionSteps(context, 'managed', policyDocument({ bucket, addonVersion: addonVersion(context), ossOnly: true })));
  }
  const network: NetworkType = context.kind === 'edge' || region === context.facts.region ? 'internal' : 'public';
  return finishPlan(context, plan, network);
}

/** Dedicated and registered: RAM user, policy, AccessKey Secret, add-on, vault (the seed's "ACK dedicated" and onectl steps). */
export function accessKeyPlan(context: FlowContext, flow: 'dedicated' | 'registered'): Plan {
  const { bucket, region } = chosenBucket(context);
  const plan = startPlan(context);
  const document = policyDocument({
    bucket: context.bucketScope === 'bucket' ? bucket : undefined,
    addonVersion: addonVersion(context),
  });
  plan.steps.push(...ossPermissionSteps(context, flow, document));
  const network: NetworkType = flow === 'dedicated' && region === context.facts.region ? 'internal' : 'public';
  return finishPlan(context, plan, network);
}

function startPlan(context: FlowContext): Plan {
  const { bucket, region } = chosenBucket(context);
  if (context.facts.buckets.some((b) => b.name === bucket)) {
    return { steps: [], notices: [`Bucket \`${bucket}\` already exists in ${region}; it is used as it is.`] };
  }
  return { steps: [{ request: { step: 'createBucket', params: { bucket, region } } }], notices: [] };
}

function ossPermissionSteps(context: FlowContext, flow: FlowName, document: PolicyDocument): PlannedStep[] {
  const { clusterId } = context.facts;
  const { userName, policyName } = credentialNames(flow, clusterId);
  const requests: StepRequest[] = [
    { step: 'createRamUser', params: { userName } },
    { step: 'ensurePolicy', params: { policyName, document } },
    { step: 'attachPolicy', params: { policyName, userName } },
    { step: 'createNamespace', params: { clusterId, namespace: BACKUP_NAMESPACE } },
    {
      step: 'createAccessKeySecret',
      params: { clusterId, userName, namespace: BACKUP_NAMESPACE, secretName: ADDON_SECRET_NAME },
    },
  ];
  return requests.map((request) => ({ request }));
}

function finishPlan(context: FlowContext, plan: Plan, network: NetworkType): Plan {
  const { clusterId, addon } = context.facts;
  const { bucket, region } = chosenBucket(context);
  if (addon.installedVersion !== null && compareVersions(addon.installedVersion, addon.latestVersion) >= 0) {
    plan.notices.push(`Add-on ${ADDON_NAME} ${addon.installedVersion} is already installed and current — skipped.`);
  } else {
    plan.steps.push({
      request: {
        step: 'installAddon',
        params: { clusterId, addon: ADDON_NAME, version: addon.latestVersion, installedVersion: addon.installedVersion },
      },
    });
  }
  const writesSecret = plan.steps.some((s) => s.request.step === 'createAccessKeySecret');
  if (writesSecret && addon.installedVersion !== null) {
    plan.steps.push({
      request: {
        step: 'restartMigrateController',
        params: { clusterId, namespace: CONTROLLER_NAMESPACE, deployment: CONTROLLER_DEPLOYMENT },
      },
      onlyIfSecretChanged: true,
    });
  }
  plan.steps.push({
    request: {
      step: 'createBackupVault',
      params: { clusterId, name: backupVaultName(clusterId), bucket, prefix: '', region, network },
    },
  });
  plan.steps.push({ request: testBackupRequest(clusterId, context.sessionId, false) });
  plan.steps.sort((a, b) => STEP_ORDER.indexOf(a.request.step) - STEP_ORDER.indexOf(b.request.step));
  return plan;
}

/** The version the policy is written for: the one that will run after the setup. */
function addonVersion(context: FlowContext): string {
  return context.facts.addon.latestVersion;
}

/** The last step of every setup: prove that the component can write to the vault (and clean up after itself). */
function testBackupRequest(clusterId: string, sessionId: string, force: boolean): StepRequest {
  return {
    step: 'testBackup',
    params: { clusterId, vault: backupVaultName(clusterId), namespace: TEST_BACKUP_NAMESPACE, backupName: testBackupName(sessionId, 1), force },
  };
}

/** `/backup-setup verify <cluster-id> --test-backup`: the test backup alone, run even when a passed one is recorded. */
export function testOnlyPlan(input: FlowInput): Plan {
  return { steps: [{ request: testBackupRequest(input.facts.clusterId, input.sessionId, true) }], notices: [] };
}
