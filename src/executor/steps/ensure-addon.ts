// installAddon: migrate-controller installed (or upgraded) through CS, then running in the cluster.
import { InstallClusterAddonsRequest, InstallClusterAddonsRequestBody, UpgradeClusterAddonsRequest, UpgradeClusterAddonsRequestBody } from '@alicloud/cs20151215';
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { CONTROLLER_DEPLOYMENT, CONTROLLER_NAMESPACE } from '../../../flows/domain/names.ts';
import { compareVersions } from '../../../flows/domain/versions.ts';
import { runtime } from '../clients.ts';
import { StepError } from '../contract.ts';
import { call, write, type ExecContext } from '../context.ts';
import { installedAddon, readyReplicas, regionOf } from '../reads.ts';
import type { StepModule } from './types.ts';

type Params = StepParamsByName['installAddon'];

export const meta = {
  step: 'installAddon', title: 'Install or upgrade migrate-controller', risk: 'medium',
  apis: ['cs:GetClusterAddonInstance', 'cs:InstallClusterAddons', 'cs:UpgradeClusterAddons', 'cs:DescribeTaskInfo', 'kube: get deployments'],
  timeoutMs: 15 * 60_000,
} as const satisfies StepModule<'installAddon'>['meta'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The add-on as installed (GetClusterAddonInstance), and while a task changes it, its state. */
async function installed(ctx: ExecContext, params: Params): Promise<{ region: string; version: string | null; state: string | null }> {
  const region = await regionOf(ctx, params.clusterId);
  const addon = await installedAddon(ctx, params.clusterId, region, params.addon);
  return { region, version: addon?.version ?? null, state: addon?.state ?? null };
}

const current = (version: string | null, wanted: string) => version !== null && compareVersions(version, wanted) >= 0;

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  const { version } = await installed(ctx, params);
  if (current(version, params.version)) {
    return { step: 'installAddon', upToDate: true, changes: [`${params.addon} ${version} is already installed in cluster ${params.clusterId}`] };
  }
  return {
    step: 'installAddon', upToDate: false,
    changes: [version === null
      ? `install add-on ${params.addon} ${params.version} in cluster ${params.clusterId}`
      : `upgrade add-on ${params.addon} from ${version} to ${params.version} in cluster ${params.clusterId}`],
  };
}

async function waitForTask(ctx: ExecContext, params: Params, region: string, taskId: string, deadline: number): Promise<void> {
  for (;;) {
    const task = await call(ctx, { service: 'cs', permission: 'cs:DescribeTaskInfo', resource: `task ${taskId} of cluster ${params.clusterId}`, scope: region }, () =>
      ctx.clients.csIn(region).describeTaskInfoWithOptions(taskId, {}, runtime(ctx.clients.timeouts.read)));
    const state = task.body?.state;
    if (state === 'success') return;
    if (state === 'fail') {
      const error = task.body?.error;
      throw new StepError('installAddon', error?.code ?? 'AddonTaskFailed',
        `CS task ${taskId} installing ${params.addon} ${params.version} in cluster ${params.clusterId} failed (${error?.code ?? 'no code'}: ${error?.message ?? 'no message'}): see the add-on page of the cluster in the ACK console, fix the cause, and retry.`);
    }
    if (Date.now() > deadline) {
      throw new StepError('installAddon', 'Timeout', `CS task ${taskId} installing ${params.addon} in cluster ${params.clusterId} is still ${state ?? 'running'}: check the add-on page of the cluster in the ACK console, then retry.`, true);
    }
    await sleep(ctx.pollMs);
  }
}

async function waitForVersion(ctx: ExecContext, params: Params, deadline: number): Promise<void> {
  for (;;) {
    const { version } = await installed(ctx, params);
    if (current(version, params.version)) return;
    if (Date.now() > deadline) {
      throw new StepError('installAddon', 'Timeout', `A CS task for ${params.addon} in cluster ${params.clusterId} is still running and ${params.addon} is ${version ?? 'not installed'}: check the add-on page of the cluster in the ACK console, then retry.`, true);
    }
    await sleep(ctx.pollMs);
  }
}

