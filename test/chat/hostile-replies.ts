// One reply of every kind whose identifiers hold the characters markup eats: *, _, ~, backticks, <, &. The rendering
// tests of Slack, DingTalk and the web page check that each shows exactly these characters, as code.
import type { PolicyDocument } from '../../flows/contract.ts';
import { code, person, time } from '../../flows/domain/inline.js';
import type { ApprovalReply, Reply } from '../../src/chat/model.ts';
import { renderAudit } from '../../src/session/render.ts';

/** Identifiers as hostile as a name can be. Real ARNs and buckets hold the first ones; the rest come from typing. */
export const HOSTILE = ['acs:oss:*:*:my-bucket/*', 'cnfs_oss_*_a', 'b~u~cket', 'back`tick', '``double``', '`edge', 'a<b>&amp;c', '*bold*'] as const;

const [arn, under, tilde, tick, double, edge, angle, bold] = HOSTILE;

export const HOSTILE_DOCUMENT: PolicyDocument = {
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: ['oss:GetObject'], Resource: [arn, `acs:oss:*:*:${tick}`] }],
};

export const REQUESTER = 'slack:U0ALICE';
export const DECIDER = 'slack:U0BOB';

export function hostileApproval(): ApprovalReply {
  return {
    kind: 'approval',
    sessionId: 's-hostile',
    title: 'Create or update RAM policy',
    prompt: {
      kind: 'approval',
      approvalId: 'ap-hostile',
      request: { step: 'ensurePolicy', params: { policyName: under, document: HOSTILE_DOCUMENT } },
      preview: {
        step: 'ensurePolicy',
        upToDate: false,
        changes: [`adds Allow on ${code(arn)}: ${code('oss:GetObject')}`, `removes Allow on ${code(tilde)}`, `policy ${code(angle)} for ${code(edge)}`],
      },
    },
    risk: 'high',
    riskReason: `revokes access to bucket ${code(double)}, which a backup vault uses`,
    apis: ['ram:CreatePolicyVersion'],
    expiresAt: '2026-11-24T14:15:00.000Z',
    requester: REQUESTER,
  };
}

/** Every reply kind, with the hostile identifiers each shows. */
export function hostileReplies(): { reply: Reply; shows: string[] }[] {
  const approval = hostileApproval();
  return [
    { reply: { kind: 'text', text: `Bucket ${code(arn)} and ${code(tick)} by ${person(REQUESTER)} at ${time('2026-11-24T14:15:00.000Z')}.` }, shows: [arn, tick] },
    { reply: { kind: 'help', text: `Use ${code(`/backup-setup status ${under}`)}.` }, shows: [`/backup-setup status ${under}`] },
    { reply: { kind: 'plan', title: `Plan for ${code(bold)}`, lines: [`Create RAM user ${code(under)}`, `Create bucket ${code(tilde)}`] }, shows: [bold, under, tilde] },
    {
      reply: {
        kind: 'question',
        sessionId: 's-hostile',
        prompt: { kind: 'question', questionId: 'bucket', text: `Which bucket? ${code(double)} is taken.`, choices: [{ label: 'cnfs-oss-a (existing)', value: 'cnfs-oss-a' }], freeText: true },
      },
      shows: [double],
    },
    { reply: approval, shows: [arn, tilde, angle, edge, under, double] },
    {
      reply: { kind: 'decided', approvalId: 'ap-hostile', title: 'Create or update RAM policy', decision: 'denied', by: DECIDER, at: '2026-11-24T14:01:00.000Z', shown: approval, reason: 'use *another* bucket <b> & `this`' },
      // The deny reason is typed by a person: shown literally, as code.
      shows: [arn, tilde, angle, under, edge, 'use *another* bucket <b> & `this`'],
    },
    {
      reply: { kind: 'answered', prompt: { kind: 'question', questionId: 'bucket', text: `Which bucket for ${code(angle)}?`, choices: [], freeText: true }, answer: { value: tick, label: tick, by: REQUESTER, subject: 'bucket' } },
      shows: [angle, tick],
    },
    { reply: { kind: 'progress', text: `Waiting for ${code(edge)}` }, shows: [edge] },
    { reply: { kind: 'result', outcome: { step: 'createBucket', outcome: 'created', detail: `Created OSS bucket ${code(under)}` } }, shows: [under] },
    { reply: { kind: 'done', ok: true, text: `✅ Backup center setup complete for ${code(bold)}: bucket ${code(arn)}.` }, shows: [bold, arn] },
    { reply: { kind: 'error', text: `Policy ${code(angle)} was refused.`, correlationId: 'corr_*1*' }, shows: [angle, 'corr_*1*'] },
    {
      // The audit listing: an answer as typed, and a step's own detail.
      reply: {
        kind: 'text',
        text: renderAudit('c-1', [
          { id: 2, at: new Date('2026-11-24T14:02:00.000Z'), actor: 'bot', action: 'step', clusterId: 'c-1', step: 'ensurePolicy', outcome: 'updated', detail: `Updated policy ${code(under)} on ${code(arn)}` },
          { id: 1, at: new Date('2026-11-24T14:01:00.000Z'), actor: REQUESTER, action: 'answer', clusterId: 'c-1', step: 'bucket', outcome: 'answered', detail: tick },
        ]),
      },
      shows: [under, arn, tick, 'ensurePolicy'],
    },
  ];
}
