// Test doubles for the flows' actors (a small fake world that remembers what exists) and a driver that
// runs a flow the way the session runtime does: one event at a time, restored from the persisted snapshot.
import { createActor, fromPromise, waitFor, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import type {
  AuthorizeInConsoleInput,
  ClusterFacts,
  FlowEvent,
  FlowInput,
  FlowNotice,
  FlowOutput,
  Prompt,
  ReadClusterInput,
  StepName,
  StepOutcome,
  StepPreview,
  StepRequest,
  TestBackupFailure,
} from '../../flows/contract.ts';

export const SESSION = 'session-1';
export const REQUESTER = 'slack:UREQ';
export const APPROVER = 'slack:UAPPROVER';

/** Cluster facts as the executor would read them; `overrides` picks the case. */
export function facts(overrides: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    clusterId: 'c-test-managed',
    name: 'test-cluster',
    region: 'cn-hangzhou',
    clusterType: 'ManagedKubernetes',
    profile: 'Default',
    clusterSpec: 'ack.pro.small',
    kubernetesVersion: '1.30.1-aliyun.1',
    storagePlugin: 'csi',
    addon: { installedVersion: null, latestVersion: '1.8.7' },
    buckets: [],
    vaults: [],
    managedRoleAuthorized: true,
    apiGatewayAuthorized: null,
    services: { cloudBackup: 'on', oss: 'on', snapshot: 'on' },
    ...overrides,
  };
}

export type Entry =
  | { kind: 'event'; event: FlowEvent; prompt: Prompt | null }
  | { kind: 'apply'; request: StepRequest }
  | { kind: 'notice'; notice: FlowNotice };

/** What exists in the fake account, and which calls fail. Cloned for every branch of a traversal. */
export interface World {
  present: Set<StepName>;
  facts: ClusterFacts;
  failApply: Set<StepName>;
  failPreview: Set<StepName>;
  failRead: boolean;
  /** The next test backup fails as a backup (the component's error), once, with this remedy. */
  failTest: TestBackupFailure['remedy'] | null;
}

export function world(clusterFacts: ClusterFacts, present: Iterable<StepName> = []): World {
  return { present: new Set(present), facts: clusterFacts, failApply: new Set(), failPreview: new Set(), failRead: false, failTest: null };
}

export function cloneWorld(w: World): World {
  return {
    present: new Set(w.present),
    facts: w.facts,
    failApply: new Set(w.failApply),
    failPreview: new Set(w.failPreview),
    failRead: w.failRead,
    failTest: w.failTest,
  };
}

export function actorsFor(w: World, log: Entry[]) {
  return {
    previewStep: fromPromise<StepPreview, StepRequest>(async ({ input }) => {
      if (w.failPreview.has(input.step)) throw new Error(`AccessDenied reading ${input.step}: the bot's RAM identity may not read it.`);
      // A restart always restarts: it is never "already present".
      const upToDate = input.step !== 'restartMigrateController' && w.present.has(input.step);
      return { step: input.step, upToDate, changes: [upToDate ? `${input.step} is already in place` : `${input.step} will change`] };
    }),
    applyStep: fromPromise<StepOutcome, StepRequest>(async ({ input }) => {
      log.push({ kind: 'apply', request: input });
      if (w.failApply.has(input.step)) throw new Error(`${input.step} failed: the service answered Forbidden.RAM (the bot may not do this).`);
      if (input.step === 'testBackup' && w.failTest) {
        const remedy = w.failTest;
        w.failTest = null;
        const failure: TestBackupFailure = { code: 'TestBackupFailed', remedy, message: 'ApplicationBackup csdr/test is Failed: «upload backup files to OSS bucket failed: …ErrorCode=AccessDenied…». Likely fix: …' };
        throw Object.assign(new Error(failure.message), failure);
      }
      const existed = w.present.has(input.step);
      w.present.add(input.step);
      return { step: input.step, outcome: existed ? 'updated' : 'created', detail: `${input.step} done` };
    }),
    readCluster: fromPromise<ClusterFacts, ReadClusterInput>(async () => {
      if (w.failRead) throw new Error('Could not read cluster c-test: the CS API timed out.');
      return w.facts;
    }),
    authorizeInConsole: fromPromise<void, AuthorizeInConsoleInput>(async ({ input }) => {
      w.facts = { ...w.facts, ...(input.authorization === 'managedRole' ? { managedRoleAuthorized: true } : { apiGatewayAuthorized: true }) };
    }),
  };
}

