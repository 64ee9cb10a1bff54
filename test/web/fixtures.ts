// Replies as the session runtime posts them, for the web chat tests.
import type { PolicyDocument } from '../../flows/contract.ts';
import type { Reply } from '../../src/chat/model.ts';

export const SESSION_ID = 's-1234';
export const APPROVAL_ID = 'a-5678';

export const POLICY_DOCUMENT: PolicyDocument = {
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: ['oss:GetObject', 'oss:PutObject'], Resource: ['acs:oss:*:*:cnfs-oss-backup/*'] }],
};

export function bucketScopeQuestion(): Extract<Reply, { kind: 'question' }> {
  return {
    kind: 'question',
    sessionId: SESSION_ID,
    prompt: {
      kind: 'question',
      questionId: 'bucketScope',
      text: 'Which buckets may the backup user reach? *Bucket-scoped* is safer.',
      choices: [
        { label: 'Only cnfs-oss-backup', value: 'bucket' },
        { label: 'All buckets', value: 'all' },
      ],
      freeText: false,
    },
  };
}

export function policyApproval(requester: string): Extract<Reply, { kind: 'approval' }> {
  return {
    kind: 'approval',
    sessionId: SESSION_ID,
    prompt: {
      kind: 'approval',
      approvalId: APPROVAL_ID,
      request: {
        step: 'ensurePolicy',
        params: {
          policyName: 'ack-backup-policy-c-sandbox-dedicated',
          document: POLICY_DOCUMENT,
        },
      },
      preview: {
        step: 'ensurePolicy',
        upToDate: false,
        changes: ['create RAM policy `ack-backup-policy-c-sandbox-dedicated`'],
      },
    },
    risk: 'high',
    apis: ['ram:CreatePolicy', 'ram:CreatePolicyVersion'],
    expiresAt: '2026-11-24T14:00:00.000Z',
    requester,
  };
}
