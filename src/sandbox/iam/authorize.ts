// Who is calling (the identity behind the AccessKey or STS token) and whether RAM lets them: the decision every
// RAM, CS and OSS emulator request goes through right after its signature is verified.
import type { AccountState } from '../account.ts';
import type { CallerKey } from '../acs3.ts';
import type { LoggedRequest, RequestLog } from '../request-log.ts';
import { evaluate, type AuthRequest, type Decision } from './policy.ts';
import { SYSTEM_POLICIES } from './system-policies.ts';

export type Principal =
  | { type: 'Account' }
  | { type: 'SubUser'; userName: string; userId: string }
  | { type: 'AssumedRoleUser'; roleName: string; sessionName: string };

function principalOf(state: AccountState, caller: CallerKey): Principal {
  if (caller.role) return { type: 'AssumedRoleUser', roleName: caller.role.name, sessionName: caller.role.sessionName };
  if (caller.user === null) return { type: 'Account' };
  return { type: 'SubUser', userName: caller.user, userId: state.ram.users.find((u) => u.name === caller.user)?.id ?? '' };
}

/** "account", "user/<name>", "role/<name>": how the request log names the principal. */
function principalName(principal: Principal): string {
  if (principal.type === 'Account') return 'account';
  return principal.type === 'SubUser' ? `user/${principal.userName}` : `role/${principal.roleName}`;
}

/** The documents of every policy attached to the principal: a user's custom policies, a role's system policies. */
function documentsOf(state: AccountState, principal: Principal): (string | object)[] {
  if (principal.type === 'SubUser') {
    return state.ram.attachments
      .filter((a) => a.user === principal.userName && a.policyType === 'Custom')
      .flatMap((a) => {
        const policy = state.ram.policies.find((p) => p.name === a.policy);
        const current = policy?.versions.find((v) => v.id === policy.defaultVersion);
        return current ? [current.document] : [];
      });
  }
  if (principal.type === 'AssumedRoleUser') {
    const role = state.ram.roles.find((r) => r.name === principal.roleName);
    return (role?.policies ?? []).flatMap((name) => (SYSTEM_POLICIES[name] ? [SYSTEM_POLICIES[name]] : []));
  }
  return [];
}

/** What a refusal carries: the AccessDeniedDetail fields RAM, CS and OSS return. */
export interface Refusal {
  decision: Exclude<Decision, 'Allow'>;
  action: string;
  /** The first resource that is not allowed. */
  resource: string;
  principal: Principal;
  accountId: string;
}

/**
 * null when the request is allowed. The account's own key (the primary account) is never refused, as on the real
 * service (https://help.aliyun.com/en/ram/policy-evaluation-process: policies apply to RAM users and roles).
 */
export function authorize(state: AccountState, caller: CallerKey, request: AuthRequest): Refusal | null {
  const principal = principalOf(state, caller);
  if (principal.type === 'Account') return null;
  const documents = documentsOf(state, principal);
  const decision = evaluate(documents, request);
  if (decision === 'Allow') return null;
  const resource = request.resources.find((r) => evaluate(documents, { action: request.action, resources: [r] }) !== 'Allow') ?? request.resources[0] ?? '*';
  return { decision, action: request.action, resource, principal, accountId: state.accountId };
}

/** AccessDeniedDetail as RAM, CS (JSON) and OSS (XML) return it; the field names and values are the documented ones. */
export function accessDeniedDetail(refusal: Refusal): Record<string, string> {
  const { principal } = refusal;
  return {
    PolicyType: 'AccountLevelIdentityBasedPolicy',
    AuthPrincipalOwnerId: refusal.accountId,
    AuthPrincipalType: principal.type,
    AuthPrincipalDisplayName:
      principal.type === 'SubUser' ? principal.userId : principal.type === 'AssumedRoleUser' ? `${principal.roleName}:${principal.sessionName}` : refusal.accountId,
    NoPermissionType: refusal.decision,
    AuthAction: refusal.action,
  };
}

/** Authorizes one request and records the decision. */
export function gate(state: AccountState, log: RequestLog | undefined, service: LoggedRequest['service'], caller: CallerKey, request: AuthRequest): Refusal | null {
  const refusal = authorize(state, caller, request);
  log?.record({ service, action: request.action, resource: request.resources[0] ?? '*', principal: principalName(principalOf(state, caller)), allowed: refusal === null });
  return refusal;
}
