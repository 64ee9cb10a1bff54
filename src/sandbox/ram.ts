// RAM (2015-05-01) emulator: RPC style, parameters in the query, ACS3-HMAC-SHA256 signed, the error
// codes and limits of the real service (reference §4). Every change goes through account.change().
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountState, RamAccessKey, RamPolicy, RamUser, SandboxAccount } from './account.ts';
import { newAccessKeyId, newAccessKeySecret } from './account.ts';
import { NonceCache, verifyAcs3, type CallerKey } from './acs3.ts';
import { findAccessKey } from './credentials.ts';
import { applyFaults, sleep, type FaultPlan } from './faults.ts';
import { found, type Handler, isoSeconds, newRequestId, randomDigits, readBody, sendJson, ServiceError } from './http.ts';
import { accessDeniedDetail, gate } from './iam/authorize.ts';
import type { RequestLog } from './request-log.ts';

const VERSION = '2015-05-01';
const HOST_ID = 'ram.aliyuncs.com';
export const RAM_LIMITS = { policyVersions: 5, accessKeysPerUser: 2, customPoliciesPerUser: 5, policyDocumentLength: 6144 };
// "1 to 64 characters … letters, digits, periods (.), hyphens (-), and underscores (_)"
// (CreateUser, https://help.aliyun.com/document_detail/28680.html): no @, unlike a logon name.
const USER_NAME = /^[A-Za-z0-9._-]+$/;
const POLICY_NAME = /^[A-Za-z0-9-]+$/;
const ROTATE_STRATEGIES = ['None', 'DeleteOldestNonDefaultVersionWhenLimitExceeded'];

class RamError extends ServiceError {}

const notExist = {
  user: () => new RamError(404, 'EntityNotExist.User', 'The user does not exist.'),
  policy: () => new RamError(404, 'EntityNotExist.Policy', 'The policy does not exist.'),
  version: () => new RamError(404, 'EntityNotExist.Policy.Version', 'The policy version does not exist.'),
  accessKey: () => new RamError(404, 'EntityNotExist.User.AccessKey', 'The user access key does not exist.'),
  attachment: () => new RamError(404, 'EntityNotExist.User.Policy', 'The policy is not attached to the user.'),
  role: () => new RamError(404, 'EntityNotExist.Role', 'The role does not exist.'),
};

/** The query of one call, with the checks RAM applies to its parameters. */
class Params {
  private readonly query: Record<string, string>;
  constructor(query: Record<string, string>) {
    this.query = query;
  }
  optional(name: string): string | undefined {
    const value = this.query[name];
    return value === undefined || value === '' ? undefined : value;
  }
  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) throw new RamError(400, `Missing${name}`, `${name} is mandatory for this action.`);
    return value;
  }
  name(param: string, pattern: RegExp, max: number, value: string): string {
    if (value.length > max) throw new RamError(400, `InvalidParameter.${param}.Length`, `The length of ${param} is beyond the limit ${max}.`);
    if (!pattern.test(value)) throw new RamError(400, `InvalidParameter.${param}.InvalidChars`, `The parameter ${param} contains invalid chars.`);
    return value;
  }
  userName(required = true): string | undefined {
    const value = required ? this.required('UserName') : this.optional('UserName');
    return value === undefined ? undefined : this.name('UserName', USER_NAME, 64, value);
  }
  policyName(): string {
    return this.name('PolicyName', POLICY_NAME, 128, this.required('PolicyName'));
  }
  policyType(): 'Custom' | 'System' {
    const value = this.required('PolicyType');
    if (value !== 'Custom' && value !== 'System') {
      throw new RamError(400, 'InvalidParameter.PolicyType', `The parameter PolicyType must be Custom or System, not "${value}".`);
    }
    return value;
  }
  text(name: string, max: number): string | undefined {
    const value = this.optional(name);
    if (value !== undefined && value.length > max) throw new RamError(400, `InvalidParameter.${name}.Length`, `The length of ${name} is beyond the limit ${max}.`);
    return value;
  }
  flag(name: string): boolean {
    const value = this.optional(name);
    if (value === undefined || value === 'false') return false;
    if (value === 'true') return true;
    throw new RamError(400, `InvalidParameter.${name}`, `The parameter ${name} must be true or false, not "${value}".`);
  }
  maxItems(): number {
    const value = this.optional('MaxItems');
    if (value === undefined) return 100;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new RamError(400, 'InvalidParameter.MaxItems', 'The parameter MaxItems must be an integer from 1 to 1000.');
    return n;
  }
  policyDocument(): string {
    const document = this.required('PolicyDocument');
    if (document.length > RAM_LIMITS.policyDocumentLength) {
      throw new RamError(400, 'InvalidParameter.PolicyDocument.Length', `The length of PolicyDocument is beyond the limit ${RAM_LIMITS.policyDocumentLength}.`);
    }
    const problem = policyDocumentProblem(document);
    if (problem) throw new RamError(400, 'MalformedPolicyDocument', `The policy document is malformed: ${problem}.`);
    return document;
  }
}

