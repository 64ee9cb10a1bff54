// The bot's Kubernetes clients keep their TLS connection: with @kubernetes/client-node as it is, every call opened a
// new one (a handshake per call), which under a fleet kept the event loop from answering Slack in time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudClients } from '../../src/executor/clients.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});

describe('Kubernetes connections', () => {
  // undici may open a second connection for the call right after the first, while the first socket returns to its pool.
  it('eleven calls one after another to a cluster open at most two TLS connections, not one each', async () => {
    const clients = createCloudClients({
      credentials: sandbox.botCredentials,
      endpoints: { ram: sandbox.endpoints.ram, cs: sandbox.endpoints.cs, oss: sandbox.endpoints.oss },
      protocol: 'http',
    });
    const kube = await clients.kube('c-sandbox-dedicated');
    const before = sandbox.kubeTlsConnections();
    for (let i = 0; i < 10; i++) await kube.core.readNamespace({ name: 'kube-system' });
    await kube.apps.listNamespacedDeployment({ namespace: 'kube-system' });
    expect(sandbox.kubeTlsConnections() - before).toBeLessThanOrEqual(2);
  });
});
