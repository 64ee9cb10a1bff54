// Console steps the bot cannot do through an API: it explains them, waits, and checks again.
import { MANAGED_BACKUP_ROLE } from './names.ts';
import { code } from './inline.js';

const API_GATEWAY_REGIONS: Record<string, string> = {
  'cn-wulanchabu': 'China (Ulanqab)',
  'cn-heyuan': 'China (Heyuan)',
  'cn-guangzhou': 'China (Guangzhou)',
};

/** Backup and restore jobs in these regions need the one-time "Cloud Backup may use API Gateway" authorization. */
export function needsApiGatewayAuthorization(region: string): boolean {
  return region in API_GATEWAY_REGIONS;
}

export function apiGatewayGuidance(region: string): string {
  const name = API_GATEWAY_REGIONS[region] ?? region;
  return (
    `Backup and restore jobs in ${name} need a one-time authorization that lets Cloud Backup use API Gateway ` +
    '(it creates the service-linked role `AliyunServiceRoleForHbrMagpieBridge`; without it jobs fail with MagpieBridgeSlrNotExist). ' +
    'It is needed once per Alibaba Cloud account and only the console can grant it: log on to the Cloud Backup console ' +
    `(https://hbr.console.aliyun.com/), select ${name} in the top navigation bar, and click Confirm in the ` +
    'Cloud Backup Authorization dialog box. Then choose "Done — check again".'
  );
}

// RAM quick authorization for the ACK managed backup role (service CS); the link format is the one the ACK console uses.
const QUICK_AUTHORIZATION_URL =
  'https://ram.console.aliyun.com/role/authorize?request=' +
  encodeURIComponent(
    JSON.stringify({
      Requests: { request1: { RoleName: MANAGED_BACKUP_ROLE, TemplateId: MANAGED_BACKUP_ROLE } },
      ReturnUrl: 'https://cs.console.aliyun.com/',
      Service: 'CS',
    }),
  );

export function managedRoleGuidance(clusterName: string): string {
  return (
    `The backup role of ${code(clusterName)} is not authorized: the Secret \`addon.aliyuncsmanagedbackuprestorerole.token\` is missing ` +
    `in kube-system, so migrate-controller cannot use Cloud Backup, ECS snapshots or \`cnfs-oss-*\` buckets. ` +
    `Authorize the RAM role ${MANAGED_BACKUP_ROLE} once for this account with the quick authorization ` +
    `(${QUICK_AUTHORIZATION_URL}), or from the cluster's Application Backup page in the ACK console. ` +
    'Then choose "I have authorized it — check again".'
  );
}

export const NO_VOLUME_BACKUP = {
  'serverless-pro':
    'Volume backup is not supported on ACK Serverless Pro clusters: the backup center backs up and restores the applications (their resources and configuration), not the data in their volumes.',
  edge: 'Volume backup is not supported on ACK Edge clusters: the backup center backs up and restores the applications (their resources and configuration), not the data in their volumes.',
} as const;

export const EDGE_NETWORK =
  'On an ACK Edge cluster the migrate-controller add-on runs on cloud-side nodes, but the backup-center FAQ requires the backup vault of an ACK Edge cluster to reach OSS over the public network: ' +
  'the vault uses the public network, so the cloud-side nodes need Internet access (a NAT gateway or EIPs), and OSS charges for outbound Internet traffic when backups are read back.';

/** Said before any step when the setup will create a long-lived AccessKey: what it is and why it is needed. */
export function longLivedAccessKeyNotice(facts: { clusterSpec: string }, bucket: string): string {
  const why = facts.clusterSpec.startsWith('ack.pro.')
    ? `bucket ${code(bucket)} does not start with \`cnfs-oss-\`, and the cluster's \`AliyunCSManagedBackupRestoreRole\` covers only \`cnfs-oss-*\` buckets`
    : 'the `cnfs-oss-*` exemption applies to ACK Pro clusters only, and this is an ACK Basic cluster';
  return (
    `OSS permission needed: ${why}. The setup creates a RAM user with a custom policy for this bucket and a long-lived AccessKey ` +
    'stored in Secret csdr/alibaba-addon-secret. The AccessKey does not expire: rotate it yourself, and delete it when the cluster no longer needs it.'
  );
}
