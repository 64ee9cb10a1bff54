// Walks every path of every setup flow: at each point where a flow waits for people, every answer,
// decision, cancel and failure is tried (restoring the persisted snapshot, as the runtime does), and every
// finished path is checked against the seed's rules, written here independently of the flows.
import { describe, expect, test } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import type { ClusterFacts, FlowEvent, FlowName, Prompt, StepName } from '../../flows/contract.ts';
import { flows } from '../../flows/index.ts';
import {
  APPROVER,
  REQUESTER,
  SESSION,
  advance,
  appliedSteps,
  cloneWorld,
  facts,
  inputFor,
  noticesOf,
  outputOf,
  promptOf,
  world,
  type Point,
  type World,
} from './harness.ts';

interface Variant {
  name: string;
  flow: FlowName;
  facts: ClusterFacts;
  /** Resources that already exist (a second run, or a half-done first one). */
  present: StepName[];
}

const EVERYTHING: StepName[] = [
  'createBucket', 'createRamUser', 'ensurePolicy', 'attachPolicy', 'createNamespace',
  'createAccessKeySecret', 'installAddon', 'createBackupVault', 'testBackup',
];
const buckets = [
  { name: 'cnfs-oss-team', region: 'cn-hangzhou' },
  { name: 'team-data', region: 'cn-hangzhou' },
  { name: 'archive-sh', region: 'cn-shanghai' },
];
const older = { installedVersion: '1.7.6', latestVersion: '1.8.7' };
const current = { installedVersion: '1.8.7', latestVersion: '1.8.7' };

const allOff = { cloudBackup: 'off', oss: 'off', snapshot: 'off' } as const;

const VARIANTS: Variant[] = [
  { name: 'managed, empty account, services off', flow: 'managed', facts: facts({ services: allOff }), present: [] },
  {
    name: 'managed, buckets, old add-on, role missing',
    flow: 'managed',
    facts: facts({ buckets, addon: older, managedRoleAuthorized: false }),
    present: [],
  },
  { name: 'managed, second run', flow: 'managed', facts: facts({ buckets, addon: current }), present: EVERYTHING },
  {
    name: 'serverless pro',
    flow: 'managed',
    facts: facts({ profile: 'Serverless', clusterSpec: 'ack.pro.small', addon: current, buckets: buckets.slice(0, 1) }),
    present: [],
  },
  { name: 'edge', flow: 'managed', facts: facts({ profile: 'Edge', buckets: buckets.slice(2) }), present: [] },
  {
    name: 'managed in Ulanqab',
    flow: 'managed',
    facts: facts({ region: 'cn-wulanchabu', apiGatewayAuthorized: false, managedRoleAuthorized: false }),
    present: [],
  },
  { name: 'dedicated, empty account, services off', flow: 'dedicated', facts: facts({ clusterType: 'Kubernetes', clusterId: 'c-test-dedicated', services: allOff }), present: [] },
  {
    name: 'dedicated, old add-on, half done',
    flow: 'dedicated',
    facts: facts({ clusterType: 'Kubernetes', clusterId: 'c-test-dedicated', buckets, addon: older }),
    present: ['createRamUser', 'ensurePolicy', 'attachPolicy'],
  },
  {
    name: 'dedicated in Heyuan',
    flow: 'dedicated',
    facts: facts({ clusterType: 'Kubernetes', clusterId: 'c-test-dedicated', region: 'cn-heyuan', apiGatewayAuthorized: false }),
    present: [],
  },
  {
    name: 'dedicated, second run with old add-on',
    flow: 'dedicated',
    facts: facts({ clusterType: 'Kubernetes', clusterId: 'c-test-dedicated', buckets: buckets.slice(1, 2), addon: older }),
    present: EVERYTHING,
  },
  {
    name: 'registered in Guangzhou',
    flow: 'registered',
    facts: facts({
      clusterType: 'ExternalKubernetes',
      clusterId: 'c-test-registered',
      region: 'cn-guangzhou',
      apiGatewayAuthorized: false,
      addon: older,
      buckets: buckets.slice(1),
      services: { cloudBackup: 'off', oss: 'on', snapshot: 'off' },
    }),
    present: [],
  },
  {
    name: 'registered, second run',
    flow: 'registered',
    facts: facts({ clusterType: 'ExternalKubernetes', clusterId: 'c-test-registered', buckets, addon: current }),
    present: EVERYTHING,
  },
];

