// The resources the Kubernetes emulator serves and the apiserver's rules for them: names, errors,
// patches, selectors. Pure functions over a cluster's objects; the server persists through account.change.
import type { KubeObject, SandboxCluster } from '../account.ts';
import { APPLICATION_BACKUP_CRD, DELETE_REQUEST_CRD } from './backup-center.ts';
import { BACKUP_LOCATION_SCHEMA, checkAgainstSchema, type SchemaCause } from './backup-location.ts';
import { BACKUP_LOCATION_CRD, objectKey } from './objects.ts';

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** Served only while this CustomResourceDefinition exists in the cluster. */
  crd?: string;
}

const ALL_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update'];

export const RESOURCES: ResourceType[] = [
  { group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, verbs: ALL_VERBS, shortNames: ['ns'] },
  { group: '', version: 'v1', plural: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, verbs: ALL_VERBS },
  { group: 'apps', version: 'v1', plural: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, verbs: ALL_VERBS, shortNames: ['deploy'], categories: ['all'] },
  {
    group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', singular: 'customresourcedefinition', kind: 'CustomResourceDefinition',
    namespaced: false, verbs: ['get', 'list'], shortNames: ['crd', 'crds'], categories: ['api-extensions'],
  },
  { group: 'csdr.alibabacloud.com', version: 'v1beta1', plural: 'backuplocations', singular: 'backuplocation', kind: 'BackupLocation', namespaced: true, verbs: ALL_VERBS, crd: BACKUP_LOCATION_CRD },
  { group: 'csdr.alibabacloud.com', version: 'v1beta1', plural: 'applicationbackups', singular: 'applicationbackup', kind: 'ApplicationBackup', namespaced: true, verbs: ALL_VERBS, crd: APPLICATION_BACKUP_CRD },
  { group: 'csdr.alibabacloud.com', version: 'v1beta1', plural: 'deleterequests', singular: 'deleterequest', kind: 'DeleteRequest', namespaced: true, verbs: ALL_VERBS, crd: DELETE_REQUEST_CRD },
];

export const apiVersionOf = (r: { group: string; version: string }) => (r.group ? `${r.group}/${r.version}` : r.version);
/** "secrets", "deployments.apps": how the apiserver names a resource in messages. */
export const qualified = (r: ResourceType) => (r.group ? `${r.plural}.${r.group}` : r.plural);

export function served(cluster: SandboxCluster, r: ResourceType): boolean {
  return !r.crd || cluster.objects[objectKey('apiextensions.k8s.io/v1', 'CustomResourceDefinition', '', r.crd)] !== undefined;
}

export function servedResources(cluster: SandboxCluster): ResourceType[] {
  return RESOURCES.filter((r) => served(cluster, r));
}

export class KubeError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: number, reason: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  status(): Record<string, unknown> {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, ...(this.details ? { details: this.details } : {}), code: this.code };
  }
}

const detailsOf = (r: ResourceType, name: string) => ({ name, ...(r.group ? { group: r.group } : {}), kind: r.plural });

export const notFound = (r: ResourceType, name: string) => new KubeError(404, 'NotFound', `${qualified(r)} "${name}" not found`, detailsOf(r, name));
export const unknownResource = () => new KubeError(404, 'NotFound', 'the server could not find the requested resource', {});
export const badRequest = (message: string) => new KubeError(400, 'BadRequest', message);
export const namespaceNotFound = (namespace: string) =>
  new KubeError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
export const alreadyExists = (r: ResourceType, name: string) =>
  new KubeError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, detailsOf(r, name));
export const conflict = (r: ResourceType, name: string) =>
  new KubeError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, detailsOf(r, name));

type Cause = SchemaCause;
export function invalid(r: ResourceType, name: string, causes: Cause[]): KubeError {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return new KubeError(422, 'Invalid', `${r.kind} "${name}" is invalid: ${causes.length > 1 ? `[${text}]` : text}`, {
    name, ...(r.group ? { group: r.group } : {}), kind: r.kind, causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })),
  });
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function nameProblem(r: ResourceType, name: string): string | null {
  // Namespaces are RFC 1123 labels; the other resources here are RFC 1123 subdomains.
  if (r.kind === 'Namespace') {
    if (name.length > 63 || !DNS1123_LABEL.test(name)) {
      return `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;
    }
    return null;
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
  }
  return null;
}

type Json = Record<string, unknown>;
const isMap = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The body as an object of this resource: kind and apiVersion must match the URL's (built-ins may omit them). */
export function checkBody(r: ResourceType, body: unknown): Json & { metadata: Json } {
  if (!isMap(body)) throw badRequest(`the body of the request is not a ${r.kind} object`);
  const apiVersion = body.apiVersion ?? (r.crd ? undefined : apiVersionOf(r));
  const kind = body.kind ?? (r.crd ? undefined : r.kind);
  if (kind === undefined) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
  if (kind !== r.kind || apiVersion !== apiVersionOf(r)) {
    throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${apiVersionOf(r)}) or the kind (${String(kind)}) is not ${r.kind}`);
  }
  const metadata = body.metadata ?? {};
  if (!isMap(metadata)) throw badRequest('metadata must be an object');
  return { ...body, apiVersion, kind, metadata };
}

