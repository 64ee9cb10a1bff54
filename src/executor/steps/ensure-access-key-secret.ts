// createAccessKeySecret: an Active AccessKey of the RAM user, stored in a Secret with exactly the keys
// `access-key-id` and `access-key-secret`. The key is created and written in the same step; a key of the
// user that no Secret refers to (e.g. a crash between the two) is an orphan and is deleted.
import { CreateAccessKeyRequest, DeleteAccessKeyRequest } from '@alicloud/ram20150501';
import type { V1Secret } from '@kubernetes/client-node';
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { registerSecret } from '../../observability/secrets.ts';
import { runtime } from '../clients.ts';
import { StepError } from '../contract.ts';
import { alreadyExists, call, callOrNull, guarded, type ExecContext } from '../context.ts';
import { toStepError } from '../errors.ts';
import { accessKeys, kubeOf, readSecret, userExists, type AccessKeyInfo, type SecretView } from '../reads.ts';
import type { StepModule } from './types.ts';

type Params = StepParamsByName['createAccessKeySecret'];

export const SECRET_KEYS = ['access-key-id', 'access-key-secret'] as const;
const MAX_ACCESS_KEYS = 2;

export const meta = {
  step: 'createAccessKeySecret', title: 'Create AccessKey and store it in a Secret', risk: 'high',
  apis: ['ram:ListAccessKeys', 'ram:CreateAccessKey', 'ram:DeleteAccessKey', 'cs:DescribeClusterUserKubeconfig', 'kube: get/create/update secrets'],
  timeoutMs: 120_000,
} as const satisfies StepModule<'createAccessKeySecret'>['meta'];

export interface AccessKeySecretState {
  secret: SecretView | null;
  keys: AccessKeyInfo[];
  /** The key id the Secret holds, when it has one. */
  secretKeyId: string | null;
  /** Why the Secret is not usable as it is; null when it is (right keys, an Active key of the user). */
  problem: string | null;
  /** Keys of the user the Secret does not refer to. */
  orphans: AccessKeyInfo[];
}

export async function readAccessKeySecret(ctx: ExecContext, params: Params): Promise<AccessKeySecretState> {
  const [secret, keys] = await Promise.all([
    readSecret(ctx, params.clusterId, params.namespace, params.secretName),
    accessKeys(ctx, params.userName),
  ]);
  const where = `Secret ${params.namespace}/${params.secretName}`;
  const secretKeyId = secret?.data['access-key-id'] ?? null;
  let problem: string | null = null;
  if (!secret) problem = `${where} does not exist`;
  else if (secret.keys.join(',') !== [...SECRET_KEYS].join(',')) problem = `${where} has keys ${secret.keys.join(', ') || '(none)'} instead of exactly ${SECRET_KEYS.join(', ')}`;
  else if (!keys.some((k) => k.accessKeyId === secretKeyId && k.status === 'Active')) problem = `${where} holds AccessKey ${secretKeyId}, which is not an Active key of RAM user ${params.userName}`;
  const orphans = keys.filter((k) => k.accessKeyId !== secretKeyId);
  return { secret, keys, secretKeyId, problem, orphans };
}

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  const state = await readAccessKeySecret(ctx, params);
  const orphanLines = state.orphans.map((k) => `delete AccessKey ${k.accessKeyId} of ${params.userName} (no Secret refers to it)`);
  if (state.problem === null) {
    return {
      step: 'createAccessKeySecret', upToDate: orphanLines.length === 0,
      changes: orphanLines.length ? orphanLines : [`Secret ${params.namespace}/${params.secretName} already holds Active AccessKey ${state.secretKeyId} of ${params.userName}`],
    };
  }
  const write = state.secret ? `replace Secret ${params.namespace}/${params.secretName} (${state.problem})` : `create Secret ${params.namespace}/${params.secretName} with keys ${SECRET_KEYS.join(', ')}`;
  return { step: 'createAccessKeySecret', upToDate: false, changes: [...orphanLines, `create an AccessKey for RAM user ${params.userName}`, write] };
}

