// What the session runtime needs from the executor. The executor is the only place that calls clouds.
import type { ClusterFacts, StepName, StepOutcome, StepPreview, StepRequest } from '../../flows/contract.ts';

export interface StepMeta {
  step: StepName;
  /** Title shown on the approval message, e.g. "Create RAM user". */
  title: string;
  risk: 'low' | 'medium' | 'high';
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
}

export interface VerifyReport {
  clusterId: string;
  checks: VerifyCheck[];
}

/** A failure a person can act on: which resource, what went wrong, what to do. Never carries a secret. */
export class StepError extends Error {
  override readonly name = 'StepError';
  readonly step: StepName | 'readCluster' | 'verify';
  readonly code: string;
  readonly retryable: boolean;
  constructor(step: StepName | 'readCluster' | 'verify', code: string, message: string, retryable = false) {
    super(message);
    this.step = step;
    this.code = code;
    this.retryable = retryable;
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

export interface Executor {
  meta(step: StepName): StepMeta;
  readCluster(clusterId: string): Promise<ClusterFacts>;
  preview(request: StepRequest): Promise<StepPreview>;
  apply(request: StepRequest): Promise<StepOutcome>;
  verify(clusterId: string): Promise<VerifyReport>;
  /** Ids of the account's clusters in a region (for `/backup-setup --region <r> --all`). */
  listClusters(region: string): Promise<string[]>;
}
