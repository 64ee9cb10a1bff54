// The backup center's task resources that migrate-controller installs besides BackupLocation: ApplicationBackup (a
// backup job) and DeleteRequest (how a backup is deleted: "You cannot delete backup or restore tasks by running the
// kubectl delete command", "Use kubectl to back up and restore applications", https://www.alibabacloud.com/help/doc-detail/469706.html).
// Group csdr.alibabacloud.com, version v1beta1, namespace csdr (DeleteRequest verbatim in the backup-center FAQ,
// https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/backup-center-faq; ApplicationBackup as
// in public manifests written for that page, e.g. ics-msrj/ics-ms-kubernetes-labs platforms/ack/manifests/backup-center).
import type { SandboxCluster } from '../account.ts';
import { addObject, objectKey } from './objects.ts';

export const APPLICATION_BACKUP_CRD = 'applicationbackups.csdr.alibabacloud.com';
export const DELETE_REQUEST_CRD = 'deleterequests.csdr.alibabacloud.com';

const CRDS = [
  { crd: APPLICATION_BACKUP_CRD, plural: 'applicationbackups', singular: 'applicationbackup', kind: 'ApplicationBackup' },
  { crd: DELETE_REQUEST_CRD, plural: 'deleterequests', singular: 'deleterequest', kind: 'DeleteRequest' },
];

/** The CRDs of the task resources; call with the add-on's install (inside account.change). */
export function ensureBackupCenterCrds(cluster: SandboxCluster): void {
  for (const { crd, plural, singular, kind } of CRDS) {
    if (cluster.objects[objectKey('apiextensions.k8s.io/v1', 'CustomResourceDefinition', '', crd)]) continue;
    const names = { plural, singular, kind, listKind: `${kind}List` };
    addObject(cluster, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: crd, generation: 1 },
      spec: {
        group: 'csdr.alibabacloud.com',
        names,
        scope: 'Namespaced',
        versions: [{ name: 'v1beta1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
      status: {
        acceptedNames: names,
        storedVersions: ['v1beta1'],
        conditions: [{ type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }],
      },
    });
  }
}
