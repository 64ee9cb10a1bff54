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

/**
 * Which machine runs a session: a setup machine per cluster kind (managed also serves Serverless Pro and Edge), or
 * `testBackup`, the test backup alone that `/backup-setup verify <cluster-id> --test-backup` asks for.
 */
export type FlowName = 'managed' | 'dedicated' | 'registered' | 'testBackup';

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
  /** The cluster's backup vaults (BackupLocations in csdr) and the bucket each uses: a second run keeps to them. */
  vaults: VaultFacts[];
  /** Managed kinds only: the `addon.aliyuncsmanagedbackuprestorerole.token` Secret exists in kube-system. */
  managedRoleAuthorized: boolean | null;
  /** cn-wulanchabu, cn-heyuan, cn-guangzhou only: the Cloud Backup API Gateway role exists. Else null. */
  apiGatewayAuthorized: boolean | null;
  /** The seed's service prerequisites, for the cluster's account and region (executor/service-state.ts says how each is read). */
  services: Record<ServiceName, ServiceState>;
  /** Sandbox only: console-only authorizations can be done from the chat ("Authorize in the emulated console"). */
  emulatedConsole?: boolean;
}

export interface VaultFacts {
  name: string;
  bucket: string;
  region: string;
}

/** The services the backup center needs activated (seed "Prerequisites"): Cloud Backup, OSS, the ECS snapshot service. */
export type ServiceName = 'cloudBackup' | 'oss' | 'snapshot';
export type ServiceState = 'on' | 'off';

/** Console-only authorizations the bot checks but cannot grant itself. */
export type ConsoleAuthorization = 'managedRole' | 'apiGateway';

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
  /** Activate a service that is off (OpenHbrService, OpenOssService, OpenSnapshotService): it cannot be closed again. */
  activateCloudBackup: ActivateServiceParams;
  activateOss: ActivateServiceParams;
  activateSnapshot: ActivateServiceParams;
  createBucket: { bucket: string; region: string };
  createRamUser: { userName: string };
  ensurePolicy: {
    policyName: string;
    document: PolicyDocument;
    /** The policy serves several clusters (onectl's registered policy): a new version keeps every grant it has. */
    shared?: boolean;
    /** Set when the step runs again for a failed test backup (named here): a request of its own, run once more. */
    fixesTest?: string;
    /** The cluster's vaults and their buckets: a new version that takes away access to one of them is flagged. */
    vaults?: VaultFacts[];
  };
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
  testBackup: {
    clusterId: string;
    /** The backup vault (BackupLocation in csdr) the test backup is written to. */
    vault: string;
    /** The namespace backed up: small, in every cluster, nothing secret in it; the backup only reads it. */
    namespace: string;
    /** The ApplicationBackup's name: unique per session and attempt (a deleted backup's name stays taken). */
    backupName: string;
    /** Run even when the vault records a passed test of the current configuration. */
    force: boolean;
    /**
     * Where the setup's vault points (its createBackupVault params): the vault that points there is tested, whatever its
     * name (the vault step may keep an existing vault or take `<name>-2` …, flows/domain/vault.ts). Absent for the test alone.
     */
    target?: { bucket: string; prefix: string; region: string; network: NetworkType };
  };
}

export interface ActivateServiceParams {
  service: ServiceName;
  /** The cluster's region: the snapshot service is activated per region; Cloud Backup and OSS per account. */
  region: string;
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
  /** This change is riskier than the step usually is (it revokes access a backup vault uses): the approval says so. */
  raisedRisk?: { level: 'high'; reason: string };
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
  /** A Fix of drift on a cluster set up before: its answers are known and only what drifted is planned. */
  repair?: Repair;
}

/** What a Fix repairs (src/watch/drift.ts, repairOf): the steps of the drifted requirements, on the vault's bucket as it was. */
export interface Repair {
  steps: StepName[];
  bucket: string;
  region: string;
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

/** `fix`: the Fix button of a drift message (src/watch/), which no flow asks. */
export type QuestionId = 'region' | 'bucket' | 'bucketScope' | 'managedRole' | 'apiGateway' | 'testBackupFailed' | 'confirmPlan' | 'fix';

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

/**
 * How the executor's testBackup step fails when the backup itself failed (not the bot's own call): the flow then asks
 * what to do instead of stopping. `updatePolicy`: the component's RAM policy refused it, so the policy step can fix it.
 */
export interface TestBackupFailure {
  code: 'TestBackupFailed';
  remedy: 'updatePolicy' | 'fixAndRetry';
  message: string;
}

export function isTestBackupFailure(error: unknown): error is TestBackupFailure {
  const e = error as Partial<TestBackupFailure> | null;
  return typeof e === 'object' && e !== null && e.code === 'TestBackupFailed' && (e.remedy === 'updatePolicy' || e.remedy === 'fixAndRetry') && typeof e.message === 'string';
}

/** Actors a flow invokes; the executor supplies real ones through `machine.provide({ actors })`. */
export interface FlowActors {
  previewStep: (request: StepRequest) => Promise<StepPreview>;
  applyStep: (request: StepRequest) => Promise<StepOutcome>;
  /** Re-reads the cluster (after the user says they did a console step). */
  readCluster: (clusterId: string) => Promise<ClusterFacts>;
  /** Sandbox only: does a console-only authorization in the emulated console. */
  authorizeInConsole: (input: AuthorizeInConsoleInput) => Promise<void>;
}

export interface AuthorizeInConsoleInput {
  authorization: ConsoleAuthorization;
  clusterId: string;
  region: string;
}

/** Input of the `readCluster` actor: the flows pass the cluster id; the session runtime also accepts `{ clusterId }`. */
export type ReadClusterInput = string | { clusterId: string };