interface Branch {
  label: string;
  event: FlowEvent;
  prepare?: (w: World) => void;
  /** The event must change nothing; `warning` says whether a warning notice is expected. */
  unchanged?: { warning: boolean };
}

const BAD_ANSWER: Record<string, string> = {
  region: 'Hangzhou',
  bucket: 'Bad_Bucket',
  bucketScope: 'some buckets',
  managedRole: 'yes',
  apiGateway: 'later',
  testBackupFailed: 'maybe',
};

function branchesAt(prompt: Prompt): Branch[] {
  const cancel: Branch = { label: 'cancel', event: { type: 'CANCEL', by: REQUESTER } };
  if (prompt.kind === 'approval') {
    const { approvalId } = prompt;
    const step = prompt.request.step;
    // A first test backup may also fail as a backup: the component's policy (someone changed it since its step) or another cause.
    const testFailures: Branch[] = step === 'testBackup' && approvalId.endsWith('/1')
      ? [
          { label: 'approve testBackup, backup fails (policy)', event: { type: 'APPROVE', approvalId, by: APPROVER }, prepare: (w) => { w.failTest = 'updatePolicy'; w.present.delete('ensurePolicy'); } },
          { label: 'approve testBackup, backup fails (other)', event: { type: 'APPROVE', approvalId, by: APPROVER }, prepare: (w) => (w.failTest = 'fixAndRetry') },
        ]
      : [];
    return [
      { label: `approve ${step}`, event: { type: 'APPROVE', approvalId, by: APPROVER } },
      { label: `approve ${step}, apply fails`, event: { type: 'APPROVE', approvalId, by: APPROVER }, prepare: (w) => w.failApply.add(step) },
      ...testFailures,
      { label: `deny ${step}`, event: { type: 'DENY', approvalId, by: APPROVER } },
      { label: `expire ${step}`, event: { type: 'EXPIRE', approvalId } },
      { label: `stale approve ${step}`, event: { type: 'APPROVE', approvalId: `${approvalId}-old`, by: APPROVER }, unchanged: { warning: false } },
      cancel,
    ];
  }
  const answer = (value: string): FlowEvent => ({ type: 'ANSWER', questionId: prompt.questionId, value, by: REQUESTER });
  const branches: Branch[] = [
    ...prompt.choices
      .filter((c) => c.value !== 'recheck')
      .map((c) => ({ label: `${prompt.questionId}=${c.value}`, event: answer(c.value) })),
    { label: `${prompt.questionId} bad answer`, event: answer(BAD_ANSWER[prompt.questionId]!), unchanged: { warning: true } },
    cancel,
  ];
  if (prompt.freeText) {
    const typed = prompt.questionId === 'region' ? 'cn-beijing' : 'team-backups-new';
    branches.push({ label: `${prompt.questionId} typed ${typed}`, event: answer(typed) });
  }
  if (prompt.questionId === 'managedRole' || prompt.questionId === 'apiGateway') {
    const field = prompt.questionId === 'managedRole' ? 'managedRoleAuthorized' : 'apiGatewayAuthorized';
    branches.push(
      { label: `${prompt.questionId} recheck, still missing`, event: answer('recheck'), unchanged: { warning: true } },
      { label: `${prompt.questionId} recheck, read fails`, event: answer('recheck'), prepare: (w) => (w.failRead = true), unchanged: { warning: true } },
      { label: `${prompt.questionId} recheck, authorized`, event: answer('recheck'), prepare: (w) => (w.facts = { ...w.facts, [field]: true }) },
    );
  }
  return branches;
}

