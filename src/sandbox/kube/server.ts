// Kubernetes API server emulator: one HTTPS server (self-signed, see kubeconfig.ts) for every sandbox
// cluster, each under /clusters/<clusterId>, speaking the apiserver's JSON (Status errors, Lists, discovery) for the
// resources the setup touches. Every change goes through account.change, so it persists.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AccountState, KubeObject, SandboxAccount, SandboxCluster } from '../account.ts';
import { applyFaults, type FaultPlan } from '../faults.ts';
import { readBody, sendJson, type Handler } from '../http.ts';
import { selfSignedCertificate, type KubeServerAddress } from './kubeconfig.ts';
import { deletedVaultNameRefusal, rememberDeletedVault } from './backup-location.ts';
import { addObject, adminTokenOf, namespaceObject, nextResourceVersion, objectKey, settleDeployment } from './objects.ts';
import {
  KubeError, PATCH_TYPES, alreadyExists, apiVersionOf, applyPatch, badRequest, checkBody, conflict, foldStringData, invalid,
  matchesFields, matchesLabels, namespaceNotFound, notFound, servedResources, unknownResource, validate, type ResourceType,
} from './store.ts';

type Json = Record<string, unknown>;
type Verb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';

const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
const methodNotAllowed = () => new KubeError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
const unauthorized = () => new KubeError(401, 'Unauthorized', 'Unauthorized');
const digest = (text: string) => createHash('sha256').update(text).digest();

function authorized(req: IncomingMessage, cluster: SandboxCluster): boolean {
  const expected = adminTokenOf(cluster);
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return expected !== null && match !== null && timingSafeEqual(digest(match[1]!), digest(expected));
}

// ---- discovery ----

function versionInfo(cluster: SandboxCluster) {
  const gitVersion = `v${cluster.version.replace(/^v/, '')}`;
  const [major = '1', minor = '0'] = gitVersion.slice(1).split('.');
  return {
    major, minor, gitVersion, gitCommit: createHash('sha1').update(gitVersion).digest('hex'), gitTreeState: 'clean',
    buildDate: '2024-10-01T00:00:00Z', goVersion: 'go1.22.8', compiler: 'gc', platform: 'linux/amd64',
  };
}

function groupVersionEntry(r: ResourceType) {
  const entry = { groupVersion: apiVersionOf(r), version: r.version };
  return { name: r.group, versions: [entry], preferredVersion: entry };
}

function resourceList(resources: ResourceType[], groupVersion: string) {
  return {
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion,
    resources: resources.map((r) => ({
      name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}), ...(r.categories ? { categories: r.categories } : {}),
    })),
  };
}

/** Answers the discovery paths; null when the path is not one. */
function discovery(cluster: SandboxCluster, path: string, host: string): unknown {
  const resources = servedResources(cluster);
  if (path === '/version') return versionInfo(cluster);
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] };
  if (path === '/apis') {
    const groups = new Map<string, ReturnType<typeof groupVersionEntry>>();
    for (const r of resources) if (r.group && !groups.has(r.group)) groups.set(r.group, groupVersionEntry(r));
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups.values()] };
  }
  if (path === '/api/v1') return resourceList(resources.filter((r) => r.group === ''), 'v1');
  const group = /^\/apis\/([^/]+)$/.exec(path);
  if (group) {
    const r = resources.find((x) => x.group === group[1]);
    if (!r) throw unknownResource();
    return { kind: 'APIGroup', apiVersion: 'v1', ...groupVersionEntry(r) };
  }
  const groupVersion = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (groupVersion) {
    const inGroup = resources.filter((r) => r.group === groupVersion[1] && r.version === groupVersion[2]);
    if (inGroup.length === 0) throw unknownResource();
    return resourceList(inGroup, `${groupVersion[1]}/${groupVersion[2]}`);
  }
  return null;
}

// ---- resource requests ----

interface Target { r: ResourceType; namespace: string | undefined; name: string | undefined }

