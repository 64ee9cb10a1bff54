// Static checks of the Dockerfile, its build context and the Helm chart's values. hadolint has no Debian
// package here; `npm run image:test` builds and runs the image, test/deploy/helm.test.ts renders the chart.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const chart = join(root, 'deploy', 'helm', 'backup-setup-bot');
const nodeVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: { node: string } }).devDependencies.node;

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').filter((line) => /^[A-Z]+\s/.test(line));

  it('pulls nothing but its one base: no `# syntax` frontend image', () => {
    expect(dockerfile).not.toMatch(/^#\s*syntax=/im);
  });

  it('builds on the official Node image of the project’s Node version, pinned by digest', () => {
    const images = [...dockerfile.matchAll(/^ARG NODE_IMAGE=(\S+)$/gm)].map((m) => m[1]!);
    expect(images).toEqual([expect.stringMatching(new RegExp(`^node:${nodeVersion.replaceAll('.', '\\.')}-bookworm-slim@sha256:[0-9a-f]{64}$`))]);
    const froms = instructions.filter((line) => line.startsWith('FROM '));
    for (const from of froms.slice(0, -1)) expect(from).toMatch(/^FROM \$\{NODE_IMAGE\} AS \w+$/);
    expect(froms.at(-1)).toBe('FROM scratch AS runtime');
  });

  it('installs production dependencies from the lockfile, with the build secret for a proxy CA only', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).not.toMatch(/npm install|npm cache clean/);
    expect(dockerfile).toMatch(/RUN --mount=type=secret,id=npm-ca /);
    expect(dockerfile).not.toMatch(/^(COPY|ADD|ENV|ARG) .*(ca-certificates|NODE_EXTRA_CA_CERTS)/m);
  });

  it('runs as a numeric non-root user (Kubernetes runAsNonRoot can verify it), exec-form health check and command', () => {
    expect(instructions.filter((line) => line.startsWith('USER ')).at(-1)).toBe('USER 1000:1000');
    expect(instructions.find((line) => line.startsWith('HEALTHCHECK '))).toMatch(/ CMD \["node", .*\/healthz/);
    expect(instructions.filter((line) => line.startsWith('CMD ')).at(-1)).toBe('CMD ["node", "src/main.ts"]');
  });
});

describe('.dockerignore', () => {
  const rules = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').filter((line) => line && !line.startsWith('#'));

  it('lets in exactly what the Dockerfile copies from the context, and nothing else', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    const letIn = rules.filter((rule) => rule.startsWith('!')).map((rule) => rule.slice(1));
    expect(rules[0]).toBe('*');
    for (const source of copied) expect(letIn.some((path) => source === path || source.startsWith(`${path}/`)), source).toBe(true);
    for (const path of letIn) expect(copied.some((source) => source === path || source.startsWith(`${path}/`)), path).toBe(true);
  });

  it('keeps .env, .env.* and state out, wherever they are (the last matching rule wins)', () => {
    const lastInclude = rules.findLastIndex((rule) => rule.startsWith('!'));
    expect(rules.slice(lastInclude + 1)).toEqual(expect.arrayContaining(['**/.env', '**/.env.*', '**/.state', '**/node_modules']));
  });
});

describe('Helm chart values', () => {
  const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const templates = readdirSync(join(chart, 'templates')).map((name) => ({ name, text: readFileSync(join(chart, 'templates', name), 'utf8') }));

  it('references only values that values.yaml defines (helm renders a missing one as empty)', () => {
    const lookup = (path: string[]) => path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values);
    for (const { name, text } of templates) {
      for (const [, path] of text.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) {
        expect(lookup(path!.split('.')), `${name}: .Values.${path}`).not.toBeUndefined();
      }
    }
  });

  it('holds no token', () => {
    expect(JSON.stringify(values)).not.toMatch(/xox[bap]-|LTAI/);
  });
});
