// createAccessKeySecret: an Active AccessKey of the RAM user in a Secret under `access-key-id` / `access-key-secret`.
// A valid key already there is reused (as onectl does with kube-system/alibaba-addon-secret,
// https://www.alibabacloud.com/help/en/doc-detail/469900.htm). Before CreateAccessKey the bot notes the user's keys;
// the new key is recorded as the bot's before its secret is written anywhere; the bot deletes only keys it recorded,
// or keys that appeared during its own unanswered CreateAccessKey: a key made by onectl, by hand or for another
// add-on is never its to delete. Such a key of the bot's for this cluster that the Secret does not hold (a crash or
// a timeout between creating it and writing the Secret) is an orphan and is deleted.
import { CreateAccessKeyRequest, DeleteAccessKeyRequest } from '@alicloud/ram20150501';
import type { V1Secret } from '@kubernetes/client-node';
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { registerSecret } from '../../observability/secrets.ts';
import { runtime } from '../clients.ts';
import { StepError, type AccessKeyCreation, type CreatedAccessKey } from '../contract.ts';
import { alreadyExists, callOrNull, guarded, write, type ExecContext } from '../context.ts';
import { toStepError } from '../errors.ts';
import { accessKeys, kubeOf, readSecret, userExists, type AccessKeyInfo, type SecretView } from '../reads.ts';
import type { StepModule } from './types.ts';

type Params = StepParamsByName['createAccessKeySecret'];

export const SECRET_KEYS = ['access-key-id', 'access-key-secret'] as const;
/** "The access key count of the user access keys beyond the current limits" (RAM, LimitExceeded.User.AccessKey): 2. */
const MAX_ACCESS_KEYS = 2;

export const meta = {
  step: 'createAccessKeySecret', title: 'Create AccessKey and store it in a Secret', risk: 'high',
  apis: ['ram:ListAccessKeys', 'ram:CreateAccessKey', 'ram:DeleteAccessKey', 'cs:DescribeClusterUserKubeconfig', 'kube: get/create/update secrets'],
  timeoutMs: 120_000,
} as const satisfies StepModule<'createAccessKeySecret'>['meta'];

export interface AccessKeySecretState {
  secret: SecretView | null;
  /** The user's keys in RAM. */
  keys: AccessKeyInfo[];
  /** The keys the bot recorded as its own for this user (any cluster). */
  created: CreatedAccessKey[];
  /** The key id the Secret holds, when it has one. */
  secretKeyId: string | null;
  /** Why the Secret is not usable as it is; null when it is (its keys, an Active key of the user). */
  problem: string | null;
  /** Keys the bot created for this cluster that the Secret does not hold. */
  orphans: AccessKeyInfo[];
  /** Among the orphans: keys an unanswered CreateAccessKey of the bot's made (never recorded, secret never received). */
  unanswered: Set<string>;
  /** A CreateAccessKey of the bot's for this cluster that has not ended. */
  started: boolean;
}

const where = (p: Params) => `Secret ${p.namespace}/${p.secretName}`;
const createdByBot = (state: AccessKeySecretState, id: string | null) => id !== null && state.created.some((k) => k.accessKeyId === id);

export async function readAccessKeySecret(ctx: ExecContext, params: Params): Promise<AccessKeySecretState> {
  const [secret, keys, created, pending] = await Promise.all([
    readSecret(ctx, params.clusterId, params.namespace, params.secretName),
    accessKeys(ctx, params.userName),
    ctx.createdAccessKeys.list(params.userName),
    ctx.createdAccessKeys.pending(params.userName),
  ]);
  const secretKeyId = secret?.data['access-key-id'] ?? null;
  // migrate-controller's own Secret holds exactly the two keys; a shared one may hold other add-ons' keys too.
  const hasKeys = secret !== null && (params.shared ? SECRET_KEYS.every((k) => secret.keys.includes(k)) : secret.keys.join(',') === [...SECRET_KEYS].join(','));
  const held = keys.find((k) => k.accessKeyId === secretKeyId);
  let problem: string | null = null;
  if (!secret) problem = `${where(params)} does not exist`;
  else if (!hasKeys) problem = `${where(params)} has keys ${secret.keys.join(', ') || '(none)'} instead of ${params.shared ? '' : 'exactly '}${SECRET_KEYS.join(', ')}`;
  else if (!held) problem = `${where(params)} holds AccessKey ${secretKeyId}, which is not a key of RAM user ${params.userName}`;
  else if (held.status !== 'Active') problem = `${where(params)} holds AccessKey ${secretKeyId} of ${params.userName}, which is ${held.status}`;
  const mine = new Set(created.filter((k) => k.clusterId === params.clusterId).map((k) => k.accessKeyId));
  const unanswered = unansweredKeys(params, keys, created, pending);
  const orphans = keys.filter((k) => (mine.has(k.accessKeyId) || unanswered.has(k.accessKeyId)) && k.accessKeyId !== secretKeyId);
  return { secret, keys, created, secretKeyId, problem, orphans, unanswered, started: pending.some((p) => p.clusterId === params.clusterId) };
}

