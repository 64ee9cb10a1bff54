import { CreateAccessKeyRequest } from '@alicloud/ram20150501';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../flows/contract.ts';
import { policyDocument } from '../../flows/domain/policy.ts';
import { StepError } from '../../src/executor/contract.ts';
import { runtime } from '../../src/executor/clients.ts';
import { setupState } from '../support/sandbox-state.ts';
import { counterValue, failure, startHarness, type Harness } from './helpers.ts';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });
afterEach(async () => { await h.close(); });

const user = 'ack-backup-c-sandbox-dedicated';
const policy = 'ack-backup-c-sandbox-dedicated-migrate-controller';
const oldDocument = policyDocument({ addonVersion: '1.7.6' });
const newDocument = policyDocument({ addonVersion: '1.8.7' });

describe('createRamUser', () => {
  it('previews, creates, and is already present the second time', async () => {
    const preview = await h.executor.preview({ step: 'createRamUser', params: { userName: user } });
    expect(preview).toEqual({ step: 'createRamUser', upToDate: false, changes: [expect.stringContaining(`create RAM user \`${user}\``)] });
    expect(await h.executor.apply({ step: 'createRamUser', params: { userName: user } })).toMatchObject({ outcome: 'created' });
    expect(setupState(h.sandbox).ram.users).toEqual([user]);
    expect(await h.executor.apply({ step: 'createRamUser', params: { userName: user } })).toMatchObject({ outcome: 'already present' });
    expect((await h.executor.preview({ step: 'createRamUser', params: { userName: user } })).upToDate).toBe(true);
  });

  it('retries throttling, 5xx and dropped connections and then succeeds', async () => {
    h.sandbox.faults.ram.add({ operation: 'CreateUser', fault: { kind: 'throttle' }, times: 2 });
    h.sandbox.faults.ram.add({ operation: 'GetUser', fault: { kind: 'error5xx' }, times: 1 });
    expect(await h.executor.apply({ step: 'createRamUser', params: { userName: user } })).toMatchObject({ outcome: 'created' });
    expect(h.sandbox.faults.ram.calls.filter((c) => c === 'CreateUser')).toHaveLength(3);
    expect(setupState(h.sandbox).ram.users).toEqual([user]);
  });

  it('retries a dropped connection', async () => {
    h.sandbox.faults.ram.add({ operation: 'CreateUser', fault: { kind: 'drop' }, times: 1 });
    expect(await h.executor.apply({ step: 'createRamUser', params: { userName: user } })).toMatchObject({ outcome: 'created' });
    expect(setupState(h.sandbox).ram.users).toEqual([user]);
  });

  it('turns a permanent NoPermission into a specific StepError and changes nothing', async () => {
    h.sandbox.faults.ram.add({ operation: 'CreateUser', fault: { kind: 'error', status: 403, code: 'NoPermission', message: 'You are not authorized to do this action.' } });
    const error = await failure<StepError>(h.executor.apply({ step: 'createRamUser', params: { userName: user } }));
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ step: 'createRamUser', code: 'NoPermission', retryable: false });
    expect(error.message).toContain(`\`ram:CreateUser\` on user \`${user}\``);
    expect(error.message).not.toMatch(/\n\s+at /);
    expect(h.sandbox.faults.ram.calls.filter((c) => c === 'CreateUser')).toHaveLength(1);
    expect(setupState(h.sandbox).ram.users).toEqual([]);
    expect(await counterValue(h.metrics, { service: 'ram', code: 'NoPermission' })).toBe(1);
  });
});

