// The executor: the only code that calls Alibaba Cloud and Kubernetes. Flows ask it to read a cluster,
// preview a step, apply a step, and verify a setup.
import type { StepName, StepOutcome, StepPreview, StepRequest } from '../../flows/contract.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { scrub } from '../observability/secrets.ts';
import type { CloudClients } from './clients.ts';
import { StepError, type ApplyOptions, type CreatedAccessKeys, type Executor, type StepMeta } from './contract.ts';
import type { EmulatedConsole, ExecContext } from './context.ts';
import { CallLimiter, type RateLimits } from './rate-limit.ts';
import { readClusterOrSuggest } from './read-cluster.ts';
import { clusterIdsIn } from './reads.ts';
import { DEFAULT_RETRY, type RetryOptions } from './retry.ts';
import { activateCloudBackup, activateOss, activateSnapshot } from './steps/activate-service.ts';
import { step as createBackupVault } from './steps/ensure-backup-vault.ts';
import { step as createAccessKeySecret } from './steps/ensure-access-key-secret.ts';
import { step as installAddon } from './steps/ensure-addon.ts';
import { step as createBucket } from './steps/ensure-bucket.ts';
import { step as createNamespace } from './steps/ensure-namespace.ts';
import { step as attachPolicy } from './steps/ensure-policy-attached.ts';
import { step as ensurePolicy } from './steps/ensure-policy.ts';
import { step as createRamUser } from './steps/ensure-ram-user.ts';
import { step as restartMigrateController } from './steps/restart-migrate-controller.ts';
import { step as testBackup } from './steps/test-backup.ts';
import type { StepModule } from './steps/types.ts';
import { verify } from './verify.ts';

export type { CloudClients } from './clients.ts';
export type { CreatedAccessKeys } from './contract.ts';
export type { RetryOptions } from './retry.ts';

const STEPS: { [K in StepName]: StepModule<K> } = {
  activateCloudBackup, activateOss, activateSnapshot, createBucket, createRamUser, ensurePolicy, attachPolicy, createAccessKeySecret, createNamespace, installAddon, restartMigrateController, createBackupVault, testBackup,
};

export interface ExecutorOptions {
  clients: CloudClients;
  /** Where the ids of the AccessKeys the bot creates are recorded (the store: src/store/created-access-keys.ts). */
  createdAccessKeys: CreatedAccessKeys;
  logger: Logger;
  metrics?: Metrics;
  retry?: RetryOptions;
  /** Client-side pacing of cloud calls; null turns it off. */
  rateLimits?: RateLimits | null;
  /** Interval between polls of add-on tasks and Deployment readiness (default 3 s). */
  pollIntervalMs?: number;
  /** Sandbox only: the emulated console ("Authorize in the emulated console"). */
  emulatedConsole?: EmulatedConsole;
}

function stepModule(step: StepName): StepModule<StepName> {
  const module = STEPS[step] as StepModule<StepName> | undefined;
  if (!module) throw new StepError('verify', 'UnknownStep', `Unknown step ${step}`);
  return module;
}

export function createExecutor(options: ExecutorOptions): Executor {
  const limiter = options.rateLimits === null ? undefined : new CallLimiter(options.rateLimits);
  const base: Omit<ExecContext, 'step'> = {
    clients: options.clients,
    createdAccessKeys: options.createdAccessKeys,
    logger: options.logger,
    retry: options.retry ?? DEFAULT_RETRY,
    pollMs: options.pollIntervalMs ?? 3000,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(limiter ? { limiter } : {}),
    ...(options.emulatedConsole ? { emulatedConsole: options.emulatedConsole } : {}),
  };
  const context = (step: ExecContext['step']): ExecContext => ({ ...base, step });

  /** Anything that is not already a StepError (a bug, an unexpected shape) still leaves as one, scrubbed. */
  const guarded = async <T>(step: ExecContext['step'], run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof StepError) {
        options.logger.warn({ step, code: error.code, retryable: error.retryable, err: { message: error.message } }, 'executor step failed');
        throw error;
      }
      const message = scrub(error instanceof Error ? error.message : String(error)).split('\n')[0]!;
      options.logger.error({ step, err: { message } }, 'executor failed unexpectedly');
      throw new StepError(step, 'Unexpected', `${step} failed unexpectedly: ${message}`);
    }
  };

  return {
    meta: (step: StepName): StepMeta => ({ ...stepModule(step).meta, apis: [...stepModule(step).meta.apis] }),
    readCluster: (clusterId) => guarded('readCluster', () => readClusterOrSuggest(context('readCluster'), clusterId)),
    preview: (request: StepRequest): Promise<StepPreview> =>
      guarded(request.step, () => stepModule(request.step).preview(request.params as never, context(request.step))),
    apply: (request: StepRequest, applyOptions: ApplyOptions = {}): Promise<StepOutcome> =>
      guarded(request.step, async () => {
        const ctx = {
          ...context(request.step),
          ...(applyOptions.writes ? { writes: applyOptions.writes } : {}),
          ...(applyOptions.progress ? { progress: applyOptions.progress } : {}),
        };
        const outcome = await stepModule(request.step).apply(request.params as never, ctx);
        options.logger.info({ step: request.step, outcome: outcome.outcome }, outcome.detail);
        return { ...outcome, detail: scrub(outcome.detail) };
      }),
    verify: (clusterId) => guarded('verify', () => verify(context('verify'), clusterId)),
    authorizeInConsole: async (input) => {
      if (!options.emulatedConsole) throw new StepError('readCluster', 'NoEmulatedConsole', 'Only the sandbox has an emulated console: authorize it in the Alibaba Cloud console, then check again.');
      await options.emulatedConsole.authorize(input);
    },
    listClusters: (region) => guarded('readCluster', () => clusterIdsIn(context('readCluster'), region)),
  };
}