/** One settled point of a session: what the store would hold, plus what happened so far. */
export interface Point {
  snapshot: AnyMachineSnapshot;
  persisted: unknown;
  log: Entry[];
  world: World;
}

export function isSettled(snapshot: AnyMachineSnapshot): boolean {
  return snapshot.status !== 'active' || Object.keys(snapshot.children).length === 0;
}

/** Starts a flow (no `from`) or restores `from` and sends `event`; runs until it waits for people again. */
export async function advance(
  machine: AnyStateMachine,
  input: FlowInput,
  from: Point | null,
  event: FlowEvent | null,
  w: World,
): Promise<Point> {
  const log: Entry[] = from ? [...from.log] : [];
  const actor = createActor(
    machine.provide({ actors: actorsFor(w, log) }),
    from ? { snapshot: from.persisted as AnyMachineSnapshot, input } : { input },
  );
  actor.on('*', (notice) => log.push({ kind: 'notice', notice: notice as FlowNotice }));
  actor.start();
  if (event) {
    log.push({ kind: 'event', event, prompt: promptOf(actor.getSnapshot()) });
    actor.send(event);
  }
  const snapshot = await waitFor(actor, isSettled, { timeout: Infinity });
  const persisted = actor.getPersistedSnapshot();
  actor.stop();
  if (snapshot.status === 'error') throw snapshot.error;
  return { snapshot, persisted: JSON.parse(JSON.stringify(persisted)), log, world: w };
}

export function promptOf(snapshot: AnyMachineSnapshot): Prompt | null {
  return (snapshot.context as { prompt: Prompt | null }).prompt;
}

export function outputOf(point: Point): FlowOutput {
  return point.snapshot.output as FlowOutput;
}

export function noticesOf(point: Point, from = 0): FlowNotice[] {
  return point.log.slice(from).flatMap((e) => (e.kind === 'notice' ? [e.notice] : []));
}

export function appliedSteps(point: Point): StepName[] {
  return point.log.flatMap((e) => (e.kind === 'apply' ? [e.request.step] : []));
}

/** A scripted conversation: answers by question id, and a decision for every approval. */
export interface Script {
  answers: Partial<Record<string, string>>;
  decide?: (step: StepName) => 'approve' | 'deny' | 'expire' | 'cancel';
}

export async function runScript(machine: AnyStateMachine, input: FlowInput, w: World, script: Script): Promise<Point> {
  let point = await advance(machine, input, null, null, w);
  for (let turn = 0; turn < 50 && point.snapshot.status === 'active'; turn++) {
    const prompt = promptOf(point.snapshot);
    if (!prompt) throw new Error(`flow waits without a prompt in ${JSON.stringify(point.snapshot.value)}`);
    let event: FlowEvent;
    if (prompt.kind === 'question') {
      const value = script.answers[prompt.questionId] ?? prompt.choices[0]!.value;
      event = { type: 'ANSWER', questionId: prompt.questionId, value, by: REQUESTER };
    } else {
      const decision = script.decide?.(prompt.request.step) ?? 'approve';
      event =
        decision === 'approve'
          ? { type: 'APPROVE', approvalId: prompt.approvalId, by: APPROVER }
          : decision === 'deny'
            ? { type: 'DENY', approvalId: prompt.approvalId, by: APPROVER }
            : decision === 'expire'
              ? { type: 'EXPIRE', approvalId: prompt.approvalId }
              : { type: 'CANCEL', by: REQUESTER };
    }
    point = await advance(machine, input, point, event, w);
  }
  return point;
}

export function inputFor(clusterFacts: ClusterFacts): FlowInput {
  return { sessionId: SESSION, requester: REQUESTER, facts: clusterFacts };
}
