// One row per row of DESIGN.md "Cluster types", on the sandbox's clusters: the flow chosen, the questions
// asked, the steps planned and approved, the requests' names and parameters, and the notices people see.
import { createActor, fromPromise, waitFor } from 'xstate';
import { describe, expect, test } from 'vitest';
import type { ClusterFacts, ReadClusterInput, FlowNotice, Prompt, QuestionId, StepName, StepRequest } from '../../flows/contract.ts';
import { flows, preflightMachine, type PreflightOutput } from '../../flows/index.ts';
import { facts, inputFor, noticesOf, outputOf, runScript, world, type Point } from './harness.ts';

async function preflight(clusterFacts: ClusterFacts): Promise<PreflightOutput> {
  const actor = createActor(
    preflightMachine.provide({ actors: { readCluster: fromPromise(async () => clusterFacts) } }),
    { input: { clusterId: clusterFacts.clusterId } },
  ).start();
  const done = await waitFor(actor, (s) => s.status === 'done');
  return done.output!;
}

interface Seen {
  questions: QuestionId[];
  approvals: StepRequest[];
  plan: string[];
  notices: string[];
  point: Point;
}

async function setUp(clusterFacts: ClusterFacts, answers: Record<string, string> = {}, recheckReads?: ClusterFacts): Promise<Seen> {
  const decided = await preflight(clusterFacts);
  expect(decided.problem).toBeNull();
  const w = world(clusterFacts);
  if (recheckReads) w.facts = recheckReads;
  const point = await runScript(flows[decided.flow!], inputFor(clusterFacts), w, { answers: { apiGateway: 'skip', ...answers } });
  const prompts = point.log.flatMap((e) => (e.kind === 'event' && e.prompt ? [e.prompt] : [])) as Prompt[];
  const notices = noticesOf(point);
  return {
    questions: prompts.flatMap((p) => (p.kind === 'question' ? [p.questionId] : [])),
    approvals: prompts.flatMap((p) => (p.kind === 'approval' ? [p.request] : [])),
    plan: notices.flatMap((n) => (n.type === 'plan' ? n.lines : [])),
    notices: notices.flatMap((n: FlowNotice) => (n.type === 'notice' ? [`${n.level}: ${n.text}`] : [])),
    point,
  };
}

const steps = (seen: Seen): StepName[] => seen.approvals.map((r) => r.step);
const request = <K extends StepName>(seen: Seen, step: K) =>
  seen.approvals.find((r) => r.step === step) as Extract<StepRequest, { step: K }>;

const managed = facts({ clusterId: 'c-sandbox-managed', name: 'sandbox-managed' });
const cnfsBucket = { name: 'cnfs-oss-sandbox', region: 'cn-hangzhou' };
const teamBucket = { name: 'team-data', region: 'cn-hangzhou' };
const ACCESS_KEY_STEPS: StepName[] = ['createRamUser', 'ensurePolicy', 'attachPolicy', 'createNamespace', 'createAccessKeySecret'];

