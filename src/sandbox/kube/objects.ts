// The objects a cluster holds before anyone talks to it, and what an installed add-on adds to it.
// Mutates only the given cluster: callers run these inside account.change (or while seeding).
import { randomBytes, randomUUID } from 'node:crypto';
import type { KubeObject, SandboxCluster } from '../account.ts';
import { isoSeconds } from '../http.ts';
import { BACKUP_LOCATION_SCHEMA } from './backup-location.ts';
import { ensureBackupCenterCrds } from './backup-center.ts';

export const ADMIN_TOKEN_SECRET = 'sandbox-cluster-admin-token';
export const BACKUP_LOCATION_CRD = 'backuplocations.csdr.alibabacloud.com';

export function objectKey(apiVersion: string, kind: string, namespace: string, name: string): string {
  return `${apiVersion}|${kind}|${namespace}|${name}`;
}

export function keyOf(object: KubeObject): string {
  return objectKey(object.apiVersion, object.kind, object.metadata.namespace ?? '', object.metadata.name);
}

/** The next resourceVersion of the cluster (one counter per cluster, like etcd's revision). */
export function nextResourceVersion(cluster: SandboxCluster): string {
  cluster.resourceVersion += 1;
  return String(cluster.resourceVersion);
}

type NewObject = Omit<KubeObject, 'metadata'> & { metadata: Omit<KubeObject['metadata'], 'uid' | 'resourceVersion' | 'creationTimestamp'> };

/** Stores a new object with uid, resourceVersion and creationTimestamp. */
export function addObject(cluster: SandboxCluster, object: NewObject): KubeObject {
  const stored = {
    ...object,
    metadata: { ...object.metadata, uid: randomUUID(), resourceVersion: nextResourceVersion(cluster), creationTimestamp: isoSeconds() },
  } as KubeObject;
  cluster.objects[keyOf(stored)] = stored;
  return stored;
}

export function namespaceObject(name: string): NewObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function ensureNamespace(cluster: SandboxCluster, name: string): void {
  if (!cluster.objects[objectKey('v1', 'Namespace', '', name)]) addObject(cluster, namespaceObject(name));
}

/** The token the cluster's kubeconfig carries (a legacy service-account token Secret), or null. */
export function adminTokenOf(cluster: SandboxCluster): string | null {
  const secret = cluster.objects[objectKey('v1', 'Secret', 'kube-system', ADMIN_TOKEN_SECRET)];
  const token = (secret?.data as Record<string, string> | undefined)?.token;
  return token ? Buffer.from(token, 'base64').toString('utf8') : null;
}

export function seedClusterObjects(cluster: SandboxCluster): void {
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) ensureNamespace(cluster, name);
  addObject(cluster, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: ADMIN_TOKEN_SECRET, namespace: 'kube-system', annotations: { 'kubernetes.io/service-account.name': 'sandbox-cluster-admin' } },
    type: 'kubernetes.io/service-account-token',
    data: { token: base64(randomBytes(32).toString('hex')), namespace: base64('kube-system') },
  });
  const controller = cluster.addons.find((a) => a.name === 'migrate-controller');
  if (controller) applyAddonInstalled(cluster, controller.name, controller.version);
}

function deploymentStatus(generation: number, replicas: number) {
  return {
    observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet has successfully progressed.' },
    ],
  };
}

/** An emulated Deployment is rolled out the moment it changes: status follows spec at once. */
export function settleDeployment(deployment: KubeObject): void {
  const generation = Number(deployment.metadata.generation ?? 1);
  const replicas = Number((deployment.spec as { replicas?: number } | undefined)?.replicas ?? 1);
  deployment.status = deploymentStatus(generation, replicas);
}

function backupLocationCrd(): NewObject {
  const names = { plural: 'backuplocations', singular: 'backuplocation', kind: 'BackupLocation', listKind: 'BackupLocationList' };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: BACKUP_LOCATION_CRD, generation: 1 },
    spec: {
      group: 'csdr.alibabacloud.com',
      names,
      scope: 'Namespaced',
      versions: [{ name: 'v1beta1', served: true, storage: true, schema: { openAPIV3Schema: structuredClone(BACKUP_LOCATION_SCHEMA) } }],
    },
    status: {
      acceptedNames: names,
      storedVersions: ['v1beta1'],
      conditions: [{ type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }],
    },
  };
}

/** What a finished CS add-on task leaves in the cluster. Add-ons other than migrate-controller leave nothing we model. */
/** The add-on's workload leaves with it; its CRDs and the custom resources people made (vaults) stay, as Helm leaves CRDs. */
export function removeAddonObjects(cluster: SandboxCluster, name: string): void {
  if (name !== 'migrate-controller') return;
  delete cluster.objects[objectKey('apps/v1', 'Deployment', 'kube-system', 'migrate-controller')];
}

export function applyAddonInstalled(cluster: SandboxCluster, name: string, version: string): void {
  if (name !== 'migrate-controller') return;
  ensureNamespace(cluster, 'csdr');
  if (!cluster.objects[objectKey('apiextensions.k8s.io/v1', 'CustomResourceDefinition', '', BACKUP_LOCATION_CRD)]) addObject(cluster, backupLocationCrd());
  ensureBackupCenterCrds(cluster);
  const image = `registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/migrate-controller:v${version.replace(/^v/, '')}`;
  const key = objectKey('apps/v1', 'Deployment', 'kube-system', 'migrate-controller');
  const existing = cluster.objects[key];
  if (existing) {
    const spec = existing.spec as { template: { spec: { containers: { image: string }[] } } };
    const container = spec.template.spec.containers[0];
    if (container && container.image !== image) {
      container.image = image;
      existing.metadata.generation = Number(existing.metadata.generation ?? 1) + 1;
    }
    existing.metadata.labels = { ...existing.metadata.labels, 'app.kubernetes.io/version': version };
    existing.metadata.resourceVersion = nextResourceVersion(cluster);
    settleDeployment(existing);
    return;
  }
  const labels = { app: 'migrate-controller' };
  const deployment = addObject(cluster, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'migrate-controller', namespace: 'kube-system', generation: 1, labels: { ...labels, 'app.kubernetes.io/version': version } },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels },
        spec: { serviceAccountName: 'migrate-controller', containers: [{ name: 'migrate-controller', image, imagePullPolicy: 'IfNotPresent' }] },
      },
    },
  });
  settleDeployment(deployment);
}
