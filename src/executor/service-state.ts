// Whether Cloud Backup, OSS and the ECS snapshot service are activated, told from reads (none of them activates
// anything), and their activation calls. The codes, and where each comes from:
//
// - OSS: ListBuckets (GetService) answers 403 `UserDisable` for an account that may not use OSS
//   (https://www.alibabacloud.com/help/en/oss/how-to-troubleshoot-403-status-code-when-you-access-oss, "UserDisable":
//   documented for an overdue payment or a security lock; stricter reading: an account without OSS gets it too, and the
//   bot says both). Activation: OpenOssService (Oss 2019-04-22, RPC, oss-admin.aliyuncs.com); an account that has it
//   answers `ORDER.OPEND` or `SYSTEM.SALE_VALIDATE_NO_SPECIFIC_CODE_FAILEDError` (terraform-provider-alicloud
//   alicloud/data_source_alicloud_oss_service.go).
// - ECS snapshots, per region: `InvalidAccountStatus.SnapshotServiceUnavailable` (403, "Snapshot service has not been
//   opened yet.") is the ECS API's code for it (error tables of CreateSnapshot and CreateImage,
//   https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-createsnapshot). The bot reads with
//   DescribeSnapshots (PageSize 1), which changes nothing; that DescribeSnapshots answers the same code is the stricter
//   reading, not documented. Activation: OpenSnapshotService (@alicloud/ecs20140526 ≥ 7.3.0, CHANGELOG "Support API
//   OpenSnapshotService"; https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-opensnapshotservice).
// - Cloud Backup: DescribeVaults (hbr 2017-09-08); an account without Cloud Backup answers 403 `ServiceNotActivated`
//   "The service is not activated yet." (Cloud Backup's error codes,
//   https://help.aliyun.com/zh/cloud-backup/developer-reference/api-hbr-2017-09-08-errorcodes; that DescribeVaults is
//   among the APIs that answer it is the reading taken). Activation: OpenHbrService (hbr.aliyuncs.com, RAM action
//   hbr:OpenHbrService); an activated account answers `ORDER.OPEND`
//   (terraform-provider-alicloud alicloud/data_source_alicloud_hbr_service.go).
// Both Terraform data sources note that opening a service accepts its terms and that it cannot be closed again.
import type { ServiceName, ServiceState } from '../../flows/contract.ts';
import { SERVICES } from '../../flows/domain/services.ts';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { DescribeSnapshotsRequest, OpenSnapshotServiceRequest } from '@alicloud/ecs20140526';
import { runtime, type OpenApiClient } from './clients.ts';
import { StepError } from './contract.ts';
import { call, write, type ExecContext } from './context.ts';
import type { CallContext } from './errors.ts';

export const OSS_OFF_CODES = ['UserDisable'];
export const SNAPSHOT_OFF_CODES = ['InvalidAccountStatus.SnapshotServiceUnavailable'];
export const HBR_OFF_CODES = ['ServiceNotActivated'];
/** Open*Service's answer when the service is already open. */
export const ALREADY_OPEN_CODES = ['ORDER.OPEND', 'SYSTEM.SALE_VALIDATE_NO_SPECIFIC_CODE_FAILEDError'];

/** The read's error code when it is one of `codes` (the service is off); other failures stay failures. */
async function offWhen(codes: string[], read: () => Promise<unknown>): Promise<ServiceState> {
  try {
    await read();
    return 'on';
  } catch (error) {
    if (error instanceof StepError && codes.includes(error.code)) return 'off';
    throw error;
  }
}

function rpc(action: string, version: string): $OpenApiUtil.Params {
  return new $OpenApiUtil.Params({
    action, version, protocol: 'HTTPS', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
  });
}

/** A generic RPC call; an answer with `Success: false` (Cloud Backup's way) is an error with its `Code`. */
async function rpcCall(client: OpenApiClient, action: string, version: string, query: Record<string, string>, timeoutMs: number): Promise<Record<string, unknown>> {
  const response = await client.callApi(rpc(action, version), new $OpenApiUtil.OpenApiRequest({ query }), runtime(timeoutMs));
  const body = (response.body ?? {}) as Record<string, unknown>;
  if (body.Success === false) {
    throw Object.assign(new Error(String(body.Message ?? action)), { code: String(body.Code ?? 'Failed'), statusCode: 400, data: body });
  }
  return body;
}

/** The RAM action of the read that tells each service's state. */
export const STATE_READS: Record<ServiceName, string> = { cloudBackup: 'hbr:DescribeVaults', oss: 'oss:ListBuckets', snapshot: 'ecs:DescribeSnapshots' };

const contexts = {
  cloudBackup: (region: string): CallContext => ({ service: 'hbr', permission: STATE_READS.cloudBackup, resource: `Cloud Backup in ${region}` }),
  snapshot: (region: string): CallContext => ({ service: 'ecs', permission: STATE_READS.snapshot, resource: `snapshots in ${region}` }),
};

export async function cloudBackupState(ctx: ExecContext, region: string): Promise<ServiceState> {
  const client = ctx.clients.hbrIn(region);
  return offWhen(HBR_OFF_CODES, () =>
    call(ctx, contexts.cloudBackup(region), () => rpcCall(client, 'DescribeVaults', '2017-09-08', { VaultRegionId: region, PageSize: '1' }, ctx.clients.timeouts.read)));
}

export async function snapshotState(ctx: ExecContext, region: string): Promise<ServiceState> {
  return offWhen(SNAPSHOT_OFF_CODES, () =>
    call(ctx, contexts.snapshot(region), () =>
      ctx.clients.ecsIn(region).describeSnapshotsWithOptions(new DescribeSnapshotsRequest({ regionId: region, pageSize: 1 }), runtime(ctx.clients.timeouts.read))));
}

/** OSS's state from a ListBuckets the caller makes anyway (readCluster lists the buckets). */
export function ossStateOf(read: () => Promise<unknown>): Promise<ServiceState> {
  return offWhen(OSS_OFF_CODES, read);
}

export async function serviceState(ctx: ExecContext, service: ServiceName, region: string, ossRead: () => Promise<unknown>): Promise<ServiceState> {
  switch (service) {
    case 'cloudBackup':
      return cloudBackupState(ctx, region);
    case 'snapshot':
      return snapshotState(ctx, region);
    case 'oss':
      return ossStateOf(ossRead);
  }
}

/** The activation call; true when it opened the service, false when the service answered that it already was. */
export async function openService(ctx: ExecContext, service: ServiceName, region: string): Promise<boolean> {
  const { write: timeout } = ctx.clients.timeouts;
  const context: CallContext =
    service === 'cloudBackup' ? { service: 'hbr', permission: 'hbr:OpenHbrService', resource: 'Cloud Backup of the account' }
      : service === 'oss' ? { service: 'oss', permission: SERVICES.oss.permission, resource: 'OSS of the account' }
        : { service: 'ecs', permission: 'ecs:OpenSnapshotService', resource: `the snapshot service in ${region}` };
  try {
    await write(ctx, context, () =>
      service === 'cloudBackup' ? rpcCall(ctx.clients.hbrAccount, 'OpenHbrService', '2017-09-08', {}, timeout)
        : service === 'oss' ? rpcCall(ctx.clients.ossAdmin, 'OpenOssService', '2019-04-22', {}, timeout)
          : ctx.clients.ecsIn(region).openSnapshotServiceWithOptions(new OpenSnapshotServiceRequest({ regionId: region }), runtime(timeout)));
    return true;
  } catch (error) {
    if (error instanceof StepError && ALREADY_OPEN_CODES.includes(error.code)) return false;
    throw error;
  }
}
