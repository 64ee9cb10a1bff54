// What people see when they type a bad answer, and the closing messages of flows that stop early.
import { createActor, fromPromise, waitFor } from 'xstate';
import { describe, expect, test } from 'vitest';
import type { FlowEvent, FlowNotice, FlowOutput, Prompt, StepOutcome, StepPreview, StepRequest } from '../../flows/contract.ts';
import { flows } from '../../flows/index.ts';
import { APPROVER, REQUESTER, SESSION, advance, facts, inputFor, noticesOf, outputOf, promptOf, runScript, world } from './harness.ts';

const buckets = [
  { name: 'team-data', region: 'cn-hangzhou' },
  { name: 'archive-sh', region: 'cn-shanghai' },
];
const dedicated = facts({ clusterId: 'c-test-dedicated', name: 'prod', clusterType: 'Kubernetes', buckets });

async function answerAt(questionId: 'region' | 'bucket' | 'bucketScope', value: string) {
  const w = world(dedicated);
  const answers: FlowEvent[] = [
    { type: 'ANSWER', questionId: 'region', value: 'cn-hangzhou', by: REQUESTER },
    { type: 'ANSWER', questionId: 'bucket', value: 'team-data', by: REQUESTER },
  ];
  let point = await advance(flows.dedicated, inputFor(dedicated), null, null, w);
  for (const event of answers) {
    if (event.type === 'ANSWER' && event.questionId === questionId) break;
    point = await advance(flows.dedicated, inputFor(dedicated), point, event, w);
  }
  const before = point;
  const after = await advance(flows.dedicated, inputFor(dedicated), point, { type: 'ANSWER', questionId, value, by: REQUESTER }, w);
  expect(after.snapshot.value).toEqual(before.snapshot.value);
  expect(after.snapshot.context).toEqual(before.snapshot.context);
  return noticesOf(after, before.log.length);
}

const RULES =
  'OSS bucket names are 3–63 characters of lowercase letters, digits and hyphens (-), starting and ending with a letter or digit';

describe('bad answers are explained and change nothing', () => {
  test.each([
    ['bucket', 'Bad_Bucket', `\`Bad_Bucket\` contains \`B\`, \`_\`, which bucket names may not contain. ${RULES}. Try \`bad-bucket\`.`],
    ['bucket', 'my backups', `\`my backups\` contains a space, which bucket names may not contain. ${RULES}. Try \`my-backups\`.`],
    ['bucket', 'ab', `\`ab\` is 2 characters long. ${RULES}.`],
    ['bucket', 'x'.repeat(64), `\`${'x'.repeat(64)}\` is 64 characters long. ${RULES}. Try \`${'x'.repeat(63)}\`.`],
    ['bucket', '-backups', `\`-backups\` starts with a hyphen. ${RULES}. Try \`backups\`.`],
    ['bucket', 'backups-', `\`backups-\` ends with a hyphen. ${RULES}. Try \`backups\`.`],
    ['bucket', '   ', `The bucket name is empty. ${RULES}; type one, e.g. \`cnfs-oss-backup\`.`],
    [
      'bucket',
      'archive-sh',
      'Bucket `archive-sh` already exists in cn-shanghai, not in cn-hangzhou (the region you chose). Pick a bucket in cn-hangzhou or type a new name; ' +
        'to use `archive-sh`, cancel and start again choosing region cn-shanghai.',
    ],
    ['region', 'Hangzhou', '`Hangzhou` is not a region id: region ids are lowercase words joined by hyphens, like `cn-hangzhou`. Did you mean `cn-hangzhou`?'],
    ['region', 'cn-hangzou', '`cn-hangzou` is not an Alibaba Cloud region with OSS. Did you mean `cn-hangzhou`?'],
    ['region', 'mars-north-1', '`mars-north-1` is not an Alibaba Cloud region with OSS. Type a region id such as `cn-hangzhou`, or pick one of the choices.'],
    ['bucketScope', 'some', '"some" is not an answer to this question: choose "Only bucket team-data (recommended)" or "All buckets".'],
  ] as const)('%s = %j', async (questionId, value, message) => {
    expect(await answerAt(questionId, value)).toEqual([{ type: 'notice', level: 'warning', text: message }]);
  });

  test('an answer to another question changes nothing and says nothing', async () => {
    const w = world(dedicated);
    const start = await advance(flows.dedicated, inputFor(dedicated), null, null, w);
    const after = await advance(flows.dedicated, inputFor(dedicated), start, { type: 'ANSWER', questionId: 'bucket', value: 'team-data', by: REQUESTER }, w);
    expect(after.snapshot.context).toEqual(start.snapshot.context);
    expect(noticesOf(after, start.log.length)).toEqual([]);
  });

  test('a typed answer is trimmed', async () => {
    const w = world(dedicated);
    const start = await advance(flows.dedicated, inputFor(dedicated), null, null, w);
    const after = await advance(flows.dedicated, inputFor(dedicated), start, { type: 'ANSWER', questionId: 'region', value: ' cn-beijing ', by: REQUESTER }, w);
    expect((after.snapshot.context as { region: string }).region).toBe('cn-beijing');
    expect(promptOf(after.snapshot)).toMatchObject({ kind: 'question', questionId: 'bucket' });
  });
});

