// attachPolicy: the custom policy attached to the RAM user.
import { AttachPolicyToUserRequest } from '@alicloud/ram20150501';
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { runtime } from '../clients.ts';
import { createOrPresent, type ExecContext } from '../context.ts';
import { policyAttached } from '../reads.ts';
import type { StepModule } from './types.ts';
import { code } from '../../../flows/domain/inline.js';

type Params = StepParamsByName['attachPolicy'];

export const meta = { step: 'attachPolicy', title: 'Attach RAM policy to user', risk: 'medium', riskReason: 'grants access: the RAM user gets every permission of the policy', apis: ['ram:ListPoliciesForUser', 'ram:AttachPolicyToUser'], timeoutMs: 60_000 } as const satisfies StepModule<'attachPolicy'>['meta'];

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  if (await policyAttached(ctx, params.userName, params.policyName)) {
    return { step: 'attachPolicy', upToDate: true, changes: [`policy ${code(params.policyName)} is already attached to RAM user ${code(params.userName)}`] };
  }
  return { step: 'attachPolicy', upToDate: false, changes: [`attach custom policy ${code(params.policyName)} to RAM user ${code(params.userName)}`] };
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  const present: StepOutcome = { step: 'attachPolicy', outcome: 'already present', detail: `Policy ${code(params.policyName)} is already attached to ${code(params.userName)}` };
  // No read first: RAM answers EntityAlreadyExists.User.Policy for an attachment that is there.
  const result = await createOrPresent(ctx, { service: 'ram', permission: 'ram:AttachPolicyToUser', resource: `user ${code(params.userName)} (policy ${code(params.policyName)})` }, () =>
    ctx.clients.ram.attachPolicyToUserWithOptions(new AttachPolicyToUserRequest({ policyType: 'Custom', policyName: params.policyName, userName: params.userName }), runtime(ctx.clients.timeouts.write)),
  () => policyAttached(ctx, params.userName, params.policyName));
  if (result === 'present') return present;
  ctx.logger.info({ userName: params.userName, policyName: params.policyName }, 'attached policy');
  return { step: 'attachPolicy', outcome: 'created', detail: `Attached policy ${code(params.policyName)} to ${code(params.userName)}` };
}

export const step: StepModule<'attachPolicy'> = { meta, preview, apply };