describe('DESIGN "Cluster types"', () => {
  test('ACK managed, cnfs-oss-* bucket: add-on and vault only, no OSS permission', async () => {
    const seen = await setUp({ ...managed, buckets: [cnfsBucket, teamBucket] });
    expect(seen.questions).toEqual(['region', 'bucket']);
    expect(steps(seen)).toEqual(['installAddon', 'createBackupVault', 'testBackup']);
    expect(seen.plan).toEqual([
      'Install add-on `migrate-controller` 1.8.7',
      'Create backup vault `sandbox-managed-backups` (bucket `cnfs-oss-sandbox`, cn-hangzhou, internal network)',
      'Test backup of namespace `kube-public` into vault `sandbox-managed-backups`, then delete it',
    ]);
    expect(seen.notices).toContain(
      'info: Bucket `cnfs-oss-sandbox` starts with cnfs-oss-, so the cluster\'s AliyunCSManagedBackupRestoreRole can use it: no RAM user, policy or Secret is needed.',
    );
    expect(outputOf(seen.point).message).toMatch(/^✅ Backup center setup complete for `sandbox-managed`/);
  });

  test('ACK managed, no bucket yet: the suggested cnfs-oss-* bucket is the default and is created', async () => {
    const seen = await setUp(managed);
    expect(steps(seen)).toEqual(['createBucket', 'installAddon', 'createBackupVault', 'testBackup']);
    expect(request(seen, 'createBucket').params).toEqual({ bucket: 'cnfs-oss-c-sandbox-managed-backups', region: 'cn-hangzhou' });
  });

  test('ACK managed, other bucket and an older add-on: dedicated-style OSS permission, upgrade, restart', async () => {
    const seen = await setUp({ ...managed, buckets: [cnfsBucket, teamBucket], addon: { installedVersion: '1.7.6', latestVersion: '1.8.7' } }, { bucket: 'team-data' });
    expect(steps(seen)).toEqual([...ACCESS_KEY_STEPS, 'installAddon', 'restartMigrateController', 'createBackupVault', 'testBackup']);
    expect(request(seen, 'createRamUser').params.userName).toBe('ack-backup-c-sandbox-managed');
    const policy = request(seen, 'ensurePolicy').params;
    expect(policy.policyName).toBe('ack-backup-c-sandbox-managed-migrate-controller');
    expect(policy.document.Statement).toEqual([
      expect.objectContaining({ Resource: ['acs:oss:*:*:team-data', 'acs:oss:*:*:team-data/*'] }),
    ]);
    expect(request(seen, 'installAddon').params).toEqual({
      clusterId: 'c-sandbox-managed',
      addon: 'migrate-controller',
      version: '1.8.7',
      installedVersion: '1.7.6',
    });
    expect(request(seen, 'restartMigrateController').params).toEqual({
      clusterId: 'c-sandbox-managed',
      namespace: 'kube-system',
      deployment: 'migrate-controller',
    });
  });

  test('ACK managed, add-on current: skipped with a notice', async () => {
    const seen = await setUp({ ...managed, buckets: [cnfsBucket], addon: { installedVersion: '1.8.7', latestVersion: '1.8.7' } });
    expect(steps(seen)).toEqual(['createBackupVault', 'testBackup']);
    expect(seen.notices).toContain('info: Add-on migrate-controller 1.8.7 is already installed and current — skipped.');
  });

  test('ACK managed without the AliyunCSManagedBackupRestoreRole authorization: guided, then checked again', async () => {
    const missing = { ...managed, managedRoleAuthorized: false };
    const seen = await setUp(missing, { managedRole: 'recheck' }, { ...missing, managedRoleAuthorized: true });
    expect(seen.questions).toEqual(['managedRole', 'region', 'bucket']);
    const question = seen.point.log.find((e) => e.kind === 'event' && e.prompt?.kind === 'question')!;
    expect(question.kind === 'event' && question.prompt?.kind === 'question' && question.prompt.text).toContain(
      'Authorize the RAM role AliyunCSManagedBackupRestoreRole once for this account with the quick authorization',
    );
    expect(seen.notices).toContain(
      'info: Found the AliyunCSManagedBackupRestoreRole authorization (its token Secret is in kube-system). Continuing.',
    );
  });

  test('ACK managed without the role, cancelled at the guidance: nothing changed', async () => {
    const seen = await setUp({ ...managed, managedRoleAuthorized: false }, { managedRole: 'cancel' });
    expect(steps(seen)).toEqual([]);
    expect(outputOf(seen.point)).toMatchObject({ status: 'cancelled', message: '🛑 Cancelled by <@slack:UREQ>.\nNothing was changed.' });
  });

  test('ACK Serverless Pro: as managed, and says volume backup is not supported', async () => {
    const seen = await setUp(facts({ clusterId: 'c-sandbox-serverless-pro', profile: 'Serverless', clusterSpec: 'ack.pro.small', buckets: [cnfsBucket] }));
    expect(steps(seen)).toEqual(['installAddon', 'createBackupVault', 'testBackup']);
    expect(seen.notices[0]).toBe(
      'info: Volume backup is not supported on ACK Serverless Pro clusters: the backup center backs up and restores the applications (their resources and configuration), not the data in their volumes.',
    );
  });

  test('ACK Serverless Basic: unsupported, with the way forward', async () => {
    const decided = await preflight(facts({ clusterId: 'c-sandbox-serverless-basic', name: 'basic', profile: 'Serverless', clusterSpec: 'ack.standard' }));
    expect(decided).toMatchObject({ kind: 'serverless-basic', flow: null });
    expect(decided.problem).toBe(
      '`basic` (`c-sandbox-serverless-basic`) is an ACK Serverless Basic cluster, and the backup center does not support ACK Serverless Basic clusters. ' +
        'Nothing was changed. Way forward: create an ACK Serverless Pro cluster (the backup center supports it, without volume backup) and set up the backup center there.',
    );
  });

  test('ACK Edge, bucket in another region: the vault uses the public network; no volume backup', async () => {
    const edge = facts({ clusterId: 'c-sandbox-edge', profile: 'Edge', buckets: [{ name: 'cnfs-oss-sh', region: 'cn-shanghai' }] });
    const seen = await setUp(edge, { region: 'cn-shanghai' });
    expect(seen.notices.slice(0, 2)).toEqual([
      'info: Volume backup is not supported on ACK Edge clusters: the backup center backs up and restores the applications (their resources and configuration), not the data in their volumes.',
      expect.stringMatching(/^info: On an ACK Edge cluster .* requires the backup vault of an ACK Edge cluster to reach OSS over the public network/),
    ]);
    expect(request(seen, 'createBackupVault').params).toMatchObject({ bucket: 'cnfs-oss-sh', region: 'cn-shanghai', network: 'public' });
  });

  test('ACK Edge, bucket in the cluster region: public too (the backup-center FAQ requires it for Edge)', async () => {
    const edge = facts({ clusterId: 'c-sandbox-edge', profile: 'Edge', buckets: [cnfsBucket] });
    const seen = await setUp(edge);
    expect(request(seen, 'createBackupVault').params).toMatchObject({ bucket: 'cnfs-oss-sandbox', region: 'cn-hangzhou', network: 'public' });
    expect(seen.plan.find((line) => line.includes('backup vault'))).toContain('public network');
  });

  test('ACK managed Basic: even a cnfs-oss-* bucket gets the dedicated-style OSS permission, and the long-lived AccessKey is said plainly', async () => {
    const basic = { ...managed, clusterSpec: 'ack.standard', buckets: [cnfsBucket] };
    const seen = await setUp(basic);
    expect(steps(seen)).toEqual([...ACCESS_KEY_STEPS, 'installAddon', 'createBackupVault', 'testBackup']);
    const bucketQuestion = seen.point.log.find((e) => e.kind === 'event' && e.prompt?.kind === 'question' && e.prompt.questionId === 'bucket')!;
    expect(bucketQuestion.kind === 'event' && bucketQuestion.prompt?.kind === 'question' && bucketQuestion.prompt.text).toContain(
      'This is an ACK Basic cluster: any bucket needs a RAM user whose long-lived AccessKey (it does not expire) is stored in a Secret in the cluster',
    );
    expect(seen.notices).toContainEqual(expect.stringContaining('the `cnfs-oss-*` exemption applies to ACK Pro clusters only, and this is an ACK Basic cluster'));
    expect(seen.notices).toContainEqual(expect.stringContaining('long-lived AccessKey stored in Secret csdr/alibaba-addon-secret. The AccessKey does not expire'));
    expect(seen.plan).toContain('Create a long-lived AccessKey for `ack-backup-c-sandbox-managed` and store it in Secret `csdr/alibaba-addon-secret`');
  });

  test('ACK managed Pro, a bucket outside cnfs-oss-*: the question and the plan say a long-lived AccessKey is created', async () => {
    const seen = await setUp({ ...managed, buckets: [teamBucket] }, { bucket: 'team-data' });
    const bucketQuestion = seen.point.log.find((e) => e.kind === 'event' && e.prompt?.kind === 'question' && e.prompt.questionId === 'bucket')!;
    expect(bucketQuestion.kind === 'event' && bucketQuestion.prompt?.kind === 'question' && bucketQuestion.prompt.text).toContain('any other bucket needs a RAM user whose long-lived AccessKey');
    expect(seen.notices).toContainEqual(expect.stringContaining('bucket `team-data` does not start with `cnfs-oss-`'));
  });

  test('no migrate-controller offered by CS (ListAddons lists none): stops before any change', async () => {
    const decided = await preflight({ ...managed, addon: { installedVersion: null, latestVersion: '' } });
    expect(decided.flow).toBeNull();
    expect(decided.problem).toContain('offers no migrate-controller add-on that can be installed on this cluster');
  });

  test('a region that already holds 100 buckets offers only existing buckets and refuses a new name', async () => {
    const full = Array.from({ length: 100 }, (_, i) => ({ name: `cnfs-oss-full-${String(i).padStart(3, '0')}`, region: 'cn-hangzhou' }));
    const seen = await setUp({ ...managed, buckets: full }, { bucket: 'cnfs-oss-full-007' });
    const bucketQuestion = seen.point.log.find((e) => e.kind === 'event' && e.prompt?.kind === 'question' && e.prompt.questionId === 'bucket')!;
    const prompt = bucketQuestion.kind === 'event' && bucketQuestion.prompt?.kind === 'question' ? bucketQuestion.prompt : null;
    expect(prompt!.text).toContain('already has 100 buckets in cn-hangzhou');
    expect(prompt!.choices.every((c) => c.label.endsWith('(existing)'))).toBe(true);
    expect(steps(seen)).not.toContain('createBucket');
  });

  test('ACK dedicated: RAM user → policy → attach → namespace → AccessKey Secret → add-on', async () => {
    const dedicated = facts({ clusterId: 'c-sandbox-dedicated', clusterType: 'Kubernetes', buckets: [teamBucket] });
    const seen = await setUp(dedicated, { bucket: 'team-data', bucketScope: 'all' });
    expect(seen.questions).toEqual(['region', 'bucket', 'bucketScope']);
    expect(steps(seen)).toEqual([...ACCESS_KEY_STEPS, 'installAddon', 'createBackupVault', 'testBackup']);
    const policy = request(seen, 'ensurePolicy').params.document;
    expect(policy.Statement.map((s) => s.Resource)).toEqual(['*', '*', 'acs:oss:*:*:*']);
    expect(request(seen, 'createAccessKeySecret').params).toEqual({
      clusterId: 'c-sandbox-dedicated',
      userName: 'ack-backup-c-sandbox-dedicated',
      namespace: 'csdr',
      secretName: 'alibaba-addon-secret',
      shared: false,
    });
    expect(request(seen, 'ensurePolicy').params.shared).toBe(false);
    expect(request(seen, 'createBackupVault').params.network).toBe('internal');
  });

  test('ACK dedicated with the add-on already running: the Secret comes after it, so migrate-controller is restarted', async () => {
    const dedicated = facts({ clusterId: 'c-sandbox-dedicated', clusterType: 'Kubernetes', addon: { installedVersion: '1.8.7', latestVersion: '1.8.7' } });
    const seen = await setUp(dedicated);
    expect(steps(seen)).toEqual(['createBucket', ...ACCESS_KEY_STEPS, 'restartMigrateController', 'createBackupVault', 'testBackup']);
    expect(request(seen, 'ensurePolicy').params.document.Statement[2]!.Resource).toEqual([
      'acs:oss:*:*:cnfs-oss-c-sandbox-dedicated-backups',
      'acs:oss:*:*:cnfs-oss-c-sandbox-dedicated-backups/*',
    ]);
  });

  test("registered: onectl names, onectl's shared kube-system Secret and shared policy, public network, the optional OSS internal route", async () => {
    const registered = facts({ clusterId: 'c-sandbox-registered', clusterType: 'ExternalKubernetes' });
    const seen = await setUp(registered);
    expect(seen.questions).toEqual(['region', 'bucket', 'bucketScope']);
    expect(steps(seen)).toEqual(['createBucket', 'createRamUser', 'ensurePolicy', 'attachPolicy', 'createAccessKeySecret', 'installAddon', 'createBackupVault', 'testBackup']);
    expect(request(seen, 'createAccessKeySecret').params).toMatchObject({ namespace: 'kube-system', secretName: 'alibaba-addon-secret', shared: true });
    expect(request(seen, 'ensurePolicy').params.shared).toBe(true);
    expect(seen.plan).toContainEqual(expect.stringContaining("shared by the account's registered clusters: what it already grants is kept"));
    expect(request(seen, 'createRamUser').params.userName).toBe('ack-one-user-csandboxre');
    expect(request(seen, 'attachPolicy').params).toEqual({
      policyName: 'ack-one-registered-cluster-policy-migrate-controller',
      userName: 'ack-one-user-csandboxre',
    });
    expect(request(seen, 'createBackupVault').params.network).toBe('public');
    expect(seen.notices).toContain(
      'info: Optional: if this registered cluster is connected to an Alibaba Cloud VPC through CEN, Express Connect or VPN, the backup center reads OSS over the internal network when the cluster and the bucket are in the same region. ' +
        'To use it, route all of these OSS VIP CIDR blocks of cn-hangzhou (oss-cn-hangzhou-internal.aliyuncs.com) to that VPC, because OSS moves between them: 100.118.28.0/24, 100.114.102.0/24, 100.98.170.0/24, 100.118.31.0/24. ' +
        'Until then the backup vault uses the public network.',
    );
  });

  test('any: Kubernetes older than 1.18 stops with the upgrade route', async () => {
    const decided = await preflight(facts({ clusterId: 'c-sandbox-old', name: 'old', kubernetesVersion: '1.16.9-aliyun.1' }));
    expect(decided.flow).toBeNull();
    expect(decided.problem).toContain('runs Kubernetes 1.16.9-aliyun.1; the backup center needs Kubernetes 1.18 or later. Nothing was changed. Way forward: upgrade the cluster');
  });

  test('any: FlexVolume stops with the migration to CSI', async () => {
    const decided = await preflight(facts({ clusterId: 'c-sandbox-flexvolume', name: 'flex', storagePlugin: 'flexvolume' }));
    expect(decided.flow).toBeNull();
    expect(decided.problem).toBe(
      '`flex` (`c-sandbox-flexvolume`) uses the FlexVolume storage plug-in, and the backup center does not support clusters that use FlexVolume. ' +
        'Nothing was changed. Way forward: migrate the storage plug-in to CSI (for a cluster without storage volumes, follow "Migrate FlexVolume to CSI for Clusters Without Storage"; ' +
        'for other cases ask in the DingTalk user group 35532895), then start the setup again.',
    );
  });

  test('any: migrate-controller ≥ 1.7.7 gets the ECS snapshot permissions (ecs:CopySnapshot)', async () => {
    const seen = await setUp(facts({ clusterId: 'c-sandbox-dedicated', clusterType: 'Kubernetes' }));
    expect(request(seen, 'ensurePolicy').params.document.Statement[1]!.Action).toContain('ecs:CopySnapshot');
  });

  test('any: in cn-wulanchabu the API Gateway authorization is asked up front; skipping it leaves a manual step the ending names', async () => {
    const ulanqab = facts({ clusterId: 'c-sandbox-ulanqab', name: 'sandbox-ulanqab', region: 'cn-wulanchabu', apiGatewayAuthorized: false, buckets: [] });
    const seen = await setUp(ulanqab);
    // Asked before any question that leads to a change, and before the plan.
    expect(seen.questions).toEqual(['apiGateway', 'region', 'bucket']);
    const reminder =
      'Grant Cloud Backup permission to use API Gateway in cn-wulanchabu (Cloud Backup console, once per account); until then backup and restore jobs there fail with MagpieBridgeSlrNotExist.';
    expect(seen.notices).toContain(`warning: Skipped for now. ${reminder}`);
    expect(seen.notices).toContain(
      'info: Prerequisites, checked before any change:\n✅ OSS activated\n✅ Cloud Backup activated\n✅ The ECS snapshot service in cn-wulanchabu activated\n' +
        '✅ AliyunCSManagedBackupRestoreRole authorized\n⚠️ Cloud Backup not authorized to use API Gateway in cn-wulanchabu: skipped for now, a manual step left',
    );
    const message = outputOf(seen.point).message;
    expect(message.split('\n')[0]).toMatch(
      /^⚠️ Backup center set up for `sandbox-ulanqab` \(`c-sandbox-ulanqab`, ACK managed cluster\) — one manual step left: authorize Cloud Backup to use API Gateway in cn-wulanchabu \(Cloud Backup console, once per account\)\. Once done, backups go to bucket `[^`]+` in cn-wulanchabu\.$/,
    );
    expect(message).not.toContain('setup complete');
    expect(message).toContain('Still to do:\n• Authorize Cloud Backup to use API Gateway in cn-wulanchabu (Cloud Backup console, once per account): until then backup and restore jobs fail.');
  });

  test('sandbox: "Authorize in the emulated console" finishes the Ulanqab case (both console-only authorizations)', async () => {
    const ulanqab = facts({
      clusterId: 'c-sandbox-ulanqab', name: 'sandbox-ulanqab', region: 'cn-wulanchabu', apiGatewayAuthorized: false, managedRoleAuthorized: false, buckets: [], emulatedConsole: true,
    });
    const seen = await setUp(ulanqab, { managedRole: 'emulatedConsole', apiGateway: 'emulatedConsole' });
    expect(seen.questions).toEqual(['managedRole', 'apiGateway', 'region', 'bucket']);
    const prompts = seen.point.log.flatMap((e) => (e.kind === 'event' && e.prompt?.kind === 'question' ? [e.prompt] : []));
    for (const id of ['managedRole', 'apiGateway']) {
      expect(prompts.find((p) => p.questionId === id)?.choices.map((c) => c.label)).toContain('Authorize in the emulated console');
    }
    expect(seen.notices).toContain('info: Found the AliyunCSManagedBackupRestoreRole authorization (its token Secret is in kube-system). Continuing.');
    expect(seen.notices).toContain('info: Found the Cloud Backup API Gateway authorization (role `AliyunServiceRoleForHbrMagpieBridge`). Continuing.');
    expect(outputOf(seen.point).message).toMatch(/^✅ Backup center setup complete for `sandbox-ulanqab`/);
    expect(outputOf(seen.point).message).not.toContain('Still to do');
  });

  test('outside the sandbox the console questions offer no emulated console, and a typed "emulatedConsole" changes nothing', async () => {
    const ulanqab = facts({ clusterId: 'c-sandbox-ulanqab', region: 'cn-wulanchabu', apiGatewayAuthorized: false, buckets: [] });
    const w = world(ulanqab);
    const { advance } = await import('./harness.ts');
    const start = await advance(flows.managed, inputFor(ulanqab), null, null, w);
    const prompt = start.snapshot.context.prompt as Extract<Prompt, { kind: 'question' }>;
    expect(prompt.questionId).toBe('apiGateway');
    expect(prompt.choices.map((c) => c.label)).toEqual(['Done — check again', 'Skip for now']);
    const typed = await advance(flows.managed, inputFor(ulanqab), start, { type: 'ANSWER', questionId: 'apiGateway', value: 'emulatedConsole', by: 'slack:UREQ' }, w);
    expect(typed.snapshot.value).toEqual(start.snapshot.value);
    expect(noticesOf(typed, start.log.length).map((n) => (n.type === 'notice' ? n.text : ''))).toEqual([
      '"emulatedConsole" is not an answer to this question: choose "Done — check again" or "Skip for now".',
    ]);
  });

  describe.each([
    ['oss', 'OSS', 'activateOss', 'the backup center stores application backups only in OSS buckets', 'https://oss.console.aliyun.com/'],
    ['cloudBackup', 'Cloud Backup', 'activateCloudBackup', 'it backs up file-system volumes (OSS, NAS, CPFS, local storage, hybrid cloud)', 'https://hbr.console.aliyun.com/'],
    ['snapshot', 'the ECS snapshot service in cn-hangzhou', 'activateSnapshot', 'disk volumes are backed up as ECS snapshots', 'https://ecs.console.aliyun.com/#/snapshot'],
  ] as const)('service %s off', (service, label, step, purpose, link) => {
    const off = { ...managed, buckets: [cnfsBucket], services: { cloudBackup: 'on', oss: 'on', snapshot: 'on', [service]: 'off' } } as ClusterFacts;

    test('explained before any question; its activation is the first step, before any change', async () => {
      const seen = await setUp(off);
      const explained = seen.notices.findIndex((n) => n.includes('is not activated'));
      expect(seen.notices[explained]).toBe(
        `warning: ${label[0]!.toUpperCase()}${label.slice(1)} is not activated: ${purpose}. ` +
          `Cost: ${{ oss: 'activating it is free; OSS then bills storage, requests and outbound traffic, pay-as-you-go', cloudBackup: 'activating it is free; Cloud Backup then bills backup storage and protected sources, pay-as-you-go', snapshot: 'activating it is free; snapshots are then billed by size and retention' }[service]}. ` +
          `The plan's first step activates it after an approval (rated high: activating accepts its terms of service and cannot be undone). Or activate it yourself in the console (${link}), then run the setup again.`,
      );
      // Before the first question is answered.
      const firstAnswer = seen.point.log.findIndex((e) => e.kind === 'event');
      const notice = seen.point.log.findIndex((e) => e.kind === 'notice' && e.notice.type === 'notice' && e.notice.text.includes('is not activated'));
      expect(notice).toBeLessThan(firstAnswer);
      expect(steps(seen)[0]).toBe(step);
      expect(seen.plan[0]).toBe(`Activate ${label} (cannot be undone)`);
      expect(seen.notices.find((n) => n.startsWith('info: Prerequisites'))).toContain(`❌ ${label[0]!.toUpperCase()}${label.slice(1)} not activated: the first steps activate it after an approval`);
      expect(request(seen, step).params).toEqual({ service, region: 'cn-hangzhou' });
      expect(outputOf(seen.point).status).toBe('complete');
    });

    test('denied: the setup stops before any change and says how to activate it by hand', async () => {
      const w = world(off);
      const point = await runScript(flows.managed, inputFor(off), w, { answers: {}, decide: (s) => (s === step ? 'deny' : 'approve') });
      const output = outputOf(point);
      expect(output.status).toBe('denied');
      expect(point.log.filter((e) => e.kind === 'apply')).toEqual([]);
      expect(output.message.split('\n')[0]).toBe(`❌ Stopped: <@slack:UAPPROVER> denied "Activate ${label} (cannot be undone)".`);
      expect(output.message).toContain('Nothing was changed.');
      expect(noticesOf(point).some((n) => n.type === 'notice' && n.text.includes(link))).toBe(true);
    });

    test('a second run finds it on and asks nothing about it', async () => {
      const seen = await setUp({ ...off, services: { cloudBackup: 'on', oss: 'on', snapshot: 'on' } });
      expect(steps(seen)).not.toContain(step);
      expect(seen.notices.some((n) => n.includes('is not activated'))).toBe(false);
      expect(seen.plan.some((l) => l.startsWith('Activate'))).toBe(false);
    });
  });

  test('a cluster that cannot be read: the reason is the problem', async () => {
    const actor = createActor(
      preflightMachine.provide({
        actors: {
          readCluster: fromPromise<ClusterFacts, ReadClusterInput>(async () => {
            throw new Error('Cluster c-gone was not found (ErrorClusterNotFound). Check the id with /backup-setup status.');
          }),
        },
      }),
      { input: { clusterId: 'c-gone' } },
    ).start();
    const done = await waitFor(actor, (s) => s.status === 'done');
    expect(done.output).toEqual({
      kind: null,
      flow: null,
      facts: null,
      problem: 'Cluster c-gone was not found (ErrorClusterNotFound). Check the id with /backup-setup status.',
    });
  });
});