async function waitForDeployment(ctx: ExecContext, params: Params, deadline: number): Promise<void> {
  for (;;) {
    const ready = await readyReplicas(ctx, params.clusterId, CONTROLLER_NAMESPACE, CONTROLLER_DEPLOYMENT);
    if (ready !== null && ready >= 1) return;
    if (Date.now() > deadline) {
      throw new StepError('installAddon', 'DeploymentNotReady',
        `${params.addon} ${params.version} is installed but Deployment ${CONTROLLER_NAMESPACE}/${CONTROLLER_DEPLOYMENT} in cluster ${params.clusterId} ${ready === null ? 'does not exist' : 'has no ready replica'}: check its pods (kubectl -n ${CONTROLLER_NAMESPACE} get pods; describe them for image pull or scheduling errors), then retry.`, true);
    }
    await sleep(ctx.pollMs);
  }
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  const deadline = Date.now() + meta.timeoutMs;
  const { region, version } = await installed(ctx, params);
  if (current(version, params.version)) {
    await waitForDeployment(ctx, params, deadline);
    return { step: 'installAddon', outcome: 'already present', detail: `${params.addon} ${version} is already installed` };
  }
  const cs = ctx.clients.csIn(region);
  const context = { service: 'cs' as const, permission: version === null ? 'cs:InstallClusterAddons' : 'cs:UpgradeClusterAddons', resource: `cluster ${params.clusterId}`, scope: region };
  // After a timeout the request may have started a task: the add-on then shows up (install) or changes state
  // (upgrade), and the version is waited for instead of sending the request again.
  const started = async () => {
    const now = await installed(ctx, params);
    const moved = version === null ? now.version !== null : now.state !== 'active' || now.version !== version;
    return moved ? ('already started' as const) : null;
  };
  const timeout = ctx.clients.timeouts.addonChange;
  try {
    const answer = await write(ctx, context, async () => {
      const response = version === null
        ? await cs.installClusterAddonsWithOptions(params.clusterId, new InstallClusterAddonsRequest({ body: [new InstallClusterAddonsRequestBody({ name: params.addon, version: params.version })] }), {}, runtime(timeout))
        : await cs.upgradeClusterAddonsWithOptions(params.clusterId, new UpgradeClusterAddonsRequest({ body: [new UpgradeClusterAddonsRequestBody({ componentName: params.addon, version, nextVersion: params.version })] }), {}, runtime(timeout));
      return response.body?.taskId ?? '';
    }, started);
    if (answer === 'already started') {
      ctx.logger.info({ clusterId: params.clusterId, addon: params.addon }, 'the add-on request timed out but CS started it; waiting for the version');
      await waitForVersion(ctx, params, deadline);
    } else {
      if (!answer) throw new StepError('installAddon', 'NoTask', `CS accepted the ${params.addon} request for cluster ${params.clusterId} but returned no task id: check the add-on page in the ACK console.`);
      ctx.logger.info({ clusterId: params.clusterId, addon: params.addon, version: params.version, taskId: answer }, version === null ? 'installing add-on' : 'upgrading add-on');
      await waitForTask(ctx, params, region, answer, deadline);
    }
  } catch (error) {
    // A task for the add-on is already running: ours, started before a crash or by another replica. Wait for it.
    if (!(error instanceof StepError && error.code === 'ErrorClusterState')) throw error;
    ctx.logger.info({ clusterId: params.clusterId, addon: params.addon }, 'an add-on task is already running; waiting for it');
    await waitForVersion(ctx, params, deadline);
  }
  await waitForDeployment(ctx, params, deadline);
  return version === null
    ? { step: 'installAddon', outcome: 'created', detail: `Installed ${params.addon} ${params.version}` }
    : { step: 'installAddon', outcome: 'updated', detail: `Upgraded ${params.addon} ${version} → ${params.version}` };
}

export const step: StepModule<'installAddon'> = { meta, preview, apply };
