// One reply of every kind, plus the large ones that push Block Kit's limits.
import type { PolicyDocument } from '../../flows/contract.ts';
import type { Reply } from '../../src/chat/model.ts';

export const SESSION_ID = '5b1f0c8e-2d7a-4c55-9a5e-0c1d2e3f4a5b';

export function question(choices: number, freeText = false): Extract<Reply, { kind: 'question' }> {
  return {
    kind: 'question',
    sessionId: SESSION_ID,
    prompt: {
      kind: 'question',
      questionId: 'bucket',
      text: 'Which OSS bucket should hold the backups? <b>',
      choices: Array.from({ length: choices }, (_, i) => ({
        label: i === 0 ? 'cnfs-oss-backups-cn-hangzhou (existing)' : `bucket-${i}`,
        value: i === 0 ? 'cnfs-oss-backups-cn-hangzhou' : `bucket-${i}`,
      })),
      freeText,
    },
  };
}

export const POLICY: PolicyDocument = {
  Version: '1',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['oss:PutObject', 'oss:GetObject', 'oss:DeleteObject', 'oss:ListObjects', 'oss:GetBucket*'],
      Resource: ['acs:oss:*:*:cnfs-oss-*', 'acs:oss:*:*:cnfs-oss-*/*'],
    },
    { Effect: 'Allow', Action: ['ecs:CreateSnapshot', 'ecs:DescribeSnapshots', 'ecs:DeleteSnapshot'], Resource: '*' },
  ],
};

export function approval(
  options: { approvalId?: string; document?: PolicyDocument; risk?: 'low' | 'medium' | 'high' } = {},
): Extract<Reply, { kind: 'approval' }> {
  return {
    kind: 'approval',
    sessionId: SESSION_ID,
    title: 'Create or update RAM policy',
    prompt: {
      kind: 'approval',
      approvalId: options.approvalId ?? 'ap-1',
      request: { step: 'ensurePolicy', params: { policyName: 'ack-backup-c-sandbox-dedicated', document: options.document ?? POLICY } },
      preview: {
        step: 'ensurePolicy',
        upToDate: false,
        changes: ['create custom policy ack-backup-c-sandbox-dedicated (version v1, default)'],
      },
    },
    risk: options.risk ?? 'medium',
    apis: ['ram:CreatePolicy', 'ram:CreatePolicyVersion'],
    expiresAt: '2026-11-24T14:15:00.000Z',
    requester: 'slack:U0ALICE',
  };
}

/** A policy document whose JSON is far longer than one section (3000 characters). */
export function hugePolicy(): PolicyDocument {
  return {
    Version: '1',
    Statement: Array.from({ length: 120 }, (_, i) => ({
      Effect: 'Allow' as const,
      Action: [`oss:Action${i}`],
      Resource: `acs:oss:*:*:bucket-number-${i}/*`,
    })),
  };
}

/** A session's top message while it runs (with its Cancel button) or after it ended. */
export function status(running: boolean): Extract<Reply, { kind: 'status' }> {
  return {
    kind: 'status',
    sessionId: SESSION_ID,
    clusterId: 'c-sandbox-dedicated',
    title: 'Backup center setup',
    text: 'Backup center setup for `c-sandbox-dedicated`: Step 1 of 8',
    requester: 'slack:U0ALICE',
    startedAt: '2026-11-24T14:00:00.000Z',
    lines: running ? ['Step 1 of 8: Create RAM user ack-backup-c-sandbox-dedicated — waiting for an approver.'] : ['✅ Backup center setup complete', 'Created or changed: 7 · already present: 0 · not done: 0.'],
    waitingOn: running ? ['slack:U0BOB'] : [],
    cancellable: running,
  };
}

export function everyKind(): Reply[] {
  return [
    { kind: 'text', text: 'Setup of `c-sandbox-dedicated` (dedicated flow): active. A & B <not a link>' },
    { kind: 'help', text: '`/backup-setup <cluster-id>` start a setup' },
    { kind: 'plan', title: 'Plan for c-sandbox-dedicated', lines: ['create RAM user ack-backup', 'attach policy', 'install migrate-controller'] },
    question(3, true),
    question(40),
    approval(),
    approval({ risk: 'high', approvalId: 'ap-high' }),
    { kind: 'decided', approvalId: 'ap-1', title: 'Create RAM user', decision: 'approved', by: '<@U0BOB>', at: '2026-11-24T14:01:00.000Z' },
    { kind: 'decided', approvalId: 'ap-2', title: 'Create RAM user', decision: 'expired', by: '', at: '2026-11-24T14:20:00.000Z' },
    { kind: 'decided', approvalId: 'ap-3', title: 'Create RAM user', decision: 'expired', by: '', at: '2026-11-24T14:20:00.000Z', again: { clusterId: 'c-sandbox-dedicated' } },
    { kind: 'reminder', title: 'Create RAM user', expiresAt: '2026-11-24T14:20:00.000Z', approvers: ['slack:U0BOB', 'slack:S0OPS'] },
    status(true),
    status(false),
    { kind: 'progress', text: 'Installing migrate-controller 1.8.2…' },
    { kind: 'result', outcome: { step: 'createRamUser', outcome: 'created', detail: 'RAM user ack-backup-c-sandbox-dedicated' } },
    { kind: 'result', outcome: { step: 'createNamespace', outcome: 'already present', detail: 'namespace csdr' } },
    { kind: 'done', ok: true, text: '✅ Backup center setup complete for c-sandbox-dedicated.' },
    { kind: 'error', text: 'CS refused InstallClusterAddons: ErrorAddonNotExist', correlationId: 'a1b2c3d4' },
    { kind: 'text', text: 'x'.repeat(7_000) },
    { kind: 'plan', title: 'Long plan', lines: Array.from({ length: 300 }, (_, i) => `step number ${i} of a very long plan`) },
    question(150),
    approval({ document: hugePolicy(), approvalId: 'ap-huge' }),
  ];
}
