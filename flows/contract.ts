// The contract between the pure flows (this folder) and the outside world (executor, session runtime,
// chat adapters). Flows import nothing but this, xstate, and their own pure helpers.

/** CS DescribeClusterDetail's classification, reduced to the cases the seed distinguishes. */
export type ClusterKind =
  | 'managed'
  | 'serverless-pro'
  | 'serverless-basic'
  | 'edge'
  | 'dedicated'
  | 'registered';

/** Which setup machine handles a cluster kind (managed also serves Serverless Pro and Edge). */
export type FlowName = 'managed' | 'dedicated' | 'registered';

export interface Bucket {
  name: string;
  region: string;
}

/** Everything the flows need to know about a cluster, read (never changed) by the executor. */
export interface ClusterFacts {
  clusterId: string;
  name: string;
  region: string;
  /** CS `cluster_type`: ManagedKubernetes | Kubernetes | ExternalKubernetes */
  clusterType: string;
  /** CS `profile` (Default | Edge | Serverless | Lingjun), only for ManagedKubernetes */
  profile: string;
  /** CS `cluster_spec` (ack.standard = Basic, ack.pro.* = Pro) */
  clusterSpec: string;
  /** CS `current_version`, e.g. "1.30.1-aliyun.1" */
  kubernetesVersion: string;
  /** From the cluster's add-ons: `flexvolume` installed means FlexVolume, `csi-plugin` means CSI. */
  storagePlugin: 'csi' | 'flexvolume' | 'none';
  /** migrate-controller as installed (null when absent) and the latest version CS offers. */
  addon: { installedVersion: string | null; latestVersion: string };
  /** Buckets of the account (name + region), used to suggest a default. */
  buckets: Bucket[];
  /** Managed kinds only: the `addon.aliyuncsmanagedbackuprestorerole.token` Secret exists in kube-system. */
  managedRoleAuthorized: boolean | null;
  /** cn-wulanchabu, cn-heyuan, cn-guangzhou only: the Cloud Backup API Gateway role exists. Else null. */
  apiGatewayAuthorized: boolean | null;
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string | string[];
}

export interface PolicyDocument {
  Version: '1';
  Statement: PolicyStatement[];
}

export type NetworkType = 'internal' | 'public';

/** Parameters of every privileged (approval-gated) step, by step name. */
export interface StepParamsByName {
  createBucket: { bucket: string; region: string };
  createRamUser: { userName: string };
  /** `shared`: the policy serves several clusters (onectl's registered policy): a new version keeps every grant it has. */
  ensurePolicy: { policyName: string; document: PolicyDocument; shared?: boolean };
  attachPolicy: { policyName: string; userName: string };
  createAccessKeySecret: {
    clusterId: string;
    userName: string;
    namespace: string;
    secretName: string;
    /** Other add-ons read the same Secret (onectl's kube-system/alibaba-addon-secret): keep its other keys. */
    shared?: boolean;
  };
  createNamespace: { clusterId: string; namespace: string };
  installAddon: { clusterId: string; addon: string; version: string; installedVersion: string | null };
  restartMigrateController: { clusterId: string; namespace: string; deployment: string };
  createBackupVault: {
    clusterId: string;
    /** The name asked for; when a deleted vault had it, the executor takes the next of `<name>-2` … (vault.ts). */
    name: string;
    bucket: string;
    prefix: string;
    region: string;
    network: NetworkType;
  };
}

export type StepName = keyof StepParamsByName;

export type StepRequest = { [K in StepName]: { step: K; params: StepParamsByName[K] } }[StepName];

/** What a step would change, computed from a read of current state before the approval. */
export interface StepPreview {
  step: StepName;
  /** True when current state already matches: no approval is asked and nothing is changed. */
  upToDate: boolean;
  /** Human-readable lines, one per change ("create RAM user ack-backup-c-1"), or the reason it is up to date. */
  changes: string[];
}

export type StepOutcomeKind = 'created' | 'updated' | 'already present';

export interface StepOutcome {
  step: StepName;
  outcome: StepOutcomeKind;
  /** One line for the thread, never a secret. */
  detail: string;
}

/** A platform-qualified user id, e.g. "slack:U012AB" or "dingtalk:manager123". */
export type UserId = string;

export interface FlowInput {
  sessionId: string;
  requester: UserId;
  facts: ClusterFacts;
}

/** The one thing a waiting flow needs from people right now. Chat renders it; clicks answer it. */
export type Prompt =
  | {
      kind: 'question';
      questionId: QuestionId;
      text: string;
      /** Valid choices, suggested default first. */
      choices: { label: string; value: string }[];
      freeText: boolean;
    }
  | {
      kind: 'approval';
      approvalId: string;
      request: StepRequest;
      preview: StepPreview;
    };

export type QuestionId = 'region' | 'bucket' | 'bucketScope' | 'managedRole' | 'apiGateway' | 'confirmPlan';

/** Events people (through the session runtime) send to a flow. */
export type FlowEvent =
  | { type: 'ANSWER'; questionId: QuestionId; value: string; by: UserId }
  | { type: 'APPROVE'; approvalId: string; by: UserId }
  | { type: 'DENY'; approvalId: string; by: UserId }
  | { type: 'EXPIRE'; approvalId: string }
  | { type: 'CANCEL'; by: UserId };

/** Events a flow emits (xstate `emit`) for the runtime to post in the thread. */
export type FlowNotice =
  | { type: 'notice'; level: 'info' | 'warning'; text: string }
  | { type: 'plan'; title: string; lines: string[] }
  | { type: 'stepDone'; outcome: StepOutcome };

export type FlowStatus = 'complete' | 'denied' | 'cancelled' | 'expired' | 'unsupported' | 'failed' | 'abandoned';

export interface FlowOutput {
  status: FlowStatus;
  /** The closing message. A complete setup's message begins "✅ Backup center setup complete". */
  message: string;
  completed: StepOutcome[];
  /** Cancelled while this step was being applied: how far it got is for the session runtime to say. */
  interrupted?: StepRequest;
}

/** Actors a flow invokes; the executor supplies real ones through `machine.provide({ actors })`. */
export interface FlowActors {
  previewStep: (request: StepRequest) => Promise<StepPreview>;
  applyStep: (request: StepRequest) => Promise<StepOutcome>;
  /** Re-reads the cluster (after the user says they did a console step). */
  readCluster: (clusterId: string) => Promise<ClusterFacts>;
}

/** Input of the `readCluster` actor: the flows pass the cluster id; the session runtime also accepts `{ clusterId }`. */
export type ReadClusterInput = string | { clusterId: string };