/** The seed's rules (DESIGN "Cluster types"), restated: the steps a finished setup applies, in order. */
function expectedPlan(variant: Variant, bucket: string): StepName[] {
  const { addon, services } = variant.facts;
  // The seed's prerequisites first: a service that is off is activated before anything else is changed.
  const steps: StepName[] = [
    ...(services.oss === 'off' ? ['activateOss' as const] : []),
    ...(services.cloudBackup === 'off' ? ['activateCloudBackup' as const] : []),
    ...(services.snapshot === 'off' ? ['activateSnapshot' as const] : []),
  ];
  if (!variant.facts.buckets.some((b) => b.name === bucket)) steps.push('createBucket');
  const needsAccessKey = variant.flow !== 'managed' || !bucket.startsWith('cnfs-oss-');
  // Registered clusters keep the AccessKey in kube-system (onectl's Secret), which always exists: no csdr first.
  if (needsAccessKey) steps.push('createRamUser', 'ensurePolicy', 'attachPolicy', ...(variant.flow === 'registered' ? [] : ['createNamespace' as const]), 'createAccessKeySecret');
  if (addon.installedVersion !== addon.latestVersion) steps.push('installAddon');
  if (needsAccessKey && addon.installedVersion !== null) steps.push('restartMigrateController');
  steps.push('createBackupVault', 'testBackup');
  return steps;
}

function expectedApplied(variant: Variant, bucket: string): StepName[] {
  const present = new Set(variant.present);
  return expectedPlan(variant, bucket).filter((step) =>
    step === 'restartMigrateController' ? !present.has('createAccessKeySecret') : !present.has(step),
  );
}

function contextOf(point: Point) {
  return point.snapshot.context as { bucket: string | null; completed: { step: StepName }[] };
}

function checkApprovals(point: Point) {
  point.log.forEach((entry, index) => {
    if (entry.kind !== 'apply') return;
    const decision = point.log.slice(0, index).findLast((e) => e.kind === 'event');
    expect(decision?.kind).toBe('event');
    if (decision?.kind !== 'event') return;
    expect(decision.event.type).toBe('APPROVE');
    expect(decision.prompt?.kind).toBe('approval');
    if (decision.event.type !== 'APPROVE' || decision.prompt?.kind !== 'approval') return;
    expect(decision.event.approvalId).toBe(decision.prompt.approvalId);
    const shown = point.log.slice(0, index).filter((e) => e.kind === 'event' && e.prompt?.kind === 'approval' && e.prompt.request.step === entry.request.step && e.event.type === 'APPROVE');
    expect(decision.prompt.approvalId).toBe(`${SESSION}/${entry.request.step}/${shown.length}`);
    expect(entry.request).toEqual(decision.prompt.request);
    expect(decision.prompt.preview.upToDate).toBe(false);
  });
}

/** After a failed test backup people may go round again: only the policy step and the test backup repeat. */
function checkRetries(point: Point, expected: StepName[]) {
  const applied = appliedSteps(point);
  const first = applied.indexOf('testBackup');
  expect(applied.slice(0, first + 1)).toEqual(expected);
  for (const step of applied.slice(first + 1)) expect(['ensurePolicy', 'testBackup']).toContain(step);
  const output = outputOf(point);
  if (output.status === 'complete') expect(applied.at(-1)).toBe('testBackup');
  if (output.status === 'failed' && point.log.at(-2)?.kind === 'event') {
    const last = point.log.findLast((e) => e.kind === 'event');
    if (last?.kind === 'event' && last.event.type === 'ANSWER') expect(output.message).toMatch(/^❌ Stopped: the test backup failed: /);
  }
}

const answeredWith = (point: Point, questionId: string, value: string) =>
  point.log.some((e) => e.kind === 'event' && e.event.type === 'ANSWER' && e.event.questionId === questionId && e.event.value === value && e.prompt?.kind === 'question');

const answered = (point: Point, questionId: string) =>
  point.log.some((e) => e.kind === 'event' && e.event.type === 'ANSWER' && e.event.questionId === questionId && e.prompt?.kind === 'question');

