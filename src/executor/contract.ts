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

/** What `apply` may report while it runs. */
export interface ApplyOptions {
  /** One line for the thread per change of a long step's progress (the session runtime may pass it, or not). */
  progress?: (text: string) => void;
}

export interface Executor {
  meta(step: StepName): StepMeta;
  readCluster(clusterId: string): Promise<ClusterFacts>;
  preview(request: StepRequest): Promise<StepPreview>;
  apply(request: StepRequest, options?: ApplyOptions): Promise<StepOutcome>;
  verify(clusterId: string): Promise<VerifyReport>;
  /** Ids of the account's clusters in a region (for `/backup-setup --region <r> --all`). */
  listClusters(region: string): Promise<string[]>;
}
