// The AccessKey pairs the emulated account accepts: its own key and every RAM user's key.
import type { AccountState } from './account.ts';
import type { CallerKey } from './acs3.ts';

export function findAccessKey(state: AccountState, accessKeyId: string): CallerKey | undefined {
  if (accessKeyId === state.rootKey.id) return { id: accessKeyId, secret: state.rootKey.secret, active: true, user: null };
  const key = state.ram.accessKeys.find((k) => k.id === accessKeyId);
  return key && { id: key.id, secret: key.secret, active: key.status === 'Active', user: key.user };
}