describe('questions offer the suggested default first', () => {
  test('region: the cluster region, then the other regions of existing buckets', async () => {
    const start = await advance(flows.dedicated, inputFor(dedicated), null, null, world(dedicated));
    expect(promptOf(start.snapshot)).toMatchObject({
      kind: 'question',
      questionId: 'region',
      freeText: true,
      choices: [
        { label: 'cn-hangzhou (cluster region)', value: 'cn-hangzhou' },
        { label: 'cn-shanghai', value: 'cn-shanghai' },
      ],
    });
  });

  test('bucket: an existing cnfs-oss-* bucket of the region, then the others, then a new name', async () => {
    const managed = facts({ clusterId: 'c-test-managed', buckets: [...buckets, { name: 'cnfs-oss-a', region: 'cn-hangzhou' }] });
    const w = world(managed);
    const start = await advance(flows.managed, inputFor(managed), null, null, w);
    const atBucket = await advance(flows.managed, inputFor(managed), start, { type: 'ANSWER', questionId: 'region', value: 'cn-hangzhou', by: REQUESTER }, w);
    expect((promptOf(atBucket.snapshot) as Extract<Prompt, { kind: 'question' }>).choices).toEqual([
      { label: 'cnfs-oss-a (existing)', value: 'cnfs-oss-a' },
      { label: 'team-data (existing)', value: 'team-data' },
      { label: 'cnfs-oss-c-test-managed-backups (new)', value: 'cnfs-oss-c-test-managed-backups' },
    ]);
  });
});

describe('a second run keeps to what the cluster uses (issue 15 item 2)', () => {
  test("region and bucket: the vault's bucket and its region are suggested first", async () => {
    const used = facts({
      clusterId: 'c-test-dedicated', clusterType: 'Kubernetes',
      buckets: [...buckets, { name: 'cnfs-oss-z', region: 'cn-shanghai' }, { name: 'my-backups', region: 'cn-shanghai' }],
      vaults: [{ name: 'prod-backups', bucket: 'my-backups', region: 'cn-shanghai' }],
    });
    const w = world(used);
    const start = await advance(flows.dedicated, inputFor(used), null, null, w);
    expect((promptOf(start.snapshot) as Extract<Prompt, { kind: 'question' }>).choices[0]).toEqual({ label: "cn-shanghai (its vault's bucket)", value: 'cn-shanghai' });
    const atBucket = await advance(flows.dedicated, inputFor(used), start, { type: 'ANSWER', questionId: 'region', value: 'cn-shanghai', by: REQUESTER }, w);
    expect((promptOf(atBucket.snapshot) as Extract<Prompt, { kind: 'question' }>).choices[0]).toEqual({ label: 'my-backups (existing)', value: 'my-backups' });
  });
});