async function deleteKey(ctx: ExecContext, params: Params, accessKeyId: string): Promise<void> {
  await callOrNull(ctx, { service: 'ram', permission: 'ram:DeleteAccessKey', resource: `AccessKey ${accessKeyId} of user ${params.userName}` }, () =>
    ctx.clients.ram.deleteAccessKeyWithOptions(new DeleteAccessKeyRequest({ userName: params.userName, userAccessKeyId: accessKeyId }), runtime()));
  ctx.logger.info({ userName: params.userName, accessKeyId }, 'deleted orphan AccessKey');
}

async function writeSecret(ctx: ExecContext, params: Params, existing: SecretView | null, id: string, secret: string): Promise<void> {
  const kube = await kubeOf(ctx, params.clusterId);
  const body: V1Secret = {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: params.secretName, namespace: params.namespace, labels: { 'app.kubernetes.io/managed-by': 'backup-setup-bot' } },
    data: { 'access-key-id': Buffer.from(id).toString('base64'), 'access-key-secret': Buffer.from(secret).toString('base64') },
  };
  const context = { service: 'kube' as const, permission: 'create/update secrets', resource: `Secret ${params.namespace}/${params.secretName} in cluster ${params.clusterId}` };
  const replace = () => kube.core.replaceNamespacedSecret({ name: params.secretName, namespace: params.namespace, body });
  if (existing) {
    await call(ctx, context, replace);
    return;
  }
  try {
    await guarded(ctx, context, () => kube.core.createNamespacedSecret({ namespace: params.namespace, body }));
  } catch (error) {
    if (!alreadyExists(error)) throw toStepError(ctx.step, error, context, ctx.metrics);
    await call(ctx, context, replace);
  }
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  if (!(await userExists(ctx, params.userName))) {
    throw new StepError('createAccessKeySecret', 'EntityNotExist.User', `RAM user ${params.userName} does not exist: run the createRamUser step first.`);
  }
  const state = await readAccessKeySecret(ctx, params);
  for (const orphan of state.orphans) await deleteKey(ctx, params, orphan.accessKeyId);
  if (state.problem === null) {
    const cleaned = state.orphans.length ? ` (deleted orphan AccessKey ${state.orphans.map((k) => k.accessKeyId).join(', ')})` : '';
    return {
      step: 'createAccessKeySecret', outcome: state.orphans.length ? 'updated' : 'already present',
      detail: `Secret ${params.namespace}/${params.secretName} already holds Active AccessKey ${state.secretKeyId} of ${params.userName}${cleaned}`,
    };
  }
  const remaining = await accessKeys(ctx, params.userName);
  if (remaining.length >= MAX_ACCESS_KEYS) {
    throw new StepError('createAccessKeySecret', 'LimitExceeded.User.AccessKey',
      `RAM user ${params.userName} already has ${remaining.length} AccessKeys (${remaining.map((k) => k.accessKeyId).join(', ')}), the maximum: delete one it no longer uses in the RAM console and retry.`);
  }
  const created = await call(ctx, { service: 'ram', permission: 'ram:CreateAccessKey', resource: `user ${params.userName}` }, () =>
    ctx.clients.ram.createAccessKeyWithOptions(new CreateAccessKeyRequest({ userName: params.userName }), runtime()));
  const id = created.body?.accessKey?.accessKeyId ?? '';
  const secret = created.body?.accessKey?.accessKeySecret ?? '';
  registerSecret(secret);
  ctx.logger.info({ userName: params.userName, accessKeyId: id }, 'created AccessKey');
  await writeSecret(ctx, params, state.secret, id, secret);
  // The key the Secret held before is now referred to by nothing.
  if (state.secretKeyId && state.keys.some((k) => k.accessKeyId === state.secretKeyId)) await deleteKey(ctx, params, state.secretKeyId);
  return {
    step: 'createAccessKeySecret', outcome: state.secret ? 'updated' : 'created',
    detail: `${state.secret ? 'Replaced' : 'Created'} Secret ${params.namespace}/${params.secretName} with new AccessKey ${id} of ${params.userName}`,
  };
}

export const step: StepModule<'createAccessKeySecret'> = { meta, preview, apply };
