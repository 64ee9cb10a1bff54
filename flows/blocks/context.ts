// What every setup flow remembers between events. Persisted with the session, so plain data only.
import type {
  ClusterFacts,
  ClusterKind,
  FlowInput,
  FlowOutput,
  Prompt,
  Repair,
  StepName,
  StepOutcome,
  StepRequest,
  UserId,
} from '../contract.ts';
import { classifyCluster } from '../domain/cluster.ts';

export type BucketScope = 'bucket' | 'all';

export interface PlannedStep {
  request: StepRequest;
  /** The restart: only when the Secret step created or changed the Secret (the add-on was already running). */
  onlyIfSecretChanged?: boolean;
}

export interface Plan {
  steps: PlannedStep[];
  /** Why steps were left out (already in place), said once when the plan is shown. */
  notices: string[];
}

export interface CurrentStep {
  request: StepRequest;
  phase: 'previewing' | 'awaiting approval' | 'applying';
}

export interface FlowContext {
  sessionId: string;
  requester: UserId;
  facts: ClusterFacts;
  kind: ClusterKind;
  /** The bucket's region and name, once answered. */
  region: string | null;
  bucket: string | null;
  bucketScope: BucketScope;
  plan: Plan;
  current: CurrentStep | null;
  completed: StepOutcome[];
  /** Approval requests shown per step; part of the approval id. */
  attempts: Partial<Record<StepName, number>>;
  /** Things left for people to do, repeated in the closing message. */
  reminders: string[];
  /** Console steps a person skipped for now (the API Gateway authorization): the setup ends "one manual step left". */
  manualSteps: string[];
  prompt: Prompt | null;
  output: FlowOutput | null;
  /** The session runs the test backup alone (verify's on-request test), not a setup. */
  testOnly: boolean;
  /** Why the last test backup failed, while the flow asks what to do about it. */
  testFailure: { message: string; remedy: 'updatePolicy' | 'fixAndRetry' } | null;
  /** A Fix of drift: the bucket questions are answered by it and only its steps are planned (absent in older snapshots). */
  repair?: Repair | null;
}

export function initialContext(input: FlowInput): FlowContext {
  return {
    sessionId: input.sessionId,
    requester: input.requester,
    facts: input.facts,
    kind: classifyCluster(input.facts),
    region: input.repair?.region ?? null,
    bucket: input.repair?.bucket ?? null,
    // A Fix writes the policy for the vault's bucket only (the stricter of the two scopes).
    bucketScope: 'bucket',
    plan: { steps: [], notices: [] },
    current: null,
    completed: [],
    attempts: {},
    reminders: [],
    manualSteps: [],
    prompt: null,
    output: null,
    testOnly: false,
    testFailure: null,
    repair: input.repair ?? null,
  };
}

/** The answered bucket and region; the questions come before anything that needs them. */
export function chosenBucket(context: FlowContext): { bucket: string; region: string } {
  if (context.bucket === null || context.region === null) throw new Error('the bucket question has not been answered');
  return { bucket: context.bucket, region: context.region };
}