/**
 * Keys that appeared after this cluster's CreateAccessKey started and that nobody recorded: that call made them.
 * While another cluster's CreateAccessKey for the same user is under way too, a new key may be its: none is claimed.
 */
function unansweredKeys(params: Params, keys: AccessKeyInfo[], created: CreatedAccessKey[], pending: AccessKeyCreation[]): Set<string> {
  const started = pending.find((p) => p.clusterId === params.clusterId);
  if (!started || pending.some((p) => p.clusterId !== params.clusterId)) return new Set();
  const recorded = new Set(created.map((k) => k.accessKeyId));
  return new Set(keys.filter((k) => !started.existingKeyIds.includes(k.accessKeyId) && !recorded.has(k.accessKeyId)).map((k) => k.accessKeyId));
}

/**
 * What stops the step before anything changes: a shared Secret holding a key the bot cannot vouch for (other add-ons
 * may use it), or a user who already has the most keys RAM allows once the orphans are gone.
 */
function blocker(params: Params, state: AccessKeySecretState): StepError | null {
  if (state.problem === null) return null;
  const heldKey = state.secretKeyId !== null && state.keys.some((k) => k.accessKeyId === state.secretKeyId);
  if (params.shared && state.secretKeyId !== null && !heldKey) {
    return new StepError('createAccessKeySecret', 'SharedSecretInUse',
      `${where(params)} in cluster ${params.clusterId} holds AccessKey ${state.secretKeyId}, which is not a key of RAM user ${params.userName}. ` +
      'Other add-ons (logtail-ds, …) read this Secret, so the bot does not replace its key. Either grant the migrate-controller policy to the RAM user that owns ' +
      `${state.secretKeyId} (onectl ram-user grant --addon migrate-controller), or, if that key is no longer used, delete the Secret and run /backup-setup again.`);
  }
  const remaining = state.keys.filter((k) => !state.orphans.some((o) => o.accessKeyId === k.accessKeyId));
  if (remaining.length >= MAX_ACCESS_KEYS) {
    const described = remaining.map((k) => {
      const record = state.created.find((c) => c.accessKeyId === k.accessKeyId);
      return `${k.accessKeyId} (${k.status}, ${record ? `created by the bot for cluster ${record.clusterId}` : 'not created by the bot'})`;
    });
    return new StepError('createAccessKeySecret', 'LimitExceeded.User.AccessKey',
      `RAM user ${params.userName} already has ${remaining.length} AccessKeys, the most RAM allows: ${described.join(', ')}. ` +
      `None is in ${where(params)} of cluster ${params.clusterId}, and the bot deletes only keys it created for this cluster. ` +
      'Delete a key that nothing uses any more in the RAM console, then run /backup-setup again.');
  }
  return null;
}

const LONG_LIVED = 'a long-lived AccessKey: it does not expire by itself, so rotate it, and delete it when the cluster no longer needs it';

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  const state = await readAccessKeySecret(ctx, params);
  const blocked = blocker(params, state);
  if (blocked) throw blocked;
  const orphanLines = state.orphans.map((k) => state.unanswered.has(k.accessKeyId)
    ? `delete AccessKey ${k.accessKeyId} of ${params.userName}: an earlier attempt of the bot created it but never received its secret`
    : `delete AccessKey ${k.accessKeyId} of ${params.userName}: the bot created it for this cluster and no Secret holds it`);
  if (state.problem === null) {
    const reused = `${where(params)} already holds Active AccessKey ${state.secretKeyId} of ${params.userName}; it is used as it is`;
    return { step: 'createAccessKeySecret', upToDate: orphanLines.length === 0, changes: [...orphanLines, reused] };
  }
  const secretLine = !state.secret
    ? `create ${where(params)} with keys ${SECRET_KEYS.join(', ')}`
    : params.shared
      ? `set keys ${SECRET_KEYS.join(', ')} in ${where(params)} (${state.problem}); its other keys are kept`
      : `replace ${where(params)} (${state.problem})`;
  const old = state.secretKeyId !== null && state.keys.some((k) => k.accessKeyId === state.secretKeyId)
    ? [createdByBot(state, state.secretKeyId)
      ? `delete AccessKey ${state.secretKeyId} it held before (the bot created it)`
      : `leave AccessKey ${state.secretKeyId} it held before in RAM (the bot did not create it)`]
    : [];
  return { step: 'createAccessKeySecret', upToDate: false, changes: [...orphanLines, `create an AccessKey for RAM user ${params.userName}, ${LONG_LIVED}`, secretLine, ...old] };
}

