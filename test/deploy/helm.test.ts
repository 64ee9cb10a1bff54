// Issue 17: the Helm chart rendered by helm itself for each documented mode (SQLite, PostgreSQL with
// replicas, Slack Socket Mode, RRSA, DingTalk), every object checked against the Kubernetes API schema,
// and the README's `helm install` line rendered as written.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as apps from 'kubernetes-models/apps/v1';
import * as core from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHART, helm as makeHelm, helmBinary, helmUnavailable, parseManifests, unknownFields, type Helm, type K8sObject } from '../support/helm.ts';
import { isCi } from '../support/tools-setup.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const unavailable = helmUnavailable();
if (unavailable && isCi(process.env)) throw new Error(`CI renders the Helm chart: ${unavailable}`);
if (unavailable) console.log(`Skipping the Helm chart tests: ${unavailable}.`);

const APPROVERS = ['--set', 'config.approvers=slack:U012AB'];
const MODES: Record<string, string[]> = {
  'SQLite, one replica on a volume (the default)': [...APPROVERS],
  'PostgreSQL with 3 replicas': [...APPROVERS, '--set', 'replicaCount=3', '--set', 'database.urlSecret=backup-setup-bot-db'],
  'Slack Socket Mode': [...APPROVERS, '--set', 'chatSecret.slackAppTokenKey=slack-app-token'],
  'RRSA for Alibaba Cloud credentials': [...APPROVERS, '--set', 'serviceAccount.ramRoleName=backup-setup-bot'],
  'DingTalk as well as Slack': [...APPROVERS, '--set', 'chatSecret.dingtalkEnabled=true'],
};

/** The model of each kind the chart renders: its JSON schema (kubernetes-models) and client model name. */
const KINDS: Record<string, { model: { new (data: never): { validate(): void } }; client: string }> = {
  'apps/v1 Deployment': { model: apps.Deployment, client: 'V1Deployment' },
  'v1 Service': { model: core.Service, client: 'V1Service' },
  'v1 ServiceAccount': { model: core.ServiceAccount, client: 'V1ServiceAccount' },
  'v1 PersistentVolumeClaim': { model: core.PersistentVolumeClaim, client: 'V1PersistentVolumeClaim' },
};

interface Env { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }
interface Pod {
  serviceAccountName: string;
  securityContext: { runAsNonRoot: boolean; runAsUser: number; runAsGroup?: number; fsGroup: number };
  containers: { image: string; env: Env[]; securityContext: Record<string, unknown>; livenessProbe: unknown; readinessProbe: unknown; startupProbe: unknown }[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string }; emptyDir?: object }[];
}
interface Deployment extends K8sObject { spec: { replicas: number; strategy?: { type: string }; template: { spec: Pod } } }

