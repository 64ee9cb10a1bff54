// Starts the emulated Alibaba Cloud account: RAM, CS and OSS emulators plus the Kubernetes API
// emulator, all on 127.0.0.1 with ephemeral ports, sharing one persisted account.
//
// The real SDKs reach it like this (see test/sandbox/clients.ts):
//   RAM / CS: new Client(new $OpenApiUtil.Config({ accessKeyId, accessKeySecret,
//             endpoint: endpoints.ram | endpoints.cs, protocol: 'http', regionId }))
//   OSS:      new OSS({ endpoint: endpoints.oss, region: 'oss-<regionId>', accessKeyId, accessKeySecret,
//             sldEnable: true }); the `region` option is the region buckets are created in and read from.
import { SandboxAccount, type PublicState } from './account.ts';
import { ensureBotIdentity } from './bot-identity.ts';
import { csHandler } from './cs.ts';
import { FaultPlan } from './faults.ts';
import { listen } from './http.ts';
import { renewRoleToken } from './kube/addon-token.ts';
import { startMigrateControllers } from './kube/migrate-controller.ts';
import { startKubeServer } from './kube/server.ts';
import { ossHandler } from './oss.ts';
import { publicStateOf } from './public-state.ts';
import { ramHandler } from './ram.ts';
import { RequestLog } from './request-log.ts';
import { addFleetClusters, fleetCases, seedAccount } from './seed.ts';

export interface Sandbox {
  account: SandboxAccount;
  /** The account's own AccessKey (the primary account: never refused by RAM). */
  credentials: { accessKeyId: string; accessKeySecret: string };
  /** The bot's RAM user's AccessKey, what the bot uses in sandbox mode (policy: deploy/bot-ram-policy.json). */
  botCredentials: { accessKeyId: string; accessKeySecret: string };
  /** Every request the RAM, CS and OSS emulators authorized or refused, with the identity behind it. */
  requests: RequestLog;
  /** ram/cs: `host:port` for openapi-core's Config.endpoint (with protocol 'http'); oss/kube: URLs. */
  endpoints: { ram: string; cs: string; oss: string; kube: string };
  faults: { ram: FaultPlan; cs: FaultPlan; oss: FaultPlan; kube: FaultPlan };
  /**
   * With `csRegions`: a CS endpoint of each of those regions (`host:port`), with a fault plan of its own, as the real
   * service has an endpoint per region (cs.<region>.aliyuncs.com). The same account answers behind every one.
   */
  regionalCs: Record<string, { endpoint: string; faults: FaultPlan }>;
  /** TLS connections the emulated API servers accepted so far (a client that keeps its connections makes few). */
  kubeTlsConnections(): number;
  publicState(): PublicState;
  close(): Promise<void>;
}

/** With a stateDir the account persists there and a later start finds it again; null keeps it in memory. */
export async function startSandbox(options: { stateDir?: string | null; fleet?: number; csRegions?: string[] } = {}): Promise<Sandbox> {
  const fleet = options.fleet ?? 0;
  const account = new SandboxAccount(options.stateDir ?? null, () => seedAccount({ fleet }));
  if (fleetCases(fleet).some((c) => !account.state.clusters[c.id])) account.change((state) => addFleetClusters(state, fleet));
  // An account saved before the bot had its own RAM user gets it now (the policy always follows the file), and
  // managed clusters' role tokens are renewed as ACK would have done while the sandbox was stopped.
  const botCredentials = account.change((state) => {
    for (const cluster of Object.values(state.clusters)) if (cluster.type === 'ManagedKubernetes') renewRoleToken(state, cluster);
    return ensureBotIdentity(state);
  });
  const faults = { ram: new FaultPlan(), cs: new FaultPlan(), oss: new FaultPlan(), kube: new FaultPlan() };
  const requests = new RequestLog();
  const kube = await startKubeServer({ account, faults: faults.kube });
  const ram = await listen(ramHandler(account, faults.ram, requests));
  const cs = await listen(csHandler({ account, faults: faults.cs, kubeServer: kube, log: requests }));
  const oss = await listen(ossHandler(account, faults.oss, requests));
  const regional = await Promise.all((options.csRegions ?? []).map(async (region) => {
    const plan = new FaultPlan();
    return { region, plan, server: await listen(csHandler({ account, faults: plan, kubeServer: kube, log: requests })) };
  }));
  const ossEndpoint = `http://127.0.0.1:${oss.port}`;
  const controllers = startMigrateControllers({ account, ossEndpoint });
  return {
    account,
    credentials: { accessKeyId: account.state.rootKey.id, accessKeySecret: account.state.rootKey.secret },
    botCredentials,
    requests,
    endpoints: { ram: `127.0.0.1:${ram.port}`, cs: `127.0.0.1:${cs.port}`, oss: ossEndpoint, kube: kube.url },
    faults,
    regionalCs: Object.fromEntries(regional.map((r) => [r.region, { endpoint: `127.0.0.1:${r.server.port}`, faults: r.plan }])),
    kubeTlsConnections: kube.tlsConnections,
    publicState: () => publicStateOf(account.state),
    close: async () => {
      await controllers.stop();
      await Promise.all([ram.close(), cs.close(), oss.close(), kube.close(), ...regional.map((r) => r.server.close())]);
    },
  };
}