function resolve(cluster: SandboxCluster, path: string): Target {
  const match = /^\/api\/v1(\/.*)$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)(\/.*)$/.exec(path);
  if (!match) throw unknownResource();
  const groupVersion = match.length === 2 ? 'v1' : match[1]!;
  const segments = match[match.length - 1]!.slice(1).split('/').map(decodeURIComponent);
  let namespace: string | undefined;
  let rest = segments;
  if (segments[0] === 'namespaces' && segments.length >= 3) {
    namespace = segments[1];
    rest = segments.slice(2);
  }
  const [plural, name, ...subresource] = rest;
  const r = servedResources(cluster).find((x) => apiVersionOf(x) === groupVersion && x.plural === plural);
  if (!r || subresource.length > 0 || name === '') throw unknownResource();
  if (namespace !== undefined && !r.namespaced) throw unknownResource();
  if (namespace === undefined && r.namespaced && name !== undefined) throw unknownResource();
  return { r, namespace, name };
}

function verbOf(method: string | undefined, target: Target, query: URLSearchParams): Verb {
  const named = target.name !== undefined;
  if (method === 'GET' && !named && query.get('watch') && query.get('watch') !== 'false') {
    throw new KubeError(405, 'MethodNotAllowed', 'watch is not supported by the sandbox Kubernetes emulator');
  }
  const verb = ({ GET: named ? 'get' : 'list', POST: named ? null : 'create', PUT: named ? 'update' : null, PATCH: named ? 'patch' : null, DELETE: named ? 'delete' : null } as Record<string, Verb | null>)[method ?? ''];
  if (!verb || !target.r.verbs.includes(verb)) throw methodNotAllowed();
  return verb;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const mediaType = (req: IncomingMessage) => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

const keyFor = (r: ResourceType, namespace: string | undefined, name: string) => objectKey(apiVersionOf(r), r.kind, namespace ?? '', name);
const tracksGeneration = (r: ResourceType) => r.kind === 'Deployment' || r.crd !== undefined;

function stored(cluster: SandboxCluster, r: ResourceType, namespace: string | undefined, name: string): KubeObject {
  const found = cluster.objects[keyFor(r, namespace, name)];
  if (!found) throw notFound(r, name);
  return found;
}

function requireNamespace(cluster: SandboxCluster, namespace: string | undefined): void {
  if (namespace !== undefined && !cluster.objects[objectKey('v1', 'Namespace', '', namespace)]) throw namespaceNotFound(namespace);
}

function list(cluster: SandboxCluster, { r, namespace }: Target, query: URLSearchParams) {
  const items = Object.values(cluster.objects)
    .filter((o) => o.apiVersion === apiVersionOf(r) && o.kind === r.kind && (namespace === undefined || o.metadata.namespace === namespace))
    .filter((o) => matchesLabels(o, query.get('labelSelector') ?? undefined) && matchesFields(o, query.get('fieldSelector') ?? undefined))
    .sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`));
  return { apiVersion: apiVersionOf(r), kind: `${r.kind}List`, metadata: { resourceVersion: String(cluster.resourceVersion) }, items };
}

function create(cluster: SandboxCluster, { r, namespace }: Target, body: unknown): KubeObject {
  const object = checkBody(r, body);
  const metadata = { ...object.metadata };
  if (r.namespaced) {
    if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    metadata.namespace = namespace;
  } else {
    delete metadata.namespace;
  }
  if (metadata.resourceVersion !== undefined && metadata.resourceVersion !== '') throw badRequest('resourceVersion should not be set on objects to be created');
  if (!metadata.name && typeof metadata.generateName === 'string' && metadata.generateName) {
    metadata.name = metadata.generateName + randomBytes(4).toString('hex').slice(0, 5);
  }
  for (const field of ['uid', 'creationTimestamp', 'deletionTimestamp', 'generation', 'managedFields']) delete metadata[field];
  requireNamespace(cluster, namespace);
  const candidate: Json & { metadata: Json } = { ...object, metadata };
  foldStringData(candidate);
  validate(r, candidate);
  const name = metadata.name as string;
  if (cluster.objects[keyFor(r, namespace, name)]) throw alreadyExists(r, name);
  if (r.kind === 'Namespace') {
    const defaults = namespaceObject(name);
    candidate.metadata = { ...metadata, labels: { ...((metadata.labels ?? {}) as Json), 'kubernetes.io/metadata.name': name } };
    candidate.spec = defaults.spec;
    candidate.status = defaults.status;
  }
  if (r.kind === 'Secret' && candidate.type === undefined) candidate.type = 'Opaque';
  if (tracksGeneration(r)) candidate.metadata.generation = 1;
  if (r.kind === 'Deployment') {
    const spec = candidate.spec as Json;
    spec.replicas ??= 1;
    spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
  }
  const created = addObject(cluster, candidate as Parameters<typeof addObject>[1]);
  if (r.kind === 'Deployment') settleDeployment(created);
  return created;
}

/** PUT and PATCH: the candidate replaces the stored object, keeping what the server owns. */
function replace(cluster: SandboxCluster, { r, namespace, name }: Target, existing: KubeObject, body: unknown, verb: Verb): KubeObject {
  const object = checkBody(r, body);
  const metadata = { ...object.metadata };
  if (metadata.name !== undefined && metadata.name !== name) {
    throw badRequest(`the name of the object (${String(metadata.name)}) does not match the name on the URL (${name!})`);
  }
  if (r.namespaced && metadata.namespace !== undefined && metadata.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const version = metadata.resourceVersion;
  if (version !== undefined && version !== '' && version !== existing.metadata.resourceVersion) throw conflict(r, name!);
  if (verb === 'update' && r.crd && (version === undefined || version === '')) {
    throw invalid(r, name!, [{ field: 'metadata.resourceVersion', reason: 'FieldValueInvalid', message: 'Invalid value: 0x0: must be specified for an update' }]);
  }
  const candidate: Json & { metadata: Json } = {
    ...object,
    metadata: {
      ...metadata, name, ...(r.namespaced ? { namespace } : {}),
      uid: existing.metadata.uid, creationTimestamp: existing.metadata.creationTimestamp,
    },
  };
  if (!r.namespaced) delete candidate.metadata.namespace;
  foldStringData(candidate);
  validate(r, candidate);
  if (r.kind === 'Namespace') {
    candidate.spec = existing.spec;
    candidate.status = existing.status;
    candidate.metadata.labels = { ...((candidate.metadata.labels ?? {}) as Json), 'kubernetes.io/metadata.name': name };
  }
  if (r.kind === 'Secret' && candidate.type === undefined) candidate.type = existing.type ?? 'Opaque';
  if (r.kind === 'Secret' && candidate.type !== existing.type) {
    throw invalid(r, name!, [{ field: 'type', reason: 'FieldValueInvalid', message: `Invalid value: "${String(candidate.type)}": field is immutable` }]);
  }
  if (tracksGeneration(r)) {
    const generation = Number(existing.metadata.generation ?? 1);
    candidate.metadata.generation = JSON.stringify(candidate.spec) === JSON.stringify(existing.spec) ? generation : generation + 1;
  }
  candidate.metadata.resourceVersion = nextResourceVersion(cluster);
  const updated = candidate as KubeObject;
  if (r.kind === 'Deployment') {
    (updated.spec as Json).replicas ??= 1;
    settleDeployment(updated);
  }
  cluster.objects[keyFor(r, namespace, name!)] = updated;
  return updated;
}

function remove(cluster: SandboxCluster, { r, namespace, name }: Target, body: unknown): unknown {
  const existing = stored(cluster, r, namespace, name!);
  const preconditions = (body as { preconditions?: { uid?: string; resourceVersion?: string } } | null)?.preconditions;
  if (preconditions?.uid && preconditions.uid !== existing.metadata.uid) throw conflict(r, name!);
  if (preconditions?.resourceVersion && preconditions.resourceVersion !== existing.metadata.resourceVersion) throw conflict(r, name!);
  if (r.kind === 'Namespace') {
    if (PROTECTED_NAMESPACES.has(name!)) throw new KubeError(403, 'Forbidden', `namespaces "${name!}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    // The namespace controller empties a terminating namespace; the emulator does it at once.
    for (const [key, object] of Object.entries(cluster.objects)) if (object.metadata.namespace === name) delete cluster.objects[key];
    delete cluster.objects[keyFor(r, undefined, name!)];
    return { ...existing, metadata: { ...existing.metadata, deletionTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), resourceVersion: nextResourceVersion(cluster) }, status: { phase: 'Terminating' } };
  }
  delete cluster.objects[keyFor(r, namespace, name!)];
  nextResourceVersion(cluster);
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, ...(r.group ? { group: r.group } : {}), kind: r.plural, uid: existing.metadata.uid } };
}