/** The apiserver's validation of the fields this emulator models; throws 422 Invalid. */
export function validate(r: ResourceType, object: Json & { metadata: Json }): void {
  const name = typeof object.metadata.name === 'string' ? object.metadata.name : '';
  const causes: Cause[] = [];
  if (!name) causes.push({ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' });
  else {
    const problem = nameProblem(r, name);
    if (problem) causes.push({ field: 'metadata.name', reason: 'FieldValueInvalid', message: problem });
  }
  for (const field of ['labels', 'annotations'] as const) {
    const value = object.metadata[field];
    if (value === undefined || value === null) continue;
    if (!isMap(value) || Object.values(value).some((v) => typeof v !== 'string')) {
      causes.push({ field: `metadata.${field}`, reason: 'FieldValueInvalid', message: `Invalid value: ${field} must map strings to strings` });
    }
  }
  if (r.kind === 'Secret') {
    const data = object.data ?? {};
    if (!isMap(data)) causes.push({ field: 'data', reason: 'FieldValueInvalid', message: 'Invalid value: data must be a map' });
    else {
      for (const [key, value] of Object.entries(data)) {
        if (!SECRET_KEY.test(key)) causes.push({ field: `data[${key}]`, reason: 'FieldValueInvalid', message: `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'` });
        if (typeof value !== 'string' || !BASE64.test(value)) throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0`);
      }
    }
  }
  if (r.kind === 'BackupLocation') {
    // The CRD's schema: typed, required fields; unknown ones pruned (backup-location.ts).
    const { metadata, ...rest } = object;
    const checked = checkAgainstSchema(BACKUP_LOCATION_SCHEMA, rest, '', causes) as Json;
    for (const key of Object.keys(object)) if (key !== 'metadata' && !(key in checked)) delete object[key];
    Object.assign(object, checked, { metadata });
  }
  if (r.kind === 'Deployment') {
    const spec = isMap(object.spec) ? object.spec : {};
    const selector = isMap(spec.selector) ? spec.selector : null;
    const template = isMap(spec.template) ? spec.template : null;
    if (!selector) causes.push({ field: 'spec.selector', reason: 'FieldValueRequired', message: 'Required value' });
    if (!template) causes.push({ field: 'spec.template', reason: 'FieldValueRequired', message: 'Required value' });
    if (selector && template) {
      const wanted = (isMap(selector.matchLabels) ? selector.matchLabels : {}) as Record<string, unknown>;
      const labels = (isMap(template.metadata) && isMap(template.metadata.labels) ? template.metadata.labels : {}) as Record<string, unknown>;
      if (Object.keys(wanted).length === 0 || Object.entries(wanted).some(([k, v]) => labels[k] !== v)) {
        causes.push({ field: 'spec.template.metadata.labels', reason: 'FieldValueInvalid', message: 'Invalid value: `selector` does not match template `labels`' });
      }
    }
  }
  if (causes.length) throw invalid(r, name, causes);
}

/** Secrets: `stringData` is write-only, folded into base64 `data`. */
export function foldStringData(object: Json): void {
  if (object.kind !== 'Secret' || object.stringData === undefined) return;
  if (!isMap(object.stringData) || Object.values(object.stringData).some((v) => typeof v !== 'string')) throw badRequest('stringData must map strings to strings');
  const data = isMap(object.data) ? { ...object.data } : {};
  for (const [key, value] of Object.entries(object.stringData)) data[key] = Buffer.from(value as string, 'utf8').toString('base64');
  object.data = data;
  delete object.stringData;
}

// ---- patches ----

/** RFC 7386 JSON merge patch: maps merge, null removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return patch;
  const result: Json = isMap(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

const named = (items: unknown[]): items is (Json & { name: string })[] => items.every((x) => isMap(x) && typeof x.name === 'string');

/**
 * Strategic merge patch, for the fields this emulator meets: maps merge as in a merge patch, lists of
 * named maps (containers, volumes, env…) merge by `name`, other lists are replaced; ordering
 * directives ($setElementOrder, $retainKeys) are accepted and ignored, `$patch: delete` removes.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (Array.isArray(patch) && Array.isArray(target) && named(patch) && named(target)) {
    const result: unknown[] = [...target];
    for (const item of patch) {
      const index = result.findIndex((x) => (x as Json).name === item.name);
      if (item.$patch === 'delete') {
        if (index >= 0) result.splice(index, 1);
      } else if (index >= 0) result[index] = strategicMergePatch(result[index], item);
      else result.push(strategicMergePatch(undefined, item));
    }
    return result;
  }
  if (!isMap(patch)) return patch;
  const result: Json = isMap(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys' || key === '$patch') continue;
    if (value === null || (isMap(value) && value.$patch === 'delete')) delete result[key];
    else result[key] = strategicMergePatch(result[key], value);
  }
  return result;
}

const unescapePointer = (token: string) => token.replace(/~1/g, '/').replace(/~0/g, '~');

/** RFC 6902 JSON patch: add, remove, replace, test, move, copy. */
export function jsonPatch(document: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest('json patch must be an array of operations');
  let doc = structuredClone(document);
  const parse = (path: unknown): string[] => {
    if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) throw badRequest(`invalid JSON pointer ${JSON.stringify(path)}`);
    return path === '' ? [] : path.slice(1).split('/').map(unescapePointer);
  };
  const parentOf = (tokens: string[]): { parent: Json | unknown[]; last: string } => {
    let node: unknown = doc;
    for (const token of tokens.slice(0, -1)) {
      node = Array.isArray(node) ? node[Number(token)] : isMap(node) ? node[token] : undefined;
      if (node === undefined) throw new KubeError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: "/${tokens.join('/')}"`);
    }
    if (!isMap(node) && !Array.isArray(node)) throw new KubeError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: "/${tokens.join('/')}"`);
    return { parent: node, last: tokens[tokens.length - 1]! };
  };
  const get = (tokens: string[]): unknown => {
    if (tokens.length === 0) return doc;
    const { parent, last } = parentOf(tokens);
    const value = Array.isArray(parent) ? parent[Number(last)] : parent[last];
    if (value === undefined) throw new KubeError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: "/${tokens.join('/')}"`);
    return value;
  };
  const remove = (tokens: string[]): unknown => {
    const value = get(tokens);
    const { parent, last } = parentOf(tokens);
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
    return value;
  };
  const add = (tokens: string[], value: unknown, replace: boolean) => {
    if (tokens.length === 0) {
      doc = value;
      return;
    }
    if (replace) get(tokens);
    const { parent, last } = parentOf(tokens);
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new KubeError(422, 'Invalid', `the server rejected our request due to an error in our request: index out of range: ${last}`);
      if (replace) parent[index] = value;
      else parent.splice(index, 0, value);
    } else {
      parent[last] = value;
    }
  };
  for (const raw of operations) {
    if (!isMap(raw)) throw badRequest('json patch operations must be objects');
    const path = parse(raw.path);
    switch (raw.op) {
      case 'add': add(path, structuredClone(raw.value), false); break;
      case 'replace': add(path, structuredClone(raw.value), true); break;
      case 'remove': remove(path); break;
      case 'test':
        if (JSON.stringify(get(path)) !== JSON.stringify(raw.value)) throw new KubeError(422, 'Invalid', `the server rejected our request due to an error in our request: testing value /${path.join('/')} failed`);
        break;
      case 'move': add(path, remove(parse(raw.from)), false); break;
      case 'copy': add(path, structuredClone(get(parse(raw.from))), false); break;
      default: throw badRequest(`Unexpected kind: ${String(raw.op)}`);
    }
  }
  return doc;
}

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'] as const;

