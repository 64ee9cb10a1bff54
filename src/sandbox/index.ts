// Starts the emulated Alibaba Cloud account: RAM, CS and OSS emulators plus the Kubernetes API
// emulator, all on 127.0.0.1 with ephemeral ports, sharing one persisted account.
//
// The real SDKs reach it like this (see test/sandbox/clients.ts):
//   RAM / CS: new Client(new $OpenApiUtil.Config({ accessKeyId, accessKeySecret,
//             endpoint: endpoints.ram | endpoints.cs, protocol: 'http', regionId }))
//   OSS:      new OSS({ endpoint: endpoints.oss, region: 'oss-<regionId>', accessKeyId, accessKeySecret,
//             sldEnable: true }); the `region` option is the region buckets are created in and read from.
import { SandboxAccount, type PublicState } from './account.ts';
import { csHandler } from './cs.ts';
import { FaultPlan } from './faults.ts';
import { listen } from './http.ts';
import { startKubeServer } from './kube/server.ts';
import { ossHandler } from './oss.ts';
import { publicStateOf } from './public-state.ts';
import { ramHandler } from './ram.ts';
import { addFleetClusters, fleetCases, seedAccount } from './seed.ts';

export interface Sandbox {
  account: SandboxAccount;
  /** The account's own AccessKey, what the bot uses in sandbox mode. */
  credentials: { accessKeyId: string; accessKeySecret: string };
  /** ram/cs: `host:port` for openapi-core's Config.endpoint (with protocol 'http'); oss/kube: URLs. */
  endpoints: { ram: string; cs: string; oss: string; kube: string };
  faults: { ram: FaultPlan; cs: FaultPlan; oss: FaultPlan; kube: FaultPlan };
  publicState(): PublicState;
  close(): Promise<void>;
}

/** With a stateDir the account persists there and a later start finds it again; null keeps it in memory. */
export async function startSandbox(options: { stateDir?: string | null; fleet?: number } = {}): Promise<Sandbox> {
  const fleet = options.fleet ?? 0;
  const account = new SandboxAccount(options.stateDir ?? null, () => seedAccount({ fleet }));
  if (fleetCases(fleet).some((c) => !account.state.clusters[c.id])) account.change((state) => addFleetClusters(state, fleet));
  const faults = { ram: new FaultPlan(), cs: new FaultPlan(), oss: new FaultPlan(), kube: new FaultPlan() };
  const kube = await startKubeServer({ account, faults: faults.kube });
  const ram = await listen(ramHandler(account, faults.ram));
  const cs = await listen(csHandler({ account, faults: faults.cs, kubeServer: kube }));
  const oss = await listen(ossHandler(account, faults.oss));
  return {
    account,
    credentials: { accessKeyId: account.state.rootKey.id, accessKeySecret: account.state.rootKey.secret },
    endpoints: { ram: `127.0.0.1:${ram.port}`, cs: `127.0.0.1:${cs.port}`, oss: `http://127.0.0.1:${oss.port}`, kube: kube.url },
    faults,
    publicState: () => publicStateOf(account.state),
    close: async () => {
      await Promise.all([ram.close(), cs.close(), oss.close(), kube.close()]);
    },
  };
}
