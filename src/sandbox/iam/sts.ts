// Temporary credentials of RAM roles, as STS AssumeRole issues them: an AccessKey id starting with "STS.",
// a secret, a security token and an expiration (https://www.alibabacloud.com/help/en/ram/developer-reference/api-sts-2015-04-01-assumerole).
// The emulator issues them to ACK's managed add-on roles (see kube/addon-token.ts); there is no STS endpoint.
import { randomBytes } from 'node:crypto';
import type { AccountState, StsCredential } from '../account.ts';
import { newAccessKeySecret } from '../account.ts';
import { isoSeconds } from '../http.ts';

/** AssumeRole's DurationSeconds defaults to 3600. */
const STS_DURATION_MS = 3600_000;

export function assumeRole(state: AccountState, roleName: string, sessionName: string, now = Date.now()): StsCredential {
  if (!state.ram.roles.some((r) => r.name === roleName)) throw new Error(`role ${roleName} does not exist in the emulated account`);
  const credential: StsCredential = {
    accessKeyId: `STS.${randomBytes(15).toString('base64url')}`,
    secret: newAccessKeySecret(),
    securityToken: `CAIS${randomBytes(96).toString('base64')}`,
    roleName,
    sessionName,
    expiration: isoSeconds(new Date(now + STS_DURATION_MS)),
  };
  // Expired credentials are refused anyway; dropping them keeps the persisted account small.
  state.sts = [...(state.sts ?? []).filter((c) => Date.parse(c.expiration) > now), credential];
  return credential;
}
