// RAM's policy evaluation (src/sandbox/iam/policy.ts), rule by rule.
import { describe, expect, it } from 'vitest';
import { evaluate, matches } from '../../src/sandbox/iam/policy.ts';
import { MANAGED_BACKUP_ROLE_POLICY } from '../../src/sandbox/iam/system-policies.ts';

const doc = (...Statement: object[]) => JSON.stringify({ Version: '1', Statement });
const request = (action: string, ...resources: string[]) => ({ action, resources });
const OBJECT = 'acs:oss:cn-hangzhou:1234:team-data/backups/b1/velero-backup.json';

describe('RAM policy evaluation', () => {
  it('denies by default: no policy, or no statement that covers the request', () => {
    expect(evaluate([], request('oss:PutObject', OBJECT))).toBe('ImplicitDeny');
    expect(evaluate([doc({ Effect: 'Allow', Action: 'oss:GetObject', Resource: '*' })], request('oss:PutObject', OBJECT))).toBe('ImplicitDeny');
  });

  it('allows what an Allow statement covers', () => {
    expect(evaluate([doc({ Effect: 'Allow', Action: ['oss:PutObject'], Resource: ['acs:oss:*:*:team-data/*'] })], request('oss:PutObject', OBJECT))).toBe('Allow');
  });

  it('lets an explicit Deny win over any Allow, in any attached policy', () => {
    const allow = doc({ Effect: 'Allow', Action: 'oss:*', Resource: '*' });
    const deny = doc({ Effect: 'Deny', Action: 'oss:PutObject', Resource: 'acs:oss:*:*:team-data/*' });
    expect(evaluate([allow, deny], request('oss:PutObject', OBJECT))).toBe('ExplicitDeny');
    expect(evaluate([allow, deny], request('oss:GetObject', OBJECT))).toBe('Allow');
  });

  it('matches * across any characters, colons and slashes included, and nothing else as a wildcard', () => {
    expect(matches('acs:oss:*:*:cnfs-oss*', 'acs:oss:cn-hangzhou:1234:cnfs-oss-x/backups/a/b.json')).toBe(true);
    expect(matches('acs:oss:*:*:cnfs-oss*', 'acs:oss:cn-hangzhou:1234:team-data')).toBe(false);
    expect(matches('ram:Get*', 'ram:GetUser')).toBe(true);
    expect(matches('ram:GetUse?', 'ram:GetUser')).toBe(false);
    expect(matches('oss:putobject', 'oss:PutObject')).toBe(false);
  });

  it('NotAction covers every action but the listed ones; NotResource every resource but the listed ones', () => {
    const notAction = doc({ Effect: 'Allow', NotAction: ['oss:DeleteObject'], Resource: '*' });
    expect(evaluate([notAction], request('oss:PutObject', OBJECT))).toBe('Allow');
    expect(evaluate([notAction], request('oss:DeleteObject', OBJECT))).toBe('ImplicitDeny');
    const notResource = doc({ Effect: 'Deny', Action: 'oss:*', NotResource: ['acs:oss:*:*:team-data', 'acs:oss:*:*:team-data/*'] }, { Effect: 'Allow', Action: 'oss:*', Resource: '*' });
    expect(evaluate([notResource], request('oss:PutObject', OBJECT))).toBe('Allow');
    expect(evaluate([notResource], request('oss:PutObject', 'acs:oss:cn-hangzhou:1234:other/x'))).toBe('ExplicitDeny');
  });

  it('does not evaluate Condition: a conditional Allow never allows, a conditional Deny always denies (stricter reading)', () => {
    const condition = { IpAddress: { 'acs:SourceIp': ['10.0.0.0/8'] } };
    expect(evaluate([doc({ Effect: 'Allow', Action: 'oss:*', Resource: '*', Condition: condition })], request('oss:PutObject', OBJECT))).toBe('ImplicitDeny');
    expect(evaluate([doc({ Effect: 'Allow', Action: 'oss:*', Resource: '*' }, { Effect: 'Deny', Action: 'oss:*', Resource: '*', Condition: condition })], request('oss:PutObject', OBJECT))).toBe('ExplicitDeny');
  });

  it('needs every resource of a request allowed (AttachPolicyToUser names a user and a policy)', () => {
    const users = doc({ Effect: 'Allow', Action: 'ram:AttachPolicyToUser', Resource: 'acs:ram:*:1234:user/ack-backup-*' });
    const both = ['acs:ram:*:1234:user/ack-backup-c1', 'acs:ram:*:1234:policy/ack-backup-c1-migrate-controller'];
    expect(evaluate([users], request('ram:AttachPolicyToUser', ...both))).toBe('ImplicitDeny');
    expect(evaluate([users, doc({ Effect: 'Allow', Action: 'ram:AttachPolicyToUser', Resource: 'acs:ram:*:1234:policy/ack-backup-*' })], request('ram:AttachPolicyToUser', ...both))).toBe('Allow');
  });

  it("AliyunCSManagedBackupRestoreRole's policy covers cnfs-oss-* buckets only", () => {
    const role = [MANAGED_BACKUP_ROLE_POLICY.document];
    expect(evaluate(role, request('oss:PutObject', 'acs:oss:cn-hangzhou:1234:cnfs-oss-backup/backups/b/velero-backup.json'))).toBe('Allow');
    expect(evaluate(role, request('oss:ListObjects', 'acs:oss:cn-hangzhou:1234:cnfs-oss-backup'))).toBe('Allow');
    expect(evaluate(role, request('oss:PutObject', OBJECT))).toBe('ImplicitDeny');
    expect(evaluate(role, request('oss:PutBucket', 'acs:oss:cn-hangzhou:1234:cnfs-oss-new'))).toBe('ImplicitDeny');
  });

  it('ignores a document that is not JSON (it grants nothing)', () => {
    expect(evaluate(['{not json'], request('oss:PutObject', OBJECT))).toBe('ImplicitDeny');
  });
});
