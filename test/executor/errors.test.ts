import { describe, expect, it } from 'vitest';
import { StepError } from '../../src/executor/contract.ts';
import { toStepError } from '../../src/executor/errors.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { registerSecret } from '../../src/observability/secrets.ts';

describe('toStepError', () => {
  it('names the missing permission and the resource for NoPermission, and counts the error', async () => {
    const metrics = createMetrics();
    const sdkError = Object.assign(new Error('code: 403, You are not authorized request id: 1'), {
      name: 'ClientError', code: 'NoPermission', statusCode: 403, data: { Message: 'You are not authorized', Recommend: 'https://api.aliyun.com/troubleshoot?q=NoPermission' },
    });
    const error = toStepError('createRamUser', sdkError, { service: 'ram', permission: 'ram:CreateUser', resource: 'user ack-backup-c-1' }, metrics);
    expect(error).toBeInstanceOf(StepError);
    expect(error.step).toBe('createRamUser');
    expect(error.code).toBe('NoPermission');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('ram:CreateUser');
    expect(error.message).toContain('user ack-backup-c-1');
    expect(error.message).toContain("add `ram:CreateUser` to the bot's RAM policy");
    const { values } = await metrics.cloudErrors.get();
    expect(values.find((v) => v.labels.code === 'NoPermission')?.value).toBe(1);
  });

  it('explains a missing cluster', () => {
    const error = toStepError('readCluster', Object.assign(new Error('code: 404, cluster not found'), { code: 'ErrorClusterNotFound', statusCode: 404 }), { service: 'cs', permission: 'cs:DescribeClusterDetail', resource: 'c-x' });
    expect(error.message).toMatch(/Cluster c-x was not found in this account\/region/);
  });

  it('reads client-node ApiException bodies and never carries a stack or a registered secret', () => {
    const secret = 'S3cretValueThatMustNotLeak';
    registerSecret(secret);
    const apiException = Object.assign(new Error(`HTTP-Code: 422\nMessage: bad\nBody: ${secret}`), { code: 422, body: JSON.stringify({ message: `invalid value ${secret}` }) });
    const error = toStepError('createAccessKeySecret', apiException, { service: 'kube', permission: 'create secrets', resource: 'Secret csdr/x' });
    expect(error.code).toBe('HTTP422');
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toMatch(/\n\s+at /);
    expect(error.message).toContain('Secret csdr/x');
  });

  it('marks throttling that outlasted the retries as retryable', () => {
    const error = toStepError('ensurePolicy', Object.assign(new Error('throttled'), { code: 'Throttling.User', statusCode: 400 }), { service: 'ram', permission: 'ram:CreatePolicy', resource: 'policy p' });
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/retry in a few minutes/);
  });
});
