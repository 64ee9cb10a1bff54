// RAM's evaluation of identity-based policies, shared by the RAM, CS and OSS emulators.
//
// Rules (RAM "Policy evaluation logic", https://www.alibabacloud.com/help/en/resource-access-management/latest/policy-evaluation-process,
// and "Policy structure and syntax", https://www.alibabacloud.com/help/document_detail/93739.html; OSS says the same for its
// requests, https://www.alibabacloud.com/help/en/oss/user-guide/how-oss-works-with-ram):
// - deny by default: a request no statement allows is implicitly denied;
// - an explicit Deny that matches wins over any Allow, in any attached policy;
// - Action/NotAction and Resource/NotResource: a statement with NotAction covers every action except the listed ones
//   (likewise NotResource), https://help.aliyun.com/en/ram/policy-elements;
// - `*` matches any run of characters (including `:` and `/`, so `acs:oss:*:*:cnfs-oss*` covers objects too).
// Stricter readings where the sources are silent (said in the report):
// - matching is case-sensitive, and `?` is a literal character (only `*` is documented as a wildcard);
// - Condition is not evaluated: an Allow statement with a Condition never allows, a Deny statement with a Condition
//   always denies. None of the policies the bot writes or relies on uses Condition.
// - a request that names several resources (AttachPolicyToUser: the user and the policy) needs every one allowed.

export interface PolicyStatementJson {
  Effect?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

export interface AuthRequest {
  /** `<ram-code>:<ActionName>`, e.g. `oss:PutObject`. */
  action: string;
  /** The ARNs the request acts on, e.g. `acs:oss:cn-hangzhou:1234:bucket/key`. */
  resources: string[];
}

export type Decision = 'Allow' | 'ImplicitDeny' | 'ExplicitDeny';

function patterns(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

const compiled = new Map<string, RegExp>();

/** A RAM pattern: `*` is any run of characters, everything else is literal. */
export function matches(pattern: string, value: string): boolean {
  let regex = compiled.get(pattern);
  if (!regex) {
    regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
    compiled.set(pattern, regex);
  }
  return regex.test(value);
}

const anyMatch = (list: string[], value: string) => list.some((p) => matches(p, value));

function coversAction(statement: PolicyStatementJson, action: string): boolean {
  if (statement.NotAction !== undefined) return !anyMatch(patterns(statement.NotAction), action);
  return anyMatch(patterns(statement.Action), action);
}

function coversResource(statement: PolicyStatementJson, resource: string): boolean {
  if (statement.NotResource !== undefined) return !anyMatch(patterns(statement.NotResource), resource);
  return anyMatch(patterns(statement.Resource), resource);
}

function statementsOf(document: string | object): PolicyStatementJson[] {
  let parsed: unknown = document;
  if (typeof document === 'string') {
    try {
      parsed = JSON.parse(document);
    } catch {
      return [];
    }
  }
  const statement = (parsed as { Statement?: unknown } | null)?.Statement;
  const list = Array.isArray(statement) ? statement : statement ? [statement] : [];
  return list.filter((s): s is PolicyStatementJson => typeof s === 'object' && s !== null);
}

/** The decision for one resource of the request. */
function decideOne(statements: PolicyStatementJson[], action: string, resource: string): Decision {
  let allowed = false;
  for (const s of statements) {
    if (!coversAction(s, action) || !coversResource(s, resource)) continue;
    if (s.Effect === 'Deny') return 'ExplicitDeny';
    if (s.Effect === 'Allow' && s.Condition === undefined) allowed = true;
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}

/** Evaluates every attached policy document together, as RAM does for an identity's request. */
export function evaluate(documents: (string | object)[], request: AuthRequest): Decision {
  const statements = documents.flatMap(statementsOf);
  const decisions = request.resources.map((resource) => decideOne(statements, request.action, resource));
  if (decisions.includes('ExplicitDeny')) return 'ExplicitDeny';
  return decisions.length > 0 && decisions.every((d) => d === 'Allow') ? 'Allow' : 'ImplicitDeny';
}
