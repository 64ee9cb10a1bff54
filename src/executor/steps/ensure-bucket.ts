// createBucket: the OSS bucket backups are written to.
import type { StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import { StepError } from '../contract.ts';
import { write, type ExecContext } from '../context.ts';
import { listBuckets } from '../reads.ts';
import type { StepModule } from './types.ts';
import { code } from '../../../flows/domain/inline.js';

type Params = StepParamsByName['createBucket'];

export const meta = { step: 'createBucket', title: 'Create OSS bucket', risk: 'low', riskReason: 'creates an empty private bucket; nobody gets access to it by this step', apis: ['oss:ListBuckets', 'oss:PutBucket'], timeoutMs: 60_000 } as const satisfies StepModule<'createBucket'>['meta'];

async function existing(ctx: ExecContext, params: Params) {
  return (await listBuckets(ctx, params.region)).find((b) => b.name === params.bucket) ?? null;
}

export async function preview(params: Params, ctx: ExecContext): Promise<StepPreview> {
  const found = await existing(ctx, params);
  if (found) return { step: 'createBucket', upToDate: true, changes: [`OSS bucket ${code(params.bucket)} already exists in ${found.region}; its settings are left as they are`] };
  return { step: 'createBucket', upToDate: false, changes: [`create private OSS bucket ${code(params.bucket)} in ${params.region} (Standard storage)`] };
}

export async function apply(params: Params, ctx: ExecContext): Promise<StepOutcome> {
  // Read first: PutBucket by the bucket's owner answers 200 and re-applies the ACL and storage class it is sent
  // (https://help.aliyun.com/document_detail/31959.html), so its answer cannot tell a new bucket from an existing
  // one, and sending it for an existing bucket would overwrite that bucket's settings.
  const before = await existing(ctx, params);
  if (before) return { step: 'createBucket', outcome: 'already present', detail: `OSS bucket ${code(params.bucket)} already exists in ${before.region}; its settings were left as they are` };
  const oss = await ctx.clients.oss(params.region);
  const context = { service: 'oss' as const, permission: 'oss:PutBucket', resource: `bucket ${code(params.bucket)}` };
  try {
    await write(ctx, context, () => oss.putBucket(params.bucket, { acl: 'private', storageClass: 'Standard' } as never),
      async () => ((await existing(ctx, params)) ? ({} as never) : null));
  } catch (error) {
    // 409 BucketAlreadyExists: the name is global and another account holds it (our own would have answered 200).
    if (error instanceof StepError && error.code === 'BucketAlreadyExists') {
      throw new StepError('createBucket', 'BucketAlreadyExists', `Bucket name ${code(params.bucket)} is taken by another Alibaba Cloud account (bucket names are global): choose another name.`);
    }
    throw error;
  }
  ctx.logger.info({ bucket: params.bucket, region: params.region }, 'created OSS bucket');
  return { step: 'createBucket', outcome: 'created', detail: `Created OSS bucket ${code(params.bucket)} in ${params.region}` };
}

export const step: StepModule<'createBucket'> = { meta, preview, apply };