function testSkipped(point: Point): boolean {
  return point.log.some((e) => e.kind === 'event' && (e.event.type === 'DENY' || e.event.type === 'EXPIRE') && e.prompt?.kind === 'approval' && e.prompt.request.step === 'testBackup' && e.prompt.approvalId === (e.event as { approvalId: string }).approvalId);
}

function checkFinished(variant: Variant, point: Point, waitedOn: Prompt) {
  const output = outputOf(point);
  const applied = appliedSteps(point);
  const bucket = contextOf(point).bucket;
  checkApprovals(point);
  const testFailed = point.log.some((e) => e.kind === 'event' && e.prompt?.kind === 'question' && e.prompt.questionId === 'testBackupFailed');
  if (bucket !== null && testFailed) {
    const expected = expectedApplied(variant, bucket);
    // A denied or expired retest completes the setup, as a denied first test does.
    if (output.status === 'complete' && testSkipped(point)) {
      expect(output.message).toContain('No test backup was run');
      return;
    }
    checkRetries(point, expected);
    expect(answered(point, 'testBackupFailed') || output.status === 'cancelled').toBe(true);
    return;
  }
  if (bucket === null || (waitedOn.kind === 'question' && waitedOn.questionId === 'bucketScope' && output.status === 'cancelled')) {
    // Ended before the plan: nothing applied, nothing planned.
    expect(output.status).toBe('cancelled');
    expect(applied).toEqual([]);
    expect(output.message).toContain('Nothing was changed.');
    expect(output.message).not.toContain('Not done:');
    return;
  }
  const skipped = testSkipped(point);
  const expected = expectedApplied(variant, bucket).filter((s) => !skipped || s !== 'testBackup');
  const plan = expectedPlan(variant, bucket).filter((s) => !skipped || s !== 'testBackup');
  if (output.status === 'complete') {
    expect(applied).toEqual(expected);
    // A skipped API Gateway authorization is a manual step left: the ending says so instead of "complete".
    if (answeredWith(point, 'apiGateway', 'skip')) {
      expect(output.message).toMatch(/^⚠️ Backup center set up for .* — one manual step left: authorize Cloud Backup to use API Gateway in cn-/);
      expect(output.message).not.toContain('setup complete');
    } else {
      expect(output.message.startsWith('✅ Backup center setup complete')).toBe(true);
    }
    expect(output.completed.map((o) => o.step)).toEqual(plan.filter((s) => s !== 'restartMigrateController' || applied.includes(s)));
    // The test backup has a line of its own, right under the headline.
    const test = output.completed.find((o) => o.step === 'testBackup');
    if (test) expect(output.message.split('\n')[1]).toBe(`✅ ${test.detail}`);
    else expect(output.message).toContain('No test backup was run');
    return;
  }
  if (waitedOn.kind === 'question') {
    // Every prerequisite question comes before the plan: a question after it ends nothing but complete setups.
    expect(output.status).toBe('complete');
    expect(applied).toEqual(expected);
    return;
  }
  const stoppedAt = waitedOn.request.step;
  const upTo = expected.indexOf(stoppedAt);
  expect(upTo).toBeGreaterThanOrEqual(0);
  expect(applied).toEqual(expected.slice(0, output.status === 'failed' ? upTo + 1 : upTo));
  const changed = output.completed.filter((o) => o.outcome !== 'already present');
  expect(changed.map((o) => o.step)).toEqual(expected.slice(0, upTo));
  expect(output.message).toContain(changed.length > 0 ? 'Changed:' : 'Nothing was changed.');
  for (const outcome of changed) expect(output.message).toContain(`• ${outcome.detail}`);
  const afterNotDone = output.message.split('Not done:\n')[1]?.split('\n') ?? [];
  const notDone = afterNotDone.slice(0, afterNotDone.findIndex((l) => !l.startsWith('• ')) >>> 0);
  expect(notDone).toHaveLength(plan.length - plan.indexOf(stoppedAt));
}

const STATUS_OF: Record<string, string> = { deny: 'denied', expire: 'expired', cancel: 'cancelled' };

