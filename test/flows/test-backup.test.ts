// The test backup in the flows: the last step of a setup, what a denial and a failed backup lead to, and the
// test-only session of `/backup-setup verify <cluster-id> --test-backup`.
import { describe, expect, test } from 'vitest';
import type { FlowEvent, Prompt, StepRequest } from '../../flows/contract.ts';
import { flows } from '../../flows/index.ts';
import { APPROVER, REQUESTER, advance, facts, inputFor, outputOf, promptOf, runScript, world, type Point } from './harness.ts';

const dedicated = facts({ clusterId: 'c-test-dedicated', name: 'prod', clusterType: 'Kubernetes', buckets: [{ name: 'team-data', region: 'cn-hangzhou' }] });
const answers = { bucket: 'team-data', bucketScope: 'bucket', apiGateway: 'skip' };

/** Answers every question (the suggested choice) and approves every step until the flow waits on `stop` or ends. */
async function until(point: Point, stop: (prompt: Prompt) => boolean, machine = flows.dedicated): Promise<Point> {
  for (;;) {
    const prompt = promptOf(point.snapshot);
    if (!prompt || point.snapshot.status !== 'active' || stop(prompt)) return point;
    const event: FlowEvent = prompt.kind === 'approval'
      ? { type: 'APPROVE', approvalId: prompt.approvalId, by: APPROVER }
      : { type: 'ANSWER', questionId: prompt.questionId, value: answers[prompt.questionId as keyof typeof answers] ?? prompt.choices[0]!.value, by: REQUESTER };
    point = await advance(machine, inputFor(dedicated), point, event, point.world);
  }
}

const isTest = (p: Prompt) => p.kind === 'approval' && p.request.step === 'testBackup';
const approvalOf = (point: Point) => promptOf(point.snapshot) as Extract<Prompt, { kind: 'approval' }>;

describe('the test backup in a setup', () => {
  test('is the last step, for the vault the setup made, with a name of the session', async () => {
    const start = await advance(flows.dedicated, inputFor(dedicated), null, null, world(dedicated));
    const at = approvalOf(await until(start, isTest));
    expect(at.request).toEqual<StepRequest>({
      step: 'testBackup',
      params: {
        clusterId: 'c-test-dedicated', vault: 'prod-backups', namespace: 'kube-public', backupName: 'backup-setup-test-session1-1', force: false,
        // Where the vault step's vault points: the executor tests that vault, whatever name it got.
        target: { bucket: 'team-data', prefix: '', region: 'cn-hangzhou', network: 'internal' },
      },
    });
  });

  test('denied: the setup completes, and says the test is still to do', async () => {
    const point = await runScript(flows.dedicated, inputFor(dedicated), world(dedicated), { answers, decide: (step) => (step === 'testBackup' ? 'deny' : 'approve') });
    const output = outputOf(point);
    expect(output.status).toBe('complete');
    expect(output.message).toMatch(/^✅ Backup center setup complete/);
    expect(output.message).toContain('Still to do:\n• No test backup was run (denied by <@slack:UAPPROVER>): `/backup-setup verify c-test-dedicated --test-backup` runs one when you are ready.');
  });

  test('failed on the policy: the policy step again, as its own request, then a new test with a new name', async () => {
    const w = world(dedicated);
    const atTest = await until(await advance(flows.dedicated, inputFor(dedicated), null, null, w), isTest);
    w.failTest = 'updatePolicy';
    w.present.delete('ensurePolicy');
    const failed = await advance(flows.dedicated, inputFor(dedicated), atTest, { type: 'APPROVE', approvalId: approvalOf(atTest).approvalId, by: APPROVER }, w);
    const question = promptOf(failed.snapshot) as Extract<Prompt, { kind: 'question' }>;
    expect(question.questionId).toBe('testBackupFailed');
    expect(question.text).toMatch(/^❌ The test backup failed: ApplicationBackup csdr\/test is Failed/);
    expect(question.choices.map((c) => c.value)).toEqual(['updatePolicy', 'retest', 'stop']);

    const fix = await advance(flows.dedicated, inputFor(dedicated), failed, { type: 'ANSWER', questionId: 'testBackupFailed', value: 'updatePolicy', by: REQUESTER }, w);
    expect(approvalOf(fix).approvalId).toBe('session-1/ensurePolicy/2');
    expect(approvalOf(fix).request).toMatchObject({ step: 'ensurePolicy', params: { fixesTest: 'backup-setup-test-session1-1' } });
    const retest = await advance(flows.dedicated, inputFor(dedicated), fix, { type: 'APPROVE', approvalId: approvalOf(fix).approvalId, by: APPROVER }, w);
    expect(approvalOf(retest).request).toMatchObject({ step: 'testBackup', params: { backupName: 'backup-setup-test-session1-2', force: true } });
    const done = await advance(flows.dedicated, inputFor(dedicated), retest, { type: 'APPROVE', approvalId: approvalOf(retest).approvalId, by: APPROVER }, w);
    expect(outputOf(done).status).toBe('complete');
    expect(outputOf(done).message.split('\n')[1]).toBe('✅ testBackup done');
  });
});

describe('the test backup alone (verify --test-backup)', () => {
  test('asks its approval at once, runs whatever is on record, and closes with the test line', async () => {
    const start = await advance(flows.testBackup, inputFor(dedicated), null, null, world(dedicated));
    expect(approvalOf(start).request).toMatchObject({ step: 'testBackup', params: { vault: 'prod-backups', force: true } });
    expect(approvalOf(start).request.params).not.toHaveProperty('target');
    const done = await advance(flows.testBackup, inputFor(dedicated), start, { type: 'APPROVE', approvalId: approvalOf(start).approvalId, by: APPROVER }, start.world);
    expect(outputOf(done)).toMatchObject({ status: 'complete', message: '✅ testBackup done\nNothing was changed.' });
  });

  test('a denial stops it; a failed backup offers another test, not a policy change it does not own', async () => {
    const start = await advance(flows.testBackup, inputFor(dedicated), null, null, world(dedicated));
    const denied = await advance(flows.testBackup, inputFor(dedicated), start, { type: 'DENY', approvalId: approvalOf(start).approvalId, by: APPROVER }, start.world);
    expect(outputOf(denied).status).toBe('denied');

    const w = world(dedicated);
    w.failTest = 'updatePolicy';
    const again = await advance(flows.testBackup, inputFor(dedicated), null, null, w);
    const failed = await advance(flows.testBackup, inputFor(dedicated), again, { type: 'APPROVE', approvalId: approvalOf(again).approvalId, by: APPROVER }, w);
    expect((promptOf(failed.snapshot) as Extract<Prompt, { kind: 'question' }>).choices.map((c) => c.value)).toEqual(['retest', 'stop']);
    const stopped = await advance(flows.testBackup, inputFor(dedicated), failed, { type: 'ANSWER', questionId: 'testBackupFailed', value: 'stop', by: REQUESTER }, w);
    expect(outputOf(stopped)).toMatchObject({ status: 'failed', message: expect.stringMatching(/^❌ Stopped: the test backup failed: /) });
  });
});
