// Issue 18 / DESIGN.md "Sandbox contract": in sandbox mode only, GET /sandbox/kubeconfig/<cluster-id> returns a
// kubeconfig with which kubectl works against that emulated cluster, so a newcomer can break something by hand.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { backupLocationSpec } from '../../src/executor/steps/ensure-backup-vault.ts';
import { startServer } from '../../src/server.ts';
import { toolPath } from '../support/tools.ts';

const run = promisify(execFile);
let app: App;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sandbox-kubeconfig-'));
  app = await startApp(loadConfig({ BACKUP_SETUP_SANDBOX: '1', PORT: '0', STATE_DIR: join(dir, 'state'), WATCH_INTERVAL: 'off' }), { logger: pino({ level: 'silent' }), host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const kubectlPath = toolPath('kubectl');

describe('GET /sandbox/kubeconfig/<cluster-id>', () => {
  it('answers an unknown cluster with 404 and where to look', async () => {
    const response = await fetch(`${app.url}/sandbox/kubeconfig/c-nope`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('The sandbox has no cluster "c-nope"; GET /sandbox/state lists its clusters.\n');
  });

  it('is not served outside sandbox mode', async () => {
    const server = await startServer(0, { metrics: new Registry(), readiness: {}, logger: pino({ level: 'silent' }) }, '127.0.0.1');
    try {
      expect((await fetch(`${server.url}/sandbox/kubeconfig/c-sandbox-managed`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it.skipIf(!kubectlPath)('gives kubectl the emulated cluster: what kubectl changes, the account shows', async () => {
    const response = await fetch(`${app.url}/sandbox/kubeconfig/c-sandbox-dedicated`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/yaml');
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, await response.text(), { mode: 0o600 });
    const kubectl = async (...args: string[]) =>
      (await run(kubectlPath!, ['--kubeconfig', file, '--cache-dir', join(dir, 'cache'), ...args], { env: { ...process.env, HOME: dir } })).stdout;
    expect(await kubectl('config', 'current-context')).toBe('c-sandbox-dedicated\n');
    expect((await kubectl('get', 'namespaces', '-o', 'name')).split('\n')).toEqual(expect.arrayContaining(['namespace/kube-system', 'namespace/kube-public']));
    expect(await kubectl('create', 'namespace', 'broken-by-hand')).toContain('namespace/broken-by-hand created');
    const state = (await (await fetch(`${app.url}/sandbox/state`)).json()) as { clusters: Record<string, { namespaces: string[] }> };
    expect(state.clusters['c-sandbox-dedicated']!.namespaces).toContain('broken-by-hand');
  });

  it.skipIf(!kubectlPath)('lets kubectl list and delete a backup vault, as the README shows', async () => {
    const file = join(dir, 'kubeconfig-edge');
    writeFileSync(file, await (await fetch(`${app.url}/sandbox/kubeconfig/c-sandbox-edge`)).text(), { mode: 0o600 });
    const kubectl = async (...args: string[]) =>
      (await run(kubectlPath!, ['--kubeconfig', file, '--cache-dir', join(dir, 'cache-edge'), ...args], { env: { ...process.env, HOME: dir } })).stdout;
    const vault = { apiVersion: 'csdr.alibabacloud.com/v1beta1', kind: 'BackupLocation', metadata: { name: 'by-hand', namespace: 'csdr' },
      spec: backupLocationSpec({ bucket: 'cnfs-oss-sandbox-backups', prefix: '', region: 'cn-hangzhou', network: 'internal' }) };
    writeFileSync(join(dir, 'vault.json'), JSON.stringify(vault));
    // The emulator serves no OpenAPI document, so kubectl cannot validate client-side.
    expect(await kubectl('create', '--validate=false', '-f', join(dir, 'vault.json'))).toContain('backuplocation.csdr.alibabacloud.com/by-hand created');
    expect(await kubectl('-n', 'csdr', 'get', 'backuplocations', '-o', 'name')).toBe('backuplocation.csdr.alibabacloud.com/by-hand\n');
    expect(await kubectl('-n', 'csdr', 'delete', 'backuplocation', 'by-hand')).toContain('deleted');
    const state = (await (await fetch(`${app.url}/sandbox/state`)).json()) as { clusters: Record<string, { backupVaults: unknown[] }> };
    expect(state.clusters['c-sandbox-edge']!.backupVaults).toEqual([]);
  });
});