describe('flows that stop early say what was changed and what was not', () => {
  const clean = facts({ clusterId: 'c-test-dedicated', name: 'prod', clusterType: 'Kubernetes', buckets: [buckets[0]!] });
  const answers = { bucket: 'team-data', bucketScope: 'bucket' };

  test('denied', async () => {
    const point = await runScript(flows.dedicated, inputFor(clean), world(clean), {
      answers,
      decide: (step) => (step === 'attachPolicy' ? 'deny' : 'approve'),
    });
    expect(outputOf(point)).toEqual<FlowOutput>({
      status: 'denied',
      message: [
        '❌ Stopped: <@slack:UAPPROVER> denied "Attach policy `ack-backup-c-test-dedicated-migrate-controller` to RAM user `ack-backup-c-test-dedicated`".',
        'Changed:',
        '• createRamUser done',
        '• ensurePolicy done',
        'Not done:',
        '• Attach policy `ack-backup-c-test-dedicated-migrate-controller` to RAM user `ack-backup-c-test-dedicated`',
        '• Create namespace `csdr`',
        '• Create a long-lived AccessKey for `ack-backup-c-test-dedicated` and store it in Secret `csdr/alibaba-addon-secret`',
        '• Install add-on `migrate-controller` 1.8.7',
        '• Create backup vault `prod-backups` (bucket `team-data`, cn-hangzhou, internal network)',
        '• Test backup of namespace `kube-public` into vault `prod-backups`, then delete it',
      ].join('\n'),
      completed: [
        { step: 'createRamUser', outcome: 'created', detail: 'createRamUser done' },
        { step: 'ensurePolicy', outcome: 'created', detail: 'ensurePolicy done' },
      ],
    });
  });

  test('expired, with steps already in place listed apart', async () => {
    const point = await runScript(flows.dedicated, inputFor(clean), world(clean, ['createRamUser']), {
      answers,
      decide: (step) => (step === 'ensurePolicy' ? 'expire' : 'approve'),
    });
    expect(outputOf(point).status).toBe('expired');
    expect(outputOf(point).message.split('\n').slice(0, 4)).toEqual([
      '⌛ Stopped: nobody decided on "Create or update RAM policy `ack-backup-c-test-dedicated-migrate-controller` (Cloud Backup; ECS disk snapshots; OSS: bucket `team-data` only)" before the approval expired.',
      'Nothing was changed.',
      'Already in place:',
      '• createRamUser is already in place',
    ]);
  });

  test('failed: the executor\'s message, and the failed step is not done', async () => {
    const w = world(clean);
    w.failApply.add('installAddon');
    const point = await runScript(flows.dedicated, inputFor(clean), w, { answers });
    const { status, message } = outputOf(point);
    expect(status).toBe('failed');
    expect(message.split('\n')[0]).toBe(
      '❌ Stopped: "Install add-on `migrate-controller` 1.8.7" failed: installAddon failed: the service answered Forbidden.RAM (the bot may not do this).',
    );
    expect(message).toContain('Not done:\n• Install add-on `migrate-controller` 1.8.7\n• Create backup vault');
  });

  test('failed while checking a step (preview): nothing asked, nothing applied', async () => {
    const w = world(clean);
    w.failPreview.add('createRamUser');
    const point = await runScript(flows.dedicated, inputFor(clean), w, { answers });
    expect(outputOf(point).message.split('\n').slice(0, 2)).toEqual([
      '❌ Stopped: could not check "Create RAM user `ack-backup-c-test-dedicated`": AccessDenied reading createRamUser: the bot\'s RAM identity may not read it.',
      'Nothing was changed.',
    ]);
    expect(point.log.some((e) => e.kind === 'apply')).toBe(false);
  });

  test('cancelled at an approval', async () => {
    const point = await runScript(flows.dedicated, inputFor(clean), world(clean), {
      answers,
      decide: (step) => (step === 'createNamespace' ? 'cancel' : 'approve'),
    });
    expect(outputOf(point).message.split('\n').slice(0, 5)).toEqual([
      '🛑 Cancelled by <@slack:UREQ>.',
      'Changed:',
      '• createRamUser done',
      '• ensurePolicy done',
      '• attachPolicy done',
    ]);
  });

  test('cancelled while a step is being applied: names the step for the runtime, which knows how far it got', async () => {
    let release: (outcome: StepOutcome) => void = () => {};
    const machine = flows.dedicated.provide({
      actors: {
        previewStep: fromPromise<StepPreview, StepRequest>(async ({ input }) => ({ step: input.step, upToDate: false, changes: ['will change'] })),
        applyStep: fromPromise<StepOutcome, StepRequest>(() => new Promise<StepOutcome>((resolve) => (release = resolve))),
      },
    });
    const actor = createActor(machine, { input: inputFor(clean) }).start();
    const notices: FlowNotice[] = [];
    actor.on('*', (n) => notices.push(n));
    actor.send({ type: 'ANSWER', questionId: 'region', value: 'cn-hangzhou', by: REQUESTER });
    actor.send({ type: 'ANSWER', questionId: 'bucket', value: 'team-data', by: REQUESTER });
    actor.send({ type: 'ANSWER', questionId: 'bucketScope', value: 'bucket', by: REQUESTER });
    const waiting = await waitFor(actor, (s) => s.context.prompt?.kind === 'approval');
    actor.send({ type: 'APPROVE', approvalId: `${SESSION}/createRamUser/1`, by: APPROVER });
    expect(waiting.context.prompt).toMatchObject({ approvalId: `${SESSION}/createRamUser/1` });
    actor.send({ type: 'CANCEL', by: REQUESTER });
    release({ step: 'createRamUser', outcome: 'created', detail: 'late' });
    const done = await waitFor(actor, (s) => s.status === 'done');
    expect(done.output!.message.split('\n')[0]).toBe('🛑 Cancelled by <@slack:UREQ>.');
    expect(done.output!.interrupted).toMatchObject({ step: 'createRamUser', params: { userName: 'ack-backup-c-test-dedicated' } });
    // The running step is not listed as "not done": the runtime says whether it finished.
    expect(done.output!.message).not.toContain('• Create RAM user');
    expect(notices.filter((n) => n.type === 'stepDone')).toEqual([]);
  });
});