export function applyPatch(r: ResourceType, current: KubeObject, contentType: string, body: unknown): unknown {
  // Custom resources take no strategic merge patch, as on a real apiserver.
  if (contentType === 'application/strategic-merge-patch+json' && r.crd) {
    throw new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
  }
  if (contentType === 'application/json-patch+json') return jsonPatch(current, body);
  if (contentType === 'application/strategic-merge-patch+json') return strategicMergePatch(current, body);
  return mergePatch(current, body);
}

// ---- selectors ----

/** label selectors of the equality and existence kinds: a=b, a==b, a!=b, a, !a */
export function matchesLabels(object: KubeObject, selector: string | undefined): boolean {
  if (!selector) return true;
  const labels = object.metadata.labels ?? {};
  return selector.split(',').map((s) => s.trim()).filter(Boolean).every((term) => {
    const notEqual = /^([^!=]+)!=(.*)$/.exec(term);
    if (notEqual) return labels[notEqual[1]!.trim()] !== notEqual[2]!.trim();
    const equal = /^([^!=]+)==?(.*)$/.exec(term);
    if (equal) return labels[equal[1]!.trim()] === equal[2]!.trim();
    if (term.startsWith('!')) return !(term.slice(1).trim() in labels);
    if (/^[A-Za-z0-9./_-]+$/.test(term)) return term in labels;
    throw badRequest(`unable to parse requirement: ${term}`);
  });
}

export function matchesFields(object: KubeObject, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').map((s) => s.trim()).filter(Boolean).every((term) => {
    const match = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
    if (!match) throw badRequest(`invalid selector: '${term}'; can't understand '${term}'`);
    const [, field, op, value] = match;
    const actual = field === 'metadata.name' ? object.metadata.name : field === 'metadata.namespace' ? (object.metadata.namespace ?? '') : null;
    if (actual === null) throw badRequest(`"${field!}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    return op === '!=' ? actual !== value : actual === value;
  });
}
