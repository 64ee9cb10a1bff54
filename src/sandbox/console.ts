// The sandbox's stand-in for console clicks the bot cannot make through an API ("Authorize in the emulated console"):
// the managed role's quick authorization (ACK writes the role token into kube-system) and Cloud Backup's API Gateway
// authorization (the console creates the service-linked role AliyunServiceRoleForHbrMagpieBridge).
import type { AuthorizeInConsoleInput } from '../../flows/contract.ts';
import type { SandboxAccount } from './account.ts';
import { isoSeconds } from './http.ts';
import { authorizeManagedRole } from './kube/addon-token.ts';

export const API_GATEWAY_SERVICE_ROLE = 'AliyunServiceRoleForHbrMagpieBridge';

export function emulatedConsole(account: SandboxAccount) {
  return {
    async authorize(input: AuthorizeInConsoleInput): Promise<void> {
      account.change((state) => {
        if (input.authorization === 'managedRole') {
          const cluster = state.clusters[input.clusterId];
          if (!cluster) throw new Error(`cluster ${input.clusterId} is not in the emulated account`);
          authorizeManagedRole(state, cluster);
          return;
        }
        if (!state.ram.roles.some((r) => r.name === API_GATEWAY_SERVICE_ROLE)) state.ram.roles.push({ name: API_GATEWAY_SERVICE_ROLE, createDate: isoSeconds() });
      });
    },
  };
}
