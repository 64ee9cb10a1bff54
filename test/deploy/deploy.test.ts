// Static checks of the Dockerfile and the Helm chart. hadolint and helm cannot be installed on this
// machine (no Debian package, npm wrappers download binaries), so these check the rules we rely on.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const chart = join(root, 'deploy', 'helm', 'backup-setup-bot');

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const instructions = dockerfile.split('\n').filter((line) => /^[A-Z]+\s/.test(line));

  it('pins every base image by digest (no tag that can move)', () => {
    const images = [...dockerfile.matchAll(/^ARG NODE_IMAGE=(\S+)/gm)].map((m) => m[1]!);
    expect(images).toHaveLength(1);
    expect(images[0]).toMatch(/^node:24[\w.-]*@sha256:[0-9a-f]{64}$/);
    for (const from of instructions.filter((line) => line.startsWith('FROM'))) expect(from).toMatch(/^FROM \$\{NODE_IMAGE\} AS \w+$/);
  });

  it('installs production dependencies only, from the lockfile', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).not.toMatch(/npm install/);
  });

  it('runs as a non-root user with a health check, and ships no secrets or tests', () => {
    const user = instructions.filter((line) => line.startsWith('USER')).at(-1);
    expect(user).toBe('USER node');
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n\s+CMD .*\/healthz/m);
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    for (const path of ['.env', 'node_modules', '.state', 'test']) expect(ignored).toContain(path);
  });
});

describe('Helm chart', () => {
  const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const templates = readdirSync(join(chart, 'templates')).map((name) => ({
    name,
    text: readFileSync(join(chart, 'templates', name), 'utf8'),
  }));

  it('has a valid Chart.yaml', () => {
    const meta = parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as Record<string, string>;
    expect(meta).toMatchObject({ apiVersion: 'v2', name: 'backup-setup-bot', type: 'application' });
    expect(meta.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('references only values that values.yaml defines', () => {
    const lookup = (path: string[]) => path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values);
    for (const { name, text } of templates) {
      for (const [, path] of text.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) {
        expect(lookup(path!.split('.')), `${name}: .Values.${path}`).not.toBeUndefined();
      }
    }
  });

  it('takes tokens from Secret references, never from plain values', () => {
    const deployment = templates.find((t) => t.name === 'deployment.yaml')!.text;
    for (const env of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'DATABASE_URL']) {
      const block = deployment.slice(deployment.indexOf(`name: ${env}`), deployment.indexOf(`name: ${env}`) + 200);
      expect(block, env).toContain('secretKeyRef');
    }
    expect(JSON.stringify(values)).not.toMatch(/xox[bap]-|LTAI/);
  });

  it('has liveness, readiness and startup probes on the bot endpoints, and the RRSA annotation', () => {
    const deployment = templates.find((t) => t.name === 'deployment.yaml')!.text;
    expect(deployment).toMatch(/livenessProbe:\s+httpGet: \{ path: \/healthz/);
    expect(deployment).toMatch(/readinessProbe:\s+httpGet: \{ path: \/readyz/);
    expect(deployment).toMatch(/startupProbe:/);
    const serviceAccount = templates.find((t) => t.name === 'serviceaccount.yaml')!.text;
    expect(serviceAccount).toContain('pod-identity.alibabacloud.com/role-name');
  });

  it('refuses several replicas on SQLite', () => {
    const deployment = templates.find((t) => t.name === 'deployment.yaml')!.text;
    expect(deployment).toMatch(/fail "replicaCount > 1 needs PostgreSQL/);
  });
});