async function deleteKey(ctx: ExecContext, params: Params, accessKeyId: string, why: string): Promise<void> {
  await callOrNull(ctx, { service: 'ram', permission: 'ram:DeleteAccessKey', resource: `AccessKey ${accessKeyId} of user ${params.userName}` }, () =>
    ctx.clients.ram.deleteAccessKeyWithOptions(new DeleteAccessKeyRequest({ userName: params.userName, userAccessKeyId: accessKeyId }), runtime(ctx.clients.timeouts.write)));
  await ctx.createdAccessKeys.forget(params.userName, accessKeyId);
  ctx.logger.info({ userName: params.userName, accessKeyId }, why);
}

/**
 * CreateAccessKey, announced first (CreatedAccessKeys.begin) so that a key it makes is the bot's even when the answer
 * never comes. After a timeout, a key that appeared meanwhile is that call's: its secret is lost, so it is deleted
 * and the call is sent again; while another cluster creates a key for the same user, it could be theirs: the step stops.
 */
async function createKey(ctx: ExecContext, params: Params, before: AccessKeyInfo[]): Promise<{ id: string; secret: string }> {
  const known = new Set(before.map((k) => k.accessKeyId));
  await ctx.createdAccessKeys.begin(params.userName, params.clusterId, [...known]);
  const context = { service: 'ram' as const, permission: 'ram:CreateAccessKey', resource: `user ${params.userName}` };
  return write(ctx, context, async () => {
    const created = await ctx.clients.ram.createAccessKeyWithOptions(new CreateAccessKeyRequest({ userName: params.userName }), runtime(ctx.clients.timeouts.write));
    return { id: created.body?.accessKey?.accessKeyId ?? '', secret: created.body?.accessKey?.accessKeySecret ?? '' };
  }, async () => {
    const [recorded, pending, now] = await Promise.all([ctx.createdAccessKeys.list(params.userName), ctx.createdAccessKeys.pending(params.userName), accessKeys(ctx, params.userName)]);
    const recordedIds = new Set(recorded.map((k) => k.accessKeyId));
    const unknown = now.filter((k) => !known.has(k.accessKeyId) && !recordedIds.has(k.accessKeyId));
    if (unknown.length === 0) return null;
    if (pending.some((p) => p.clusterId !== params.clusterId)) {
      throw new StepError('createAccessKeySecret', 'AccessKeyOutcomeUnknown',
        `CreateAccessKey for RAM user ${params.userName} got no answer, and RAM now shows AccessKey ${unknown.map((k) => k.accessKeyId).join(', ')}, ` +
        'while another cluster is creating a key for the same user: the bot cannot tell whose it is and does not delete it. Run /backup-setup again once that setup is done.', true);
    }
    for (const key of unknown) await deleteKey(ctx, params, key.accessKeyId, 'deleted an AccessKey whose CreateAccessKey answer never came (its secret is lost)');
    return null;
  });
}