async function serveResource(
  account: SandboxAccount, clusterId: string, target: Target, verb: Verb, req: IncomingMessage, query: URLSearchParams,
): Promise<{ status: number; body: unknown }> {
  const raw = await readBody(req);
  const cluster = (s: AccountState) => s.clusters[clusterId]!;
  const { r, namespace, name } = target;
  switch (verb) {
    case 'get':
      return { status: 200, body: stored(cluster(account.state), r, namespace, name!) };
    case 'list':
      return { status: 200, body: list(cluster(account.state), target, query) };
    case 'create':
    case 'update': {
      // A body without Content-Type is read as the first serializer the apiserver has, JSON (Debian's
      // kubectl 1.20 sends none on create): NegotiateInputSerializerForMediaType in
      // k8s.io/apiserver/pkg/endpoints/handlers/negotiation/negotiate.go. PATCH has no such default.
      if (!['', 'application/json'].includes(mediaType(req))) throw new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json`);
      const body = parseJson(raw);
      if (verb === 'create') {
        return {
          status: 201,
          body: account.change((s) => {
            const refusal = r.kind === 'BackupLocation' ? deletedVaultNameRefusal(s, (body as { metadata?: { name?: unknown } } | null)?.metadata?.name) : null;
            if (refusal) throw new KubeError(400, 'BadRequest', refusal);
            return create(cluster(s), target, body);
          }),
        };
      }
      return { status: 200, body: account.change((s) => replace(cluster(s), target, stored(cluster(s), r, namespace, name!), body, verb)) };
    }
    case 'patch': {
      const type = mediaType(req);
      if (!(PATCH_TYPES as readonly string[]).includes(type)) {
        throw new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`);
      }
      const patch = parseJson(raw);
      return {
        status: 200,
        body: account.change((s) => {
          const existing = stored(cluster(s), r, namespace, name!);
          return replace(cluster(s), target, existing, applyPatch(r, existing, type, patch), verb);
        }),
      };
    }
    case 'delete': {
      const body = raw.length ? parseJson(raw) : null;
      return {
        status: 200,
        body: account.change((s) => {
          const removed = remove(cluster(s), target, body);
          if (r.kind === 'BackupLocation') rememberDeletedVault(s, name!);
          return removed;
        }),
      };
    }
  }
}