/** What makes a policy document unacceptable to RAM, or null. */
export function policyDocumentProblem(document: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return 'it is not valid JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'it must be a JSON object';
  const { Version, Statement, ...rest } = parsed as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return `unknown element ${Object.keys(rest)[0]}`;
  if (Version !== '1') return 'Version must be "1"';
  if (!Array.isArray(Statement) || Statement.length === 0) return 'Statement must be a non-empty array';
  const isStrings = (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s !== ''));
  for (const [i, statement] of Statement.entries()) {
    if (typeof statement !== 'object' || statement === null) return `Statement[${i}] must be an object`;
    const s = statement as Record<string, unknown>;
    const unknown = Object.keys(s).find((k) => !['Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'].includes(k));
    if (unknown) return `Statement[${i}] has unknown element ${unknown}`;
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') return `Statement[${i}].Effect must be Allow or Deny`;
    if (!isStrings(s.Action ?? s.NotAction)) return `Statement[${i}].Action must be a string or a list of strings`;
    if (!isStrings(s.Resource ?? s.NotResource)) return `Statement[${i}].Resource must be a string or a list of strings`;
    if (s.Condition !== undefined && (typeof s.Condition !== 'object' || s.Condition === null)) return `Statement[${i}].Condition must be an object`;
  }
  return null;
}

type Action = (p: Params, caller: CallerKey) => Record<string, unknown>;

/**
 * The resources RAM authorizes an action on (each operation's "RAM authorization" table in the RAM API reference,
 * https://help.aliyun.com/en/ram/developer-reference/api-ram-2015-05-01-overview): `acs:ram:*:<account>:user/<name>`,
 * `…:policy/<name>`, `…:role/<name>`. Attaching needs both the user and the policy (stricter reading: the tables list both).
 */
export function ramResources(action: string, query: Record<string, string>, caller: CallerKey, accountId: string): string[] {
  const arn = (type: string, name: string | undefined) => `acs:ram:*:${accountId}:${type}/${name || '*'}`;
  const user = arn('user', query.UserName || caller.user || undefined);
  const policy = arn('policy', query.PolicyName);
  switch (action) {
    case 'AttachPolicyToUser':
    case 'DetachPolicyFromUser':
      return [user, policy];
    case 'CreatePolicy': case 'GetPolicy': case 'CreatePolicyVersion': case 'ListPolicyVersions':
    case 'GetPolicyVersion': case 'DeletePolicyVersion': case 'SetDefaultPolicyVersion':
      return [policy];
    case 'GetRole':
      return [arn('role', query.RoleName)];
    case 'ListUsers':
      return [arn('user', '*')];
    default:
      return [user];
  }
}

