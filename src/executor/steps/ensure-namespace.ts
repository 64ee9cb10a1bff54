// createNamespace: the namespace the Secret (and the backup center) lives in.
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { createOrPresent, type ExecContext } from '../context.ts';
import { kubeOf, namespaceExists } from '../reads.ts';
import type { StepModule } from './types.ts';

type Params = StepParamsByName['createNamespace'];

export const meta = { step: 'createNamespace', title: 'Create Kubernetes namespace', risk: 'low', apis: ['cs:DescribeClusterUserKubeconfig', 'kube: get/create namespaces'], timeoutMs: 60_000 } as const satisfies StepModule<'createNamespace'>['meta'];

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  if (await namespaceExists(ctx, params.clusterId, params.namespace)) {
    return { step: 'createNamespace', upToDate: true, changes: [`namespace ${params.namespace} already exists in cluster ${params.clusterId}`] };
  }
  return { step: 'createNamespace', upToDate: false, changes: [`create namespace ${params.namespace} in cluster ${params.clusterId}`] };
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  const present: StepOutcome = { step: 'createNamespace', outcome: 'already present', detail: `Namespace ${params.namespace} already exists` };
  // No read first: the API server answers 409 AlreadyExists for a namespace that is there.
  const kube = await kubeOf(ctx, params.clusterId);
  const result = await createOrPresent(ctx, { service: 'kube', permission: 'create namespaces', resource: `namespace ${params.namespace} in cluster ${params.clusterId}`, scope: params.clusterId }, () =>
    kube.core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: params.namespace } } }),
  () => namespaceExists(ctx, params.clusterId, params.namespace));
  if (result === 'present') return present;
  ctx.logger.info({ clusterId: params.clusterId, namespace: params.namespace }, 'created namespace');
  return { step: 'createNamespace', outcome: 'created', detail: `Created namespace ${params.namespace} in ${params.clusterId}` };
}

export const step: StepModule<'createNamespace'> = { meta, preview, apply };
