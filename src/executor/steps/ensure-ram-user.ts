// createRamUser: the RAM user whose AccessKey migrate-controller uses.
import { CreateUserRequest } from '@alicloud/ram20150501';
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { runtime } from '../clients.ts';
import { createOrPresent, type ExecContext } from '../context.ts';
import { userExists } from '../reads.ts';
import type { StepModule } from './types.ts';
import { code } from '../../../flows/domain/inline.js';

type Params = StepParamsByName['createRamUser'];

export const meta = { step: 'createRamUser', title: 'Create RAM user', risk: 'medium', riskReason: 'creates an identity in the account (no console login, and no permission until a policy is attached)', apis: ['ram:GetUser', 'ram:CreateUser'], timeoutMs: 60_000 } as const satisfies StepModule<'createRamUser'>['meta'];

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  if (await userExists(ctx, params.userName)) return { step: 'createRamUser', upToDate: true, changes: [`RAM user ${code(params.userName)} already exists`] };
  return { step: 'createRamUser', upToDate: false, changes: [`create RAM user ${code(params.userName)} (no console login, API access only)`] };
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  // No read first: CreateUser answers EntityAlreadyExists for a user that is there (made before a crash, or by hand).
  const result = await createOrPresent(ctx, { service: 'ram', permission: 'ram:CreateUser', resource: `user ${code(params.userName)}` }, () =>
    ctx.clients.ram.createUserWithOptions(new CreateUserRequest({ userName: params.userName, comments: 'migrate-controller (ACK backup center), created by the backup-setup bot' }), runtime(ctx.clients.timeouts.write)),
  () => userExists(ctx, params.userName));
  if (result === 'present') return { step: 'createRamUser', outcome: 'already present', detail: `RAM user ${code(params.userName)} already exists` };
  ctx.logger.info({ userName: params.userName }, 'created RAM user');
  return { step: 'createRamUser', outcome: 'created', detail: `Created RAM user ${code(params.userName)}` };
}

export const step: StepModule<'createRamUser'> = { meta, preview, apply };