export function ramHandler(account: SandboxAccount, faults?: FaultPlan, log?: RequestLog): Handler {
  const nonces = new NonceCache();
  const state = () => account.state;

  const findUser = (s: AccountState, name: string) => s.ram.users.find((u) => u.name === name);
  const user = (s: AccountState, name: string): RamUser => found(findUser(s, name), notExist.user);
  const policy = (s: AccountState, name: string, type: 'Custom' | 'System' = 'Custom'): RamPolicy => {
    // The emulator holds no system policies: only the account's custom ones exist.
    return found(type === 'Custom' ? s.ram.policies.find((p) => p.name === name) : undefined, notExist.policy);
  };
  const version = (p: RamPolicy, id: string) => found(p.versions.find((v) => v.id === id), notExist.version);
  const userView = (u: RamUser) => ({
    UserId: u.id,
    UserName: u.name,
    DisplayName: u.displayName ?? u.name,
    Comments: u.comments ?? '',
    CreateDate: u.createDate,
    UpdateDate: u.updateDate ?? u.createDate,
  });
  const policyView = (p: RamPolicy) => ({
    PolicyName: p.name,
    PolicyType: p.type,
    Description: p.description,
    DefaultVersion: p.defaultVersion,
    CreateDate: p.createDate,
  });
  const versionView = (p: RamPolicy, v: RamPolicy['versions'][number]) => ({
    VersionId: v.id,
    IsDefaultVersion: v.id === p.defaultVersion,
    PolicyDocument: v.document,
    CreateDate: v.createDate,
  });
  /** The user a key call is about: the named one, or the caller's own (the account itself for its root key). */
  const keyOwner = (p: Params, caller: CallerKey): string => {
    const name = p.userName(false);
    if (name !== undefined) return user(state(), name).name;
    return caller.user ?? '';
  };
  const keysOf = (s: AccountState, owner: string): Pick<RamAccessKey, 'id' | 'status' | 'createDate'>[] => [
    ...(owner === '' ? [{ id: s.rootKey.id, status: 'Active' as const, createDate: '' }] : []),
    ...s.ram.accessKeys.filter((k) => k.user === owner),
  ];

  const actions: Record<string, Action> = {
    CreateUser: (p) => {
      const name = p.userName() as string;
      const displayName = p.text('DisplayName', 128);
      const comments = p.text('Comments', 128);
      return account.change((s) => {
        if (findUser(s, name)) throw new RamError(409, 'EntityAlreadyExists.User', 'The user does already EXIST.');
        const created: RamUser = { name, id: randomDigits(16), createDate: isoSeconds() };
        if (displayName !== undefined) created.displayName = displayName;
        if (comments !== undefined) created.comments = comments;
        s.ram.users.push(created);
        return { User: { ...userView(created), MobilePhone: '', Email: '' } };
      });
    },
    GetUser: (p) => ({ User: { ...userView(user(state(), p.userName() as string)), MobilePhone: '', Email: '', LastLoginDate: '' } }),
    ListUsers: (p) => {
      const max = p.maxItems();
      const marker = p.optional('Marker');
      const all = state().ram.users;
      const start = marker === undefined ? 0 : all.findIndex((u) => u.name === marker);
      if (start < 0) throw new RamError(400, 'InvalidParameter.Marker', 'The parameter Marker is invalid.');
      const page = all.slice(start, start + max);
      const next = all[start + max];
      return { IsTruncated: next !== undefined, ...(next ? { Marker: next.name } : {}), Users: { User: page.map(userView) } };
    },
    DeleteUser: (p) => {
      const name = p.userName() as string;
      return account.change((s) => {
        user(s, name);
        if (s.ram.accessKeys.some((k) => k.user === name)) {
          throw new RamError(409, 'DeleteConflict.User.AccessKey', 'The user has access keys, please delete them first.');
        }
        if (s.ram.attachments.some((a) => a.user === name)) {
          throw new RamError(409, 'DeleteConflict.User.Policy', 'The user has attached policies, please detach them first.');
        }
        s.ram.users = s.ram.users.filter((u) => u.name !== name);
        return {};
      });
    },
    CreatePolicy: (p) => {
      const name = p.policyName();
      const document = p.policyDocument();
      const description = p.text('Description', 1024) ?? '';
      return account.change((s) => {
        if (s.ram.policies.some((x) => x.name === name)) throw new RamError(409, 'EntityAlreadyExists.Policy', 'The policy already exists.');
        const now = isoSeconds();
        const created: RamPolicy = {
          name, type: 'Custom', description, defaultVersion: 'v1', versions: [{ id: 'v1', document, createDate: now }],
          nextVersion: 2, createDate: now, updateDate: now,
        };
        s.ram.policies.push(created);
        return { Policy: policyView(created) };
      });
    },
    GetPolicy: (p) => {
      const s = state();
      const existing = policy(s, p.policyName(), p.policyType());
      const current = version(existing, existing.defaultVersion);
      return {
        Policy: {
          ...policyView(existing),
          UpdateDate: existing.updateDate,
          PolicyDocument: current.document,
          AttachmentCount: s.ram.attachments.filter((a) => a.policy === existing.name).length,
        },
        DefaultPolicyVersion: versionView(existing, current),
      };
    },
    CreatePolicyVersion: (p) => {
      const name = p.policyName();
      const document = p.policyDocument();
      const setAsDefault = p.flag('SetAsDefault');
      const rotate = p.optional('RotateStrategy') ?? 'None';
      if (!ROTATE_STRATEGIES.includes(rotate)) {
        throw new RamError(400, 'InvalidParameter.RotateStrategy', `The parameter RotateStrategy must be one of ${ROTATE_STRATEGIES.join(', ')}.`);
      }
      return account.change((s) => {
        const existing = policy(s, name);
        if (existing.versions.length >= RAM_LIMITS.policyVersions) {
          const oldest = existing.versions.find((v) => v.id !== existing.defaultVersion);
          if (rotate === 'None' || !oldest) {
            throw new RamError(409, 'LimitExceeded.Policy.Version', 'The count of policy version beyond the current limits.');
          }
          existing.versions = existing.versions.filter((v) => v !== oldest);
        }
        const now = isoSeconds();
        const created = { id: `v${existing.nextVersion}`, document, createDate: now };
        existing.nextVersion += 1;
        existing.versions.push(created);
        if (setAsDefault) existing.defaultVersion = created.id;
        existing.updateDate = now;
        return { PolicyVersion: versionView(existing, created) };
      });
    },
    ListPolicyVersions: (p) => {
      const existing = policy(state(), p.policyName(), p.policyType());
      return { PolicyVersions: { PolicyVersion: existing.versions.map((v) => versionView(existing, v)) } };
    },
    GetPolicyVersion: (p) => {
      const existing = policy(state(), p.policyName(), p.policyType());
      return { PolicyVersion: versionView(existing, version(existing, p.required('VersionId'))) };
    },
    DeletePolicyVersion: (p) => {
      const name = p.policyName();
      const id = p.required('VersionId');
      return account.change((s) => {
        const existing = policy(s, name);
        version(existing, id);
        if (id === existing.defaultVersion) {
          throw new RamError(409, 'DeleteConflict.Policy.Version.Default', 'The default policy version CAN NOT been deleted directly.');
        }
        existing.versions = existing.versions.filter((v) => v.id !== id);
        return {};
      });
    },
    SetDefaultPolicyVersion: (p) => {
      const name = p.policyName();
      const id = p.required('VersionId');
      return account.change((s) => {
        const existing = policy(s, name);
        version(existing, id);
        existing.defaultVersion = id;
        existing.updateDate = isoSeconds();
        return {};
      });
    },
    AttachPolicyToUser: (p) => {
      const type = p.policyType();
      const name = p.policyName();
      const userName = p.userName() as string;
      return account.change((s) => {
        policy(s, name, type);
        user(s, userName);
        const mine = s.ram.attachments.filter((a) => a.user === userName);
        if (mine.some((a) => a.policy === name && a.policyType === type)) {
          throw new RamError(409, 'EntityAlreadyExists.User.Policy', 'The user has already been attached this policy.');
        }
        if (mine.filter((a) => a.policyType === 'Custom').length >= RAM_LIMITS.customPoliciesPerUser) {
          throw new RamError(409, 'LimitExceeded.User.Policy', 'The count of custom policies attached to the user beyond the current limits.');
        }
        s.ram.attachments.push({ user: userName, policy: name, policyType: type, attachDate: isoSeconds() });
        return {};
      });
    },
    ListPoliciesForUser: (p) => {
      const s = state();
      const name = user(s, p.userName() as string).name;
      const attached = s.ram.attachments.filter((a) => a.user === name);
      return {
        Policies: {
          Policy: attached.map((a) => {
            const existing = policy(s, a.policy, a.policyType);
            return { PolicyName: a.policy, PolicyType: a.policyType, Description: existing.description, DefaultVersion: existing.defaultVersion, AttachDate: a.attachDate };
          }),
        },
      };
    },
    DetachPolicyFromUser: (p) => {
      const type = p.policyType();
      const name = p.policyName();
      const userName = p.userName() as string;
      return account.change((s) => {
        policy(s, name, type);
        user(s, userName);
        const before = s.ram.attachments.length;
        s.ram.attachments = s.ram.attachments.filter((a) => !(a.user === userName && a.policy === name && a.policyType === type));
        if (s.ram.attachments.length === before) throw notExist.attachment();
        return {};
      });
    },
    CreateAccessKey: (p, caller) => {
      const owner = keyOwner(p, caller);
      return account.change((s) => {
        if (keysOf(s, owner).length >= RAM_LIMITS.accessKeysPerUser) {
          throw new RamError(409, 'LimitExceeded.User.AccessKey', 'The access key count of the user access keys beyond the current limits.');
        }
        const key: RamAccessKey = { id: newAccessKeyId(), secret: newAccessKeySecret(), user: owner, status: 'Active', createDate: isoSeconds() };
        s.ram.accessKeys.push(key);
        return { AccessKey: { AccessKeyId: key.id, AccessKeySecret: key.secret, Status: key.status, CreateDate: key.createDate } };
      });
    },
    ListAccessKeys: (p, caller) => {
      const owner = keyOwner(p, caller);
      return { AccessKeys: { AccessKey: keysOf(state(), owner).map((k) => ({ AccessKeyId: k.id, Status: k.status, CreateDate: k.createDate })) } };
    },
    DeleteAccessKey: (p, caller) => {
      const id = p.required('UserAccessKeyId');
      const owner = keyOwner(p, caller);
      return account.change((s) => {
        if (!s.ram.accessKeys.some((k) => k.id === id && k.user === owner)) throw notExist.accessKey();
        s.ram.accessKeys = s.ram.accessKeys.filter((k) => k.id !== id);
        return {};
      });
    },
    GetRole: (p) => {
      const s = state();
      const name = p.required('RoleName');
      const role = s.ram.roles.find((r) => r.name === name);
      if (!role) throw notExist.role();
      return {
        Role: {
          RoleName: role.name,
          RoleId: role.id ?? '',
          Arn: `acs:ram::${s.accountId}:role/${role.name.toLowerCase()}`,
          Description: role.description ?? '',
          AssumeRolePolicyDocument: role.assumeRolePolicyDocument ?? '',
          MaxSessionDuration: 3600,
          CreateDate: role.createDate,
          UpdateDate: role.createDate,
        },
      };
    },
  };

  return async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const requestId = newRequestId();
    const answerError = (status: number, code: string, message: string) =>
      sendJson(res, status, {
        RequestId: requestId,
        HostId: HOST_ID,
        Code: code,
        Message: message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=Ram&requestId=${requestId}`,
      });

    if (req.method !== 'POST' && req.method !== 'GET') return answerError(405, 'UnsupportedHTTPMethod', `Specified HTTP method ${req.method} is not supported.`);
    const verified = verifyAcs3(req, body, (id) => findAccessKey(state(), id), nonces);
    if (!verified.ok) return answerError(verified.error.status, verified.error.code, verified.error.message);
    const actionName = String(req.headers['x-acs-action'] ?? '');
    if (req.headers['x-acs-version'] !== VERSION) return answerError(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
    const action = actions[actionName];
    if (!action) return answerError(404, 'InvalidAction.NotFound', `Specified api ${actionName} is not existing, please check your url and method.`);
    // RAM's refusal: HTTP 403, code NoPermission, the message naming the resource and the action (as in
    // https://github.com/alibaba-archive/fcli/issues/48), and the AccessDeniedDetail openapi-core reads (client.ts getAccessDeniedDetail).
    const refusal = gate(state(), log, 'ram', verified.caller, { action: `ram:${actionName}`, resources: ramResources(actionName, verified.query, verified.caller, state().accountId) });
    if (refusal) {
      return sendJson(res, 403, {
        RequestId: requestId,
        HostId: HOST_ID,
        Code: 'NoPermission',
        Message: `You are not authorized to do this action. Resource: ${refusal.resource} Action: ${refusal.action}`,
        Recommend: `https://api.aliyun.com/troubleshoot?q=NoPermission&product=Ram&requestId=${requestId}`,
        AccessDeniedDetail: accessDeniedDetail(refusal),
      });
    }
    if (await applyFaults(faults, actionName, req, res, answerError)) return;
    try {
      const answer = { RequestId: requestId, ...action(new Params(verified.query), verified.caller) };
      const delay = faults?.answerDelay(actionName) ?? 0;
      if (delay) await sleep(delay);
      sendJson(res, 200, answer);
    } catch (error) {
      if (!(error instanceof RamError)) throw error;
      answerError(error.status, error.code, error.message);
    }
  };
}
