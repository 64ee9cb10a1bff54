// The services the seed's procedure needs activated before anything is set up ("Prerequisites"): what each is for,
// what it costs, where a person activates it by hand, and the step that activates it after an approval.
import type { ClusterFacts, ServiceName, StepName } from '../contract.ts';

export interface ServiceInfo {
  label: string;
  /** What the backup center uses it for. */
  purpose: string;
  /** What activating it costs and what is billed afterwards. */
  billing: string;
  console: string;
  /** The activation API, and the RAM action it needs (what the approval lists). */
  api: string;
  permission: string;
  step: Extract<StepName, 'activateCloudBackup' | 'activateOss' | 'activateSnapshot'>;
  /** Activated per region (the snapshot service) or once per account. */
  perRegion: boolean;
}

export const SERVICES: Record<ServiceName, ServiceInfo> = {
  cloudBackup: {
    label: 'Cloud Backup',
    purpose: 'it backs up file-system volumes (OSS, NAS, CPFS, local storage, hybrid cloud)',
    billing: 'activating it is free; Cloud Backup then bills backup storage and protected sources, pay-as-you-go',
    console: 'https://hbr.console.aliyun.com/',
    api: 'OpenHbrService',
    // The RAM table of https://help.aliyun.com/zh/cloud-backup/developer-reference/api-hbr-2017-09-08-openhbrservice.
    permission: 'hbr:OpenHbrService',
    step: 'activateCloudBackup',
    perRegion: false,
  },
  oss: {
    label: 'OSS',
    purpose: 'the backup center stores application backups only in OSS buckets',
    billing: 'activating it is free; OSS then bills storage, requests and outbound traffic, pay-as-you-go',
    console: 'https://oss.console.aliyun.com/',
    api: 'OpenOssService',
    // OSS's RAM actions list oss:ActivateProduct, "activates OSS" (https://www.alibabacloud.com/help/en/oss/user-guide/ram-policy-overview,
    // service-level operations); that OpenOssService checks it is the reading taken, not documented for the API itself.
    permission: 'oss:ActivateProduct',
    step: 'activateOss',
    perRegion: false,
  },
  snapshot: {
    label: 'the ECS snapshot service',
    purpose: 'disk volumes are backed up as ECS snapshots',
    billing: 'activating it is free; snapshots are then billed by size and retention',
    console: 'https://ecs.console.aliyun.com/#/snapshot',
    api: 'OpenSnapshotService',
    permission: 'ecs:OpenSnapshotService',
    step: 'activateSnapshot',
    perRegion: true,
  },
};

export const SERVICE_ORDER: readonly ServiceName[] = ['oss', 'cloudBackup', 'snapshot'];

/** "Cloud Backup", "the ECS snapshot service in cn-wulanchabu". */
export function serviceWhere(service: ServiceName, region: string): string {
  const info = SERVICES[service];
  return info.perRegion ? `${info.label} in ${region}` : info.label;
}

/** The same, as the start of a sentence or a checklist line. */
export function serviceTitle(service: ServiceName, region: string): string {
  const name = serviceWhere(service, region);
  return `${name[0]!.toUpperCase()}${name.slice(1)}`;
}

export function servicesOff(facts: ClusterFacts): ServiceName[] {
  return SERVICE_ORDER.filter((s) => facts.services[s] === 'off');
}

/** Said before any question: what is off, what it is for, what it costs, and the two ways to turn it on. */
export function serviceOffNotice(service: ServiceName, region: string): string {
  const info = SERVICES[service];
  return (
    `${serviceTitle(service, region)} is not activated: ${info.purpose}. Cost: ${info.billing}. ` +
    `The plan's first step activates it after an approval (rated high: activating accepts its terms of service and cannot be undone). ` +
    `Or activate it yourself in the console (${info.console}), then run the setup again.`
  );
}

/** The approval's lines: exactly what activating does. */
export function activationChanges(service: ServiceName, region: string): string[] {
  const info = SERVICES[service];
  return [
    `activate ${serviceWhere(service, region)} (${info.api}): ${info.purpose}`,
    `billing: ${info.billing}`,
    'activating accepts the service terms and cannot be undone: the service cannot be closed once it is opened',
    `alternative: deny, activate it yourself in the console (${info.console}) and run the setup again`,
  ];
}

/** The plan's prerequisite line of a service. */
export function serviceLine(facts: ClusterFacts, service: ServiceName): string {
  const name = serviceTitle(service, facts.region);
  return facts.services[service] === 'on'
    ? `✅ ${name} activated`
    : `❌ ${name} not activated: the first steps activate it after an approval`;
}
