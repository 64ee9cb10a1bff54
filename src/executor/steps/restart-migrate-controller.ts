// restartMigrateController: a rolling restart (like `kubectl rollout restart`) so the pods read the new Secret.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { StepError } from '../contract.ts';
import { call, type ExecContext } from '../context.ts';
import { kubeOf, readyReplicas } from '../reads.ts';
import type { StepModule } from './types.ts';

type Params = StepParamsByName['restartMigrateController'];

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export const meta = {
  step: 'restartMigrateController', title: 'Restart migrate-controller', risk: 'low',
  apis: ['cs:DescribeClusterUserKubeconfig', 'kube: get/patch deployments'], timeoutMs: 60_000,
} as const satisfies StepModule<'restartMigrateController'>['meta'];

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  const ready = await readyReplicas(ctx, params.clusterId, params.namespace, params.deployment);
  if (ready === null) {
    return { step: 'restartMigrateController', upToDate: false, changes: [`Deployment ${params.namespace}/${params.deployment} does not exist yet in cluster ${params.clusterId}; install the add-on first`] };
  }
  return { step: 'restartMigrateController', upToDate: false, changes: [`rolling restart of Deployment ${params.namespace}/${params.deployment} in cluster ${params.clusterId} (${ready} ready replica(s) now), so it reads the new Secret`] };
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  const where = `Deployment ${params.namespace}/${params.deployment} in cluster ${params.clusterId}`;
  if ((await readyReplicas(ctx, params.clusterId, params.namespace, params.deployment)) === null) {
    throw new StepError('restartMigrateController', 'NotFound', `${where} does not exist: install the migrate-controller add-on first, then retry.`);
  }
  const kube = await kubeOf(ctx, params.clusterId);
  const restartedAt = new Date().toISOString();
  const patch = { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt } } } } };
  // kubectl sends a strategic merge patch; an API server that does not take it (415) gets a JSON merge patch.
  const send = (strategy: string) => () => kube.apps.patchNamespacedDeployment({ name: params.deployment, namespace: params.namespace, body: patch }, setHeaderOptions('Content-Type', strategy));
  await call(ctx, { service: 'kube', permission: 'patch deployments', resource: where, scope: params.clusterId }, () =>
    send(PatchStrategy.StrategicMergePatch)().catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 415) return send(PatchStrategy.MergePatch)();
      throw error;
    }));
  ctx.logger.info({ clusterId: params.clusterId, deployment: params.deployment, restartedAt }, 'restarted deployment');
  return { step: 'restartMigrateController', outcome: 'updated', detail: `Restarted ${params.namespace}/${params.deployment} at ${restartedAt}` };
}

export const step: StepModule<'restartMigrateController'> = { meta, preview, apply };
