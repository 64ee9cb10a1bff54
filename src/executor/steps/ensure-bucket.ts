// createBucket: the OSS bucket backups are written to.
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { StepError } from '../contract.ts';
import { createOrPresent, type ExecContext } from '../context.ts';
import { listBuckets } from '../reads.ts';
import type { StepModule } from './types.ts';

type Params = StepParamsByName['createBucket'];

export const meta = { step: 'createBucket', title: 'Create OSS bucket', risk: 'low', apis: ['oss:ListBuckets', 'oss:PutBucket'], timeoutMs: 60_000 } as const satisfies StepModule<'createBucket'>['meta'];

async function existing(ctx: ExecContext, params: Params) {
  return (await listBuckets(ctx, params.region)).find((b) => b.name === params.bucket) ?? null;
}

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  const found = await existing(ctx, params);
  if (found) return { step: 'createBucket', upToDate: true, changes: [`OSS bucket ${params.bucket} already exists in ${found.region}`] };
  return { step: 'createBucket', upToDate: false, changes: [`create private OSS bucket ${params.bucket} in ${params.region} (Standard storage)`] };
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  // No read first: PutBucket answers BucketAlreadyExists for a name that is taken, ours or not (read below).
  const oss = await ctx.clients.oss(params.region);
  const result = await createOrPresent(ctx, { service: 'oss', permission: 'oss:PutBucket', resource: `bucket ${params.bucket}` }, () =>
    oss.putBucket(params.bucket, { acl: 'private', storageClass: 'Standard' } as never));
  if (result === 'present') {
    // BucketAlreadyExists is ours only when the account lists it; otherwise another account owns the name.
    const after = await existing(ctx, params);
    if (!after) throw new StepError('createBucket', 'BucketAlreadyExists', `Bucket name ${params.bucket} is taken by another Alibaba Cloud account: choose another name.`);
    return { step: 'createBucket', outcome: 'already present', detail: `OSS bucket ${params.bucket} already exists in ${after.region}` };
  }
  ctx.logger.info({ bucket: params.bucket, region: params.region }, 'created OSS bucket');
  return { step: 'createBucket', outcome: 'created', detail: `Created OSS bucket ${params.bucket} in ${params.region}` };
}

export const step: StepModule<'createBucket'> = { meta, preview, apply };