describe('ensurePolicy', () => {
  const ensure = (document: PolicyDocument) => ({ step: 'ensurePolicy' as const, params: { policyName: policy, document } });

  it('creates, is already present, and updates with a new default version when the document differs', async () => {
    expect((await h.executor.preview(ensure(oldDocument))).changes[0]).toMatch(/create custom RAM policy/);
    expect(await h.executor.apply(ensure(oldDocument))).toMatchObject({ outcome: 'created' });
    expect(await h.executor.apply(ensure(oldDocument))).toMatchObject({ outcome: 'already present' });

    const preview = await h.executor.preview(ensure(newDocument));
    expect(preview.upToDate).toBe(false);
    expect(preview.changes.join('\n')).toMatch(/adds Allow on `\*`: .*`ecs:CopySnapshot`/);
    expect(await h.executor.apply(ensure(newDocument))).toMatchObject({ outcome: 'updated' });
    const state = setupState(h.sandbox).ram.policies.find((p) => p.name === policy)!;
    expect(state.versions).toEqual(['v1', 'v2']);
    expect(state.defaultVersion).toBe('v2');
    expect(await h.executor.apply(ensure(newDocument))).toMatchObject({ outcome: 'already present' });
  });

  it('deletes the oldest non-default version when the policy already has 5', async () => {
    const buckets = ['b1', 'b2', 'b3', 'b4', 'b5'];
    for (const bucket of buckets) await h.executor.apply(ensure(policyDocument({ addonVersion: '1.8.7', bucket: `cnfs-oss-${bucket}` })));
    expect(setupState(h.sandbox).ram.policies[0]!.versions).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    const preview = await h.executor.preview(ensure(newDocument));
    expect(preview.changes.join('\n')).toContain('delete its oldest non-default version v1');
    expect(await h.executor.apply(ensure(newDocument))).toMatchObject({ outcome: 'updated' });
    const state = setupState(h.sandbox).ram.policies[0]!;
    expect(state.versions).toEqual(['v2', 'v3', 'v4', 'v5', 'v6']);
    expect(state.defaultVersion).toBe('v6');
  });
});

describe('attachPolicy', () => {
  it('attaches once', async () => {
    await h.executor.apply({ step: 'createRamUser', params: { userName: user } });
    await h.executor.apply({ step: 'ensurePolicy', params: { policyName: policy, document: newDocument } });
    const request = { step: 'attachPolicy' as const, params: { policyName: policy, userName: user } };
    expect((await h.executor.preview(request)).changes).toEqual([`attach custom policy \`${policy}\` to RAM user \`${user}\``]);
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'created' });
    expect(setupState(h.sandbox).ram.attachments).toEqual([{ user, policy }]);
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'already present' });
  });
});

describe('createBucket', () => {
  it('creates a bucket in the region asked for, once', async () => {
    const request = { step: 'createBucket' as const, params: { bucket: 'cnfs-oss-backup-new', region: 'cn-beijing' } };
    expect((await h.executor.preview(request)).upToDate).toBe(false);
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'created' });
    expect(h.sandbox.publicState().oss.buckets).toContainEqual({ name: 'cnfs-oss-backup-new', region: 'cn-beijing', objects: 0 });
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'already present' });
  });

  it('treats the account\'s existing bucket as present', async () => {
    const request = { step: 'createBucket' as const, params: { bucket: 'cnfs-oss-sandbox-backups', region: 'cn-hangzhou' } };
    expect(await h.executor.preview(request)).toMatchObject({ upToDate: true });
    expect(await h.executor.apply(request)).toMatchObject({ outcome: 'already present' });
  });

  it('retries OSS 503s', async () => {
    h.sandbox.faults.oss.add({ operation: 'PutBucket', fault: { kind: 'error5xx' }, times: 2 });
    expect(await h.executor.apply({ step: 'createBucket', params: { bucket: 'cnfs-oss-retried', region: 'cn-hangzhou' } })).toMatchObject({ outcome: 'created' });
  });
});

describe('the RAM client used directly', () => {
  it('needs no SDK retries: a single throttled call fails at once', async () => {
    h.sandbox.faults.ram.add({ operation: 'CreateAccessKey', fault: { kind: 'throttle' }, times: 1 });
    await expect(h.clients.ram.createAccessKeyWithOptions(new CreateAccessKeyRequest({}), runtime())).rejects.toMatchObject({ code: 'Throttling.User' });
    expect(h.sandbox.faults.ram.calls.filter((c) => c === 'CreateAccessKey')).toHaveLength(1);
  });
});