describe.skipIf(unavailable)('the Helm chart, rendered by helm', () => {
  let helm: Helm;
  beforeAll(() => {
    helm = makeHelm(helmBinary());
  });

  const render = async (args: string[]) => parseManifests(await helm('template', 'backup-setup-bot', CHART, '--namespace', 'backup', ...args));
  const deploymentOf = (objects: K8sObject[]) => objects.find((o) => o.kind === 'Deployment') as Deployment;
  const env = (objects: K8sObject[]) => new Map(deploymentOf(objects).spec.template.spec.containers[0]!.env.map((e) => [e.name, e]));

  it('is the helm it claims to be', async () => {
    expect(await helm('version', '--template', '{{.Version}}')).toMatch(/^v4\.\d+\.\d+$/);
  });

  it.each(Object.entries(MODES))('%s: every object is valid against the Kubernetes API schema', async (_mode, args) => {
    const objects = await render(args);
    expect(objects.map((o) => o.kind).sort()).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ServiceAccount']));
    for (const object of objects) {
      const kind = KINDS[`${object.apiVersion} ${object.kind}`];
      expect(kind, `${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new kind!.model(object as never).validate(), `${object.kind} ${object.metadata.name}`).not.toThrow();
      expect(unknownFields(object, kind!.client), `${object.kind} ${object.metadata.name}`).toEqual([]);
    }
  });

  it('passes helm lint --strict in every mode', async () => {
    for (const args of Object.values(MODES)) expect(await helm('lint', '--strict', CHART, ...args)).toContain('0 chart(s) failed');
  });

  it('SQLite: one replica, recreated rather than rolled (one writer), its state on a PersistentVolumeClaim', async () => {
    const objects = await render(MODES['SQLite, one replica on a volume (the default)']!);
    const deployment = deploymentOf(objects);
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const claim = objects.find((o) => o.kind === 'PersistentVolumeClaim')!;
    expect(deployment.spec.template.spec.volumes.find((v) => v.name === 'state')).toEqual({ name: 'state', persistentVolumeClaim: { claimName: claim.metadata.name } });
    expect(env(objects).has('DATABASE_URL')).toBe(false);
  });

  it('PostgreSQL: the replicas asked for, rolled, DATABASE_URL from its Secret, no volume claim', async () => {
    const objects = await render(MODES['PostgreSQL with 3 replicas']!);
    const deployment = deploymentOf(objects);
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy).toBeUndefined();
    expect(objects.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
    expect(env(objects).get('DATABASE_URL')).toEqual({ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'backup-setup-bot-db', key: 'database-url' } } });
  });

  it('Socket Mode: the app-level token from the Secret, and no signing secret', async () => {
    const vars = env(await render(MODES['Slack Socket Mode']!));
    expect(vars.get('SLACK_APP_TOKEN')!.valueFrom!.secretKeyRef).toEqual({ name: 'backup-setup-bot-chat', key: 'slack-app-token' });
    expect(vars.has('SLACK_SIGNING_SECRET')).toBe(false);
  });

  it('RRSA: the service account carries the RAM role annotation and the pod uses that account', async () => {
    const objects = await render(MODES['RRSA for Alibaba Cloud credentials']!);
    const account = objects.find((o) => o.kind === 'ServiceAccount')!;
    expect(account.metadata.annotations).toEqual({ 'pod-identity.alibabacloud.com/role-name': 'backup-setup-bot' });
    expect(deploymentOf(objects).spec.template.spec.serviceAccountName).toBe(account.metadata.name);
  });

  it('takes every token and secret from a Secret reference, never from a value', async () => {
    for (const args of Object.values(MODES)) {
      for (const [name, variable] of env(await render(args))) {
        if (/TOKEN|SECRET|CLIENT_ID|DATABASE_URL/.test(name)) expect(variable.valueFrom?.secretKeyRef, name).toBeDefined();
      }
    }
  });

  it('runs the pod as the image’s user, non-root, read-only, no capability, with probes on the bot’s endpoints', async () => {
    const pod = deploymentOf(await render(APPROVERS)).spec.template.spec;
    const user = /^USER (\d+):(\d+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))!;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(user[1]), runAsGroup: Number(user[2]), fsGroup: Number(user[2]) });
    const [container] = pod.containers;
    expect(container!.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container!.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
    expect(container!.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'http' } });
    expect(container!.startupProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
  });

  it('refuses several replicas on SQLite, and a missing approver list, saying what to set', async () => {
    await expect(render([...APPROVERS, '--set', 'replicaCount=2'])).rejects.toThrow('replicaCount > 1 needs PostgreSQL: set database.urlSecret (SQLite is single-replica)');
    await expect(render([])).rejects.toThrow('config.approvers is required, e.g. slack:U012AB,dingtalk:manager123');
  });

  it('renders the README’s helm install line as written', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const line = /^helm install (\S+) (\S+) \\\n((?:\s+--set \S+ ?\\?\n?)+)/m.exec(readme);
    expect(line, 'README: helm install …').not.toBeNull();
    const sets = [...line![3]!.matchAll(/--set (\S+)/g)].flatMap((m) => ['--set', m[1]!]);
    expect(line![2]).toBe('deploy/helm/backup-setup-bot');
    const objects = parseManifests(await helm('template', line![1]!, join(ROOT, line![2]!), ...sets));
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'PersistentVolumeClaim', 'Service', 'ServiceAccount']);
  });
});