/** Like http.ts listen, over TLS: 127.0.0.1, an ephemeral port, a throwing handler answers 500. */
async function listenTls(handler: Handler, tls: { key: string; cert: string }): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const server = createServer(tls, (req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`emulator error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  let connections = 0;
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export async function startKubeServer({ account, faults }: { account: SandboxAccount; faults?: FaultPlan }): Promise<KubeServerAddress & { tlsConnections(): number; close(): Promise<void> }> {
  const answer = (res: ServerResponse, error: KubeError) =>
    sendJson(res, error.code, error.status(), error.code === 429 ? { 'retry-after': '1' } : {});

  const { certificatePem, keyPem } = selfSignedCertificate();
  const server = await listenTls(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      const match = /^\/clusters\/([^/]+)(\/.*)?$/.exec(url.pathname);
      if (!match) throw unknownResource();
      const clusterId = match[1]!;
      const path = (match[2] ?? '/').replace(/\/+$/, '') || '/';
      const cluster = account.state.clusters[clusterId];
      if (!cluster) throw unknownResource();
      if (!authorized(req, cluster)) throw unauthorized();

      const found = discovery(cluster, path, req.headers.host ?? '');
      if (found !== null) {
        if (req.method !== 'GET') throw methodNotAllowed();
        return sendJson(res, 200, found);
      }
      const target = resolve(cluster, path);
      const verb = verbOf(req.method, target, url.searchParams);
      const answerFault = (status: number, reason: string, message: string) =>
        answer(res, new KubeError(status, reason, message, status === 429 ? { retryAfterSeconds: 1 } : undefined));
      if (await applyFaults(faults, `kube:${verb}`, req, res, answerFault, 'TooManyRequests', 429)) return;
      const { status, body } = await serveResource(account, clusterId, target, verb, req, url.searchParams);
      sendJson(res, status, body);
    } catch (error) {
      if (!(error instanceof KubeError)) throw error;
      answer(res, error);
    }
  }, { key: keyPem, cert: certificatePem });
  return { url: `https://127.0.0.1:${server.port}`, certificatePem, tlsConnections: server.connections, close: () => server.close() };
}

