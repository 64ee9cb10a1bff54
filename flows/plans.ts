// Which privileged steps each flow runs, decided from the facts and the answers (DESIGN "Cluster types").
import type { FlowInput, FlowName, NetworkType, PolicyDocument, StepName, StepRequest } from './contract.ts';
import { chosenBucket, type FlowContext, type Plan, type PlannedStep } from './blocks/context.ts';
import { addonIsCurrent, managedRoleCoversBucket } from './domain/cluster.ts';
import { longLivedAccessKeyNotice } from './domain/guidance.ts';
import {
  ADDON_NAME,
  BACKUP_NAMESPACE,
  CONTROLLER_DEPLOYMENT,
  CONTROLLER_NAMESPACE,
  TEST_BACKUP_NAMESPACE,
  accessKeySecretOf,
  credentialNames,
  testBackupName,
} from './domain/names.ts';
import { policyDocument } from './domain/policy.ts';
import { vaultsOf } from './domain/cluster.ts';
import { SERVICES, servicesOff } from './domain/services.ts';
import { backupVaultName, vaultNetwork } from './domain/vault.ts';
import { STEP_ORDER } from './steps.ts';
import { code } from './domain/inline.js';

/** Managed, Serverless Pro and Edge: add-on and vault; OSS permission for a bucket the managed role does not cover. */
export function managedPlan(context: FlowContext): Plan {
  const { bucket, region } = chosenBucket(context);
  const plan = startPlan(context);
  if (managedRoleCoversBucket(context.facts, bucket)) {
    plan.notices.push(
      `Bucket ${code(bucket)} starts with cnfs-oss-, so the cluster's AliyunCSManagedBackupRestoreRole can use it: no RAM user, policy or Secret is needed.`,
    );
  } else {
    plan.notices.push(longLivedAccessKeyNotice(context.facts, bucket));
    plan.steps.push(...ossPermissionSteps(context, 'managed', policyDocument({ bucket, addonVersion: addonVersion(context), ossOnly: true })));
  }
  return finishPlan(context, plan, vaultNetwork(context.kind, context.facts.region, region));
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
  return finishPlan(context, plan, vaultNetwork(context.kind, context.facts.region, region));
}

function startPlan(context: FlowContext): Plan {
  const { bucket, region } = chosenBucket(context);
  const activations: PlannedStep[] = servicesOff(context.facts).map((service) => ({
    request: { step: SERVICES[service].step, params: { service, region: context.facts.region } },
  }));
  if (context.facts.buckets.some((b) => b.name === bucket)) {
    return { steps: activations, notices: [`Bucket ${code(bucket)} already exists in ${region}; it is used as it is.`] };
  }
  return { steps: [...activations, { request: { step: 'createBucket', params: { bucket, region } } }], notices: [] };
}

function ossPermissionSteps(context: FlowContext, flow: FlowName, document: PolicyDocument): PlannedStep[] {
  const { clusterId } = context.facts;
  const { userName, policyName } = credentialNames(flow, clusterId);
  const secret = accessKeySecretOf(flow);
  const requests: StepRequest[] = [
    { step: 'createRamUser', params: { userName } },
    // onectl's registered policy is one per account: a new version keeps what the other clusters use.
    { step: 'ensurePolicy', params: { policyName, document, shared: flow === 'registered', ...(vaultsOf(context.facts).length ? { vaults: vaultsOf(context.facts) } : {}) } },
    { step: 'attachPolicy', params: { policyName, userName } },
    // kube-system always exists; csdr is made first so the Secret can go in before the add-on.
    ...(secret.namespace === BACKUP_NAMESPACE ? [{ step: 'createNamespace' as const, params: { clusterId, namespace: BACKUP_NAMESPACE } }] : []),
    { step: 'createAccessKeySecret', params: { clusterId, userName, ...secret } },
  ];
  return requests.map((request) => ({ request }));
}

function finishPlan(context: FlowContext, plan: Plan, network: NetworkType): Plan {
  const { clusterId, addon } = context.facts;
  const { bucket, region } = chosenBucket(context);
  if (addonIsCurrent(addon)) {
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
      params: { clusterId, name: backupVaultName(context.facts), bucket, prefix: '', region, network },
    },
  });
  // A Fix always ends with a test backup, even when one of the configuration is recorded.
  plan.steps.push({ request: testBackupRequest(context.facts, context.sessionId, !!context.repair, { bucket, prefix: '', region, network }) });
  plan.steps.sort((a, b) => STEP_ORDER.indexOf(a.request.step) - STEP_ORDER.indexOf(b.request.step));
  return context.repair ? onlyRepaired(plan, context.repair.steps) : plan;
}

/** A Fix: the steps of what drifted and the test backup; the restart goes with the Secret it follows. */
function onlyRepaired(plan: Plan, steps: readonly StepName[]): Plan {
  const kept = new Set<StepName>([...steps, 'testBackup']);
  if (kept.has('createAccessKeySecret')) kept.add('restartMigrateController');
  return { steps: plan.steps.filter((s) => kept.has(s.request.step)), notices: [] };
}

/** The version the policy is written for: the one that will run after the setup. */
function addonVersion(context: FlowContext): string {
  return context.facts.addon.latestVersion;
}

/** The last step of every setup: prove that the component can write to the vault (and clean up after itself). */
function testBackupRequest(
  facts: FlowInput['facts'], sessionId: string, force: boolean,
  target?: Extract<StepRequest, { step: 'testBackup' }>['params']['target'],
): StepRequest {
  return {
    step: 'testBackup',
    // The vault's planned name and, in a setup, where it points: the executor tests the vault the vault step made or
    // kept, whatever its name (vault names can shift, vault.ts).
    params: {
      clusterId: facts.clusterId, vault: backupVaultName(facts), namespace: TEST_BACKUP_NAMESPACE, backupName: testBackupName(sessionId, 1), force,
      ...(target ? { target } : {}),
    },
  };
}

/** `/backup-setup verify <cluster-id> --test-backup`: the test backup alone, run even when a passed one is recorded. */
export function testOnlyPlan(input: FlowInput): Plan {
  return { steps: [{ request: testBackupRequest(input.facts, input.sessionId, true) }], notices: [] };
}
