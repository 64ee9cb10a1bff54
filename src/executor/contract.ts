// What the session runtime needs from the executor. The executor is the only place that calls clouds.
import type { AuthorizeInConsoleInput, ClusterFacts, StepName, StepOutcome, StepPreview, StepRequest } from '../../flows/contract.ts';
import type { WriteHooks } from './context.ts';

export type { WriteHooks };
export type { CallContext } from './errors.ts';

export interface StepMeta {
  step: StepName;
  /** Title shown on the approval message, e.g. "Create RAM user". */
  title: string;
  risk: 'low' | 'medium' | 'high';
  /** Why, in one line: what the step grants, creates or restarts. */
  riskReason: string;
  /** Cloud / Kubernetes APIs the step may call, shown on the approval message. */
  apis: string[];
  timeoutMs: number;
}

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'n/a';

export interface VerifyCheck {
  /** The seed requirement, e.g. "Kubernetes 1.18 or later". */
  requirement: string;
  status: CheckStatus;
  /** What was seen. */
  detail: string;
  /** How to fix it when status is fail/warn. */
  fix?: string;
  /** The setup steps that put it right when it fails (a watch's Fix plans these); none when only people can. */
  steps?: StepName[];
}

export interface VerifyReport {
  clusterId: string;
  checks: VerifyCheck[];
  /** The backup vault verify judged (bucket, prefix, region, network), when there is one. */
  vault?: { name: string; bucket: string; prefix: string; region: string; network: string };
}

/** A failure a person can act on: which resource, what went wrong, what to do. Never carries a secret. */
export class StepError extends Error {
  override readonly name = 'StepError';
  readonly step: StepName | 'readCluster' | 'verify';
  readonly code: string;
  readonly retryable: boolean;
  /** A failed test backup (code TestBackupFailed): what can fix it, for the flow (flows/contract.ts TestBackupFailure). */
  readonly remedy: 'updatePolicy' | 'fixAndRetry' | undefined;
  constructor(step: StepName | 'readCluster' | 'verify', code: string, message: string, retryable = false, remedy?: 'updatePolicy' | 'fixAndRetry') {
    super(message);
    this.step = step;
    this.code = code;
    this.retryable = retryable;
    this.remedy = remedy;
  }
}

/** An AccessKey the bot created: for which RAM user, and the cluster whose Secret it was created for. */
export interface CreatedAccessKey {
  userName: string;
  accessKeyId: string;
  clusterId: string;
}

/** A CreateAccessKey the bot started: the user's keys just before it. */
export interface AccessKeyCreation {
  clusterId: string;
  existingKeyIds: string[];
}

/**
 * The bot's durable record of the AccessKeys it created, written before the key's secret goes anywhere. The bot
 * deletes only keys it finds here, or keys that appeared while one of its own CreateAccessKey calls was under way
 * and that nobody recorded (the call was carried out but its answer was lost to a crash or a timeout): a key made by
 * onectl, by hand or for another add-on is never its to delete.
 */
export interface CreatedAccessKeys {
  record(userName: string, accessKeyId: string, clusterId: string): Promise<void>;
  list(userName: string): Promise<CreatedAccessKey[]>;
  /** After the key is deleted from RAM. */
  forget(userName: string, accessKeyId: string): Promise<void>;
  /** Before CreateAccessKey, with the user's keys now. */
  begin(userName: string, clusterId: string, existingKeyIds: string[]): Promise<void>;
  /** CreateAccessKey calls started and not yet ended, by cluster. */
  pending(userName: string): Promise<AccessKeyCreation[]>;
  /** Once the new key is recorded (or none is needed). */
  end(userName: string, clusterId: string): Promise<void>;
}

/** How the session runtime oversees one apply. */
export interface ApplyOptions {
  writes?: WriteHooks;
  /** One line for the thread per change of a long step's progress. */
  progress?: (text: string) => void;
}

export interface Executor {
  meta(step: StepName): StepMeta;
  readCluster(clusterId: string): Promise<ClusterFacts>;
  preview(request: StepRequest): Promise<StepPreview>;
  apply(request: StepRequest, options?: ApplyOptions): Promise<StepOutcome>;
  verify(clusterId: string): Promise<VerifyReport>;
  /** Sandbox only: a console-only authorization done in the emulated console (refused elsewhere). */
  authorizeInConsole(input: AuthorizeInConsoleInput): Promise<void>;
  /** Ids of the account's clusters in a region (for `/backup-setup --region <r> --all`). */
  listClusters(region: string): Promise<string[]>;
}

/**
 * The session stopped a step right before a cloud write: the setup was cancelled, or the step's
 * claim passed to another process. Nothing of that write was sent.
 */
export class StepStopped extends StepError {
  readonly reason: StopReason;
  /** The write it stopped before, e.g. "ram:CreatePolicy on policy p". */
  readonly before: string;
  readonly cancelledBy: string | null;
  constructor(step: StepName, reason: StopReason, before: string, cancelledBy: string | null = null) {
    super(step, 'Stopped', `${step} stopped before ${before}: ${STOP_REASONS[reason]}`);
    this.reason = reason;
    this.before = before;
    this.cancelledBy = cancelledBy;
  }
}

export type StopReason = 'cancelled' | 'claim lost' | 'store unavailable';

const STOP_REASONS: Record<StopReason, string> = {
  cancelled: 'the setup was cancelled',
  'claim lost': 'another process took the step over',
  'store unavailable': "the bot's database is unavailable, so the claim on the step could not be checked",
};