interface Coverage {
  paths: number;
  statuses: Set<string>;
  approvalsShown: Set<StepName>;
  questionsAsked: Set<string>;
}

async function explore(machine: AnyStateMachine, variant: Variant, point: Point, seen: Set<string>, coverage: Coverage) {
  const prompt = promptOf(point.snapshot);
  expect(prompt, `waiting in ${JSON.stringify(point.snapshot.value)} without a prompt`).not.toBeNull();
  if (!prompt) return;
  if (prompt.kind === 'approval') coverage.approvalsShown.add(prompt.request.step);
  else coverage.questionsAsked.add(prompt.questionId);
  for (const branch of branchesAt(prompt)) {
    const w = cloneWorld(point.world);
    branch.prepare?.(w);
    const next = await advance(machine, inputFor(variant.facts), point, branch.event, w);
    const fresh = noticesOf(next, point.log.length);
    if (branch.unchanged) {
      expect(next.snapshot.value, branch.label).toEqual(point.snapshot.value);
      expect(next.snapshot.context, branch.label).toEqual(point.snapshot.context);
      expect(fresh.map((n) => (n.type === 'notice' ? n.level : n.type)), branch.label).toEqual(branch.unchanged.warning ? ['warning'] : []);
      continue;
    }
    if (next.snapshot.status === 'done') {
      coverage.paths++;
      coverage.statuses.add(outputOf(next).status);
      const decided = branch.label.split(' ')[0]!;
      // Denying (or letting expire) the test backup skips it: the setup completes, unproven, with a reminder.
      const skipsTest = prompt.kind === 'approval' && prompt.request.step === 'testBackup' && (decided === 'deny' || decided === 'expire');
      if (decided in STATUS_OF) expect(outputOf(next).status).toBe(skipsTest ? 'complete' : STATUS_OF[decided]);
      if (branch.label.endsWith('apply fails')) {
        expect(outputOf(next).status).toBe('failed');
        expect(outputOf(next).message).toContain('failed: ');
        expect(outputOf(next).message).toContain('Forbidden.RAM');
      }
      checkFinished(variant, next, prompt);
      continue;
    }
    const key = JSON.stringify([next.snapshot.value, next.snapshot.context]);
    expect(seen.has(key), `${branch.label} went back to an earlier point`).toBe(false);
    await explore(machine, variant, next, new Set([...seen, key]), coverage);
  }
}

const coverageByFlow = new Map<FlowName, Coverage>();

describe.each(VARIANTS)('every path: $name', (variant) => {
  test('applies exactly the steps the seed asks for, each only after its own approval', async () => {
    const machine = flows[variant.flow];
    const coverage = coverageByFlow.get(variant.flow) ?? { paths: 0, statuses: new Set(), approvalsShown: new Set(), questionsAsked: new Set() };
    coverageByFlow.set(variant.flow, coverage);
    const start = await advance(machine, inputFor(variant.facts), null, null, world(variant.facts, variant.present));
    const before = coverage.paths;
    await explore(machine, variant, start, new Set(), coverage);
    expect(coverage.paths - before).toBeGreaterThan(10);
  });
});

describe('the walk reached every state people can see', () => {
  const all: StepName[] = [...EVERYTHING, 'restartMigrateController', 'activateCloudBackup', 'activateSnapshot'];
  test.each(['managed', 'dedicated', 'registered'] as const)('%s', (flow) => {
    const coverage = coverageByFlow.get(flow)!;
    expect([...coverage.statuses].sort()).toEqual(['cancelled', 'complete', 'denied', 'expired', 'failed']);
    const shown = [...all, ...(flow === 'registered' ? [] : ['activateOss' as const])];
    expect([...coverage.approvalsShown].sort()).toEqual(shown.filter((step) => flow !== 'registered' || step !== 'createNamespace').sort());
    const questions = flow === 'managed' ? ['apiGateway', 'bucket', 'managedRole', 'region', 'testBackupFailed'] : ['apiGateway', 'bucket', 'bucketScope', 'region', 'testBackupFailed'];
    expect([...coverage.questionsAsked].sort()).toEqual(questions);
  });
});
