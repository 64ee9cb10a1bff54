// Turns SDK errors (openapi-core, ali-oss, client-node) into StepErrors a person can act on:
// which call on which resource failed, why, and what to do. Never a stack, never a secret.
import type { Metrics } from '../observability/metrics.ts';
import { scrub } from '../observability/secrets.ts';
import { StepError } from './contract.ts';
import { codeOf, isRetryable, statusOf } from './retry.ts';

export type CloudService = 'ram' | 'cs' | 'oss' | 'kube';

/** What was being done: `permission` is the RAM action (e.g. "ram:CreateUser"), `resource` the thing it was done to. */
export interface CallContext {
  service: CloudService;
  permission: string;
  resource: string;
  /**
   * Which server the call goes to, where the service's limits are per server: the cluster of a Kubernetes call, the
   * region of a CS call (each region has its own endpoint, cs.<region>.aliyuncs.com).
   */
  scope?: string;
}

type StepOrRead = ConstructorParameters<typeof StepError>[0];

interface SdkError {
  code?: unknown;
  message?: unknown;
  data?: { Message?: unknown; message?: unknown; Recommend?: unknown };
  body?: unknown;
}

/** The service's own message, without the SDK's "code: 403, … request id: …" wrapping. */
function serviceMessage(error: unknown): string {
  const e = (error ?? {}) as SdkError;
  const fromData = e.data?.Message ?? e.data?.message;
  if (typeof fromData === 'string') return fromData;
  if (typeof e.body === 'string') {
    try {
      const parsed = JSON.parse(e.body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch { /* not JSON: fall through */ }
  }
  if (e.body && typeof e.body === 'object' && typeof (e.body as { message?: unknown }).message === 'string') return (e.body as { message: string }).message;
  const message = typeof e.message === 'string' ? e.message : String(error);
  return message.split('\n')[0]!.replace(/^code: \d+, /, '').replace(/ request id: \S+$/, '');
}

function errorCode(error: unknown): string {
  const code = codeOf(error);
  if (code) return code;
  const status = statusOf(error);
  if (status !== undefined) return `HTTP${status}`;
  const name = (error as { name?: unknown })?.name;
  return typeof name === 'string' ? name : 'Unknown';
}

/** The action RAM refused, as the service names it (openapi-core's accessDeniedDetail.AuthAction), when it does. */
function deniedAction(error: unknown): string | null {
  const detail = (error as { accessDeniedDetail?: { AuthAction?: unknown } } | null)?.accessDeniedDetail;
  return typeof detail?.AuthAction === 'string' && /^[a-z-]+:\w+$/.test(detail.AuthAction) ? detail.AuthAction : null;
}

function actionableMessage(code: string, status: number | undefined, context: CallContext, detail: string, retryable: boolean, refused: string | null): string {
  const { permission, resource } = context;
  if (/NoPermission|Forbidden|AccessDenied|NotAuthorized/i.test(code) || status === 403) {
    if (context.service === 'kube') {
      return `The kubeconfig the bot gets from CS may not ${permission} on ${resource} (${detail}): grant the bot's RAM identity RBAC admin on the cluster (ACK console → Authorizations) and retry.`;
    }
    const action = refused ?? permission;
    return `The bot's RAM identity may not call \`${action}\` on ${resource} (${code}): add \`${action}\` to the bot's RAM policy and retry.`;
  }
  if (code === 'ErrorClusterNotFound') return `Cluster ${resource} was not found in this account/region: check the cluster id in the ACK console and that the bot's AccessKey belongs to the cluster's account.`;
  if (code === 'LimitExceeded.User.AccessKey') return `${resource} already has 2 AccessKeys, the maximum: delete one it no longer uses in the RAM console and retry.`;
  if (code === 'LimitExceeded.Policy.Version') return `Policy ${resource} already has 5 versions, the maximum: delete an old non-default version in the RAM console and retry.`;
  if (code === 'LimitExceeded.User.Policy') return `RAM user ${resource} already has the maximum number of custom policies attached: detach one it no longer needs and retry.`;
  if (code === 'MalformedPolicyDocument') return `RAM rejected the policy document for ${resource} (${detail}); this is a bug in the bot, please report it.`;
  if (code === 'BucketAlreadyExists') return `Bucket name ${resource} is taken by another Alibaba Cloud account: choose another name.`;
  if (code === 'TooManyBuckets') return `The account already has the maximum number of OSS buckets in this region (100 per region): reuse an existing bucket there, or delete an unused one, and retry.`;
  if (code.startsWith('EntityNotExist')) return `${resource} does not exist (${code}): run the setup again so the step that creates it runs first.`;
  if (retryable) return `${permission} on ${resource} kept failing with ${code} (${detail}) after several attempts: the service is busy or unreachable; retry in a few minutes.`;
  return `${permission} on ${resource} failed with ${code}: ${detail}`;
}

export function toStepError(step: StepOrRead, error: unknown, context: CallContext, metrics?: Metrics): StepError {
  if (error instanceof StepError) return error;
  const code = errorCode(error);
  const status = statusOf(error);
  metrics?.cloudErrors.inc({ service: context.service, code });
  const retryable = isRetryable(error);
  const message = actionableMessage(code, status, context, serviceMessage(error), retryable, deniedAction(error));
  return new StepError(step, code, scrub(message), retryable);
}
