// The AccessKey pairs the emulated account accepts: its own key, every RAM user's key, and the temporary
// credentials of assumed roles (STS AccessKey ids start with "STS.").
import type { AccountState } from './account.ts';
import type { CallerKey } from './acs3.ts';

export function findAccessKey(state: AccountState, accessKeyId: string): CallerKey | undefined {
  if (accessKeyId === state.rootKey.id) return { id: accessKeyId, secret: state.rootKey.secret, active: true, user: null };
  const sts = state.sts?.find((c) => c.accessKeyId === accessKeyId);
  if (sts) {
    return {
      id: sts.accessKeyId, secret: sts.secret, active: true, user: null,
      role: { name: sts.roleName, sessionName: sts.sessionName, securityToken: sts.securityToken, expiration: sts.expiration },
    };
  }
  const key = state.ram.accessKeys.find((k) => k.id === accessKeyId);
  return key && { id: key.id, secret: key.secret, active: key.status === 'Active', user: key.user };
}