async function writeSecret(ctx: ExecContext, params: Params, existing: SecretView | null, id: string, secret: string): Promise<void> {
  const kube = await kubeOf(ctx, params.clusterId);
  const keep = params.shared && existing ? existing.data : {};
  const data = Object.fromEntries(Object.entries({ ...keep, 'access-key-id': id, 'access-key-secret': secret }).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  const body: V1Secret = {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    // A Secret someone else made keeps its labels; the bot labels only the ones it makes.
    metadata: { name: params.secretName, namespace: params.namespace, labels: existing ? existing.labels : { 'app.kubernetes.io/managed-by': 'backup-setup-bot' } },
    data,
  };
  const context = { service: 'kube' as const, permission: 'create/update secrets', resource: `${where(params)} in cluster ${params.clusterId}`, scope: params.clusterId };
  const replace = (resourceVersion: string) => kube.core.replaceNamespacedSecret({ name: params.secretName, namespace: params.namespace, body: { ...body, metadata: { ...body.metadata, resourceVersion } } });
  if (existing) {
    await write(ctx, context, () => replace(existing.resourceVersion));
    return;
  }
  try {
    await guarded(ctx, context, () => kube.core.createNamespacedSecret({ namespace: params.namespace, body }));
  } catch (error) {
    if (!alreadyExists(error)) throw toStepError(ctx.step, error, context, ctx.metrics);
    const now = await readSecret(ctx, params.clusterId, params.namespace, params.secretName);
    await write(ctx, context, () => replace(now?.resourceVersion ?? ''));
  }
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  const [userThere, state] = await Promise.all([userExists(ctx, params.userName), readAccessKeySecret(ctx, params)]);
  if (!userThere) {
    throw new StepError('createAccessKeySecret', 'EntityNotExist.User', `RAM user ${params.userName} does not exist: run the createRamUser step first.`);
  }
  const blocked = blocker(params, state);
  if (blocked) throw blocked;
  for (const orphan of state.orphans) await deleteKey(ctx, params, orphan.accessKeyId, 'deleted orphan AccessKey');
  // Records of keys deleted by hand since.
  for (const record of state.created) {
    if (!state.keys.some((k) => k.accessKeyId === record.accessKeyId)) await ctx.createdAccessKeys.forget(params.userName, record.accessKeyId);
  }
  if (state.problem === null) {
    if (state.started) await ctx.createdAccessKeys.end(params.userName, params.clusterId);
    const cleaned = state.orphans.length ? ` (deleted orphan AccessKey ${state.orphans.map((k) => k.accessKeyId).join(', ')})` : '';
    return {
      step: 'createAccessKeySecret', outcome: state.orphans.length ? 'updated' : 'already present',
      detail: `${where(params)} already holds Active AccessKey ${state.secretKeyId} of ${params.userName}, used as it is${cleaned}`,
    };
  }

  const created = await createKey(ctx, params, state.keys.filter((k) => !state.orphans.includes(k)));
  registerSecret(created.secret);
  try {
    await ctx.createdAccessKeys.record(params.userName, created.id, params.clusterId);
  } catch (error) {
    // Not recorded, the key could never be told apart from one the bot did not create: it must not live on.
    await deleteKey(ctx, params, created.id, 'deleted an AccessKey the bot could not record');
    throw error;
  }
  await ctx.createdAccessKeys.end(params.userName, params.clusterId);
  ctx.logger.info({ userName: params.userName, accessKeyId: created.id, clusterId: params.clusterId }, 'created AccessKey');

  try {
    await writeSecret(ctx, params, state.secret, created.id, created.secret);
  } catch (error) {
    const refused = toStepError('createAccessKeySecret', error, { service: 'kube', permission: 'create/update secrets', resource: `${where(params)} in cluster ${params.clusterId}`, scope: params.clusterId });
    let cleanup: string;
    try {
      await deleteKey(ctx, params, created.id, 'deleted the new AccessKey: its Secret could not be written');
      cleanup = `The new AccessKey ${created.id} was deleted at once, so it is not left behind.`;
    } catch (deletion) {
      cleanup = `The new AccessKey ${created.id} could not be deleted (${deletion instanceof Error ? deletion.message : String(deletion)}); the bot recorded it and deletes it on the next run.`;
    }
    throw new StepError('createAccessKeySecret', refused.code, `${refused.message} ${cleanup}`, refused.retryable);
  }

  // The key the Secret held before is referred to by nothing now; it is deleted only if the bot made it.
  const old = state.secretKeyId !== null && state.keys.some((k) => k.accessKeyId === state.secretKeyId) ? state.secretKeyId : null;
  let oldNote = '';
  if (old !== null && createdByBot(state, old)) {
    await deleteKey(ctx, params, old, 'deleted the AccessKey the Secret held before');
    oldNote = `; deleted AccessKey ${old} it held before`;
  } else if (old !== null) {
    oldNote = `; AccessKey ${old} it held before is left in RAM (the bot did not create it)`;
  }
  return {
    step: 'createAccessKeySecret', outcome: state.secret ? 'updated' : 'created',
    detail: `${state.secret ? 'Updated' : 'Created'} ${where(params)} with new long-lived AccessKey ${created.id} of ${params.userName}${oldNote}`,
  };
}

export const step: StepModule<'createAccessKeySecret'> = { meta, preview, apply };
