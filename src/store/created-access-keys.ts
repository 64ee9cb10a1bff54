// The executor's record of the AccessKeys it created (src/executor/contract.ts CreatedAccessKeys), kept in the store.
import type { Store } from './contract.ts';

export function createdAccessKeysIn(store: Store) {
  return {
    record: (userName: string, accessKeyId: string, clusterId: string) => store.recordCreatedAccessKey({ userName, accessKeyId, clusterId }),
    list: (userName: string) => store.listCreatedAccessKeys(userName),
    forget: (userName: string, accessKeyId: string) => store.forgetCreatedAccessKey(userName, accessKeyId),
    begin: (userName: string, clusterId: string, existingKeyIds: string[]) => store.beginAccessKeyCreation(userName, clusterId, existingKeyIds),
    pending: (userName: string) => store.listAccessKeyCreations(userName),
    end: (userName: string, clusterId: string) => store.endAccessKeyCreation(userName, clusterId),
  };
}
