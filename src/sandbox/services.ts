// The service activations the seed's procedure needs, as the real APIs show them: Cloud Backup (hbr 2017-09-08),
// the ECS snapshot service (ECS 2014-05-26, per region) and OSS's OpenOssService (Oss 2019-04-22). One RPC listener
// serves the three products (dispatch on x-acs-version); ACS3-HMAC-SHA256 signed, RAM-evaluated like RAM and CS.
// Sources of every code are in src/executor/service-state.ts; what the emulator does with them:
// - DescribeSnapshots in a region whose snapshot service is off: 403 InvalidAccountStatus.SnapshotServiceUnavailable
//   "Snapshot service has not been opened yet." (the ECS code for it; that DescribeSnapshots answers it is the stricter reading).
// - DescribeVaults on an account without Cloud Backup: 403 ServiceNotActivated "The service is not activated yet."
//   (https://help.aliyun.com/zh/cloud-backup/developer-reference/api-hbr-2017-09-08-errorcodes).
// - OpenHbrService / OpenOssService on an account that has the service: 400 ORDER.OPEND (terraform-provider-alicloud
//   data_source_alicloud_hbr_service.go and data_source_alicloud_oss_service.go treat it as "already opened").
// - OpenSnapshotService: idempotent (no "already open" code is documented; the bot re-reads either way).
// A service once opened stays open: nothing here (nor in the real APIs) closes it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountState, SandboxAccount } from './account.ts';
import { NonceCache, verifyAcs3 } from './acs3.ts';
import { findAccessKey } from './credentials.ts';
import { applyFaults, type FaultPlan } from './faults.ts';
import { type Handler, newRequestId, randomDigits, readBody, sendJson, ServiceError } from './http.ts';
import { accessDeniedDetail, gate } from './iam/authorize.ts';
import type { RequestLog } from './request-log.ts';


type Product = 'hbr' | 'ecs' | 'oss';
const PRODUCTS: Record<string, Product> = { '2017-09-08': 'hbr', '2014-05-26': 'ecs', '2019-04-22': 'oss' };

export function snapshotServiceOn(state: AccountState, region: string): boolean {
  return !(state.services?.snapshotOffRegions ?? []).includes(region);
}

/** RAM actions named otherwise than `<product>:<API>` (flows/domain/services.ts says where each comes from). */
const RAM_ACTIONS: Record<string, string> = { OpenOssService: 'oss:ActivateProduct' };

type Action = (query: Record<string, string>, account: SandboxAccount) => Record<string, unknown>;

const ACTIONS: Record<Product, Record<string, Action>> = {
  hbr: {
    DescribeVaults: (query, account) => {
      if (account.state.services?.cloudBackupOff) throw new ServiceError(403, 'ServiceNotActivated', 'The service is not activated yet.');
      const pageSize = Number(query.PageSize ?? '10');
      // Cloud Backup answers 200 with Success/Code/Message in the body (DescribeVaults response parameters).
      return { Success: true, Code: '200', Message: 'successful', PageNumber: 1, PageSize: pageSize, TotalCount: 0, Vaults: { Vault: [] } };
    },
    OpenHbrService: (_query, account) =>
      account.change((s) => {
        if (!s.services?.cloudBackupOff) throw new ServiceError(400, 'ORDER.OPEND', 'The service has been opened.');
        s.services.cloudBackupOff = false;
        return { OrderId: randomDigits(15) };
      }),
  },
  ecs: {
    DescribeSnapshots: (query, account) => {
      const region = query.RegionId ?? '';
      if (!region) throw new ServiceError(400, 'MissingRegionId', 'RegionId is mandatory for this action.');
      if (!snapshotServiceOn(account.state, region)) {
        throw new ServiceError(403, 'InvalidAccountStatus.SnapshotServiceUnavailable', 'Snapshot service has not been opened yet.');
      }
      return { TotalCount: 0, PageNumber: 1, PageSize: Number(query.PageSize ?? '10'), NextToken: '', Snapshots: { Snapshot: [] } };
    },
    OpenSnapshotService: (query, account) => {
      const region = query.RegionId ?? '';
      if (!region) throw new ServiceError(400, 'MissingRegionId', 'RegionId is mandatory for this action.');
      return account.change((s) => {
        if (s.services?.snapshotOffRegions) s.services.snapshotOffRegions = s.services.snapshotOffRegions.filter((r) => r !== region);
        return {};
      });
    },
  },
  oss: {
    OpenOssService: (_query, account) =>
      account.change((s) => {
        if (!s.services?.ossOff) throw new ServiceError(400, 'ORDER.OPEND', 'The service has been opened.');
        s.services.ossOff = false;
        return { OrderId: randomDigits(15) };
      }),
  },
};

export function servicesHandler(account: SandboxAccount, faults?: FaultPlan, log?: RequestLog): Handler {
  const nonces = new NonceCache();
  return async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const requestId = newRequestId();
    const answerError = (status: number, code: string, message: string) => sendJson(res, status, { RequestId: requestId, Code: code, Message: message });
    const verified = verifyAcs3(req, body, (id) => findAccessKey(account.state, id), nonces);
    if (!verified.ok) return answerError(verified.error.status, verified.error.code, verified.error.message);
    const product = PRODUCTS[String(req.headers['x-acs-version'] ?? '')];
    if (!product) return answerError(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
    const actionName = String(req.headers['x-acs-action'] ?? '');
    const action = ACTIONS[product][actionName];
    if (!action) return answerError(404, 'InvalidAction.NotFound', `Specified api ${actionName} is not existing, please check your url and method.`);
    // None of these actions supports resource-level authorization ("All Resources" in their RAM tables): Resource "*".
    const refusal = gate(account.state, log, product, verified.caller, { action: RAM_ACTIONS[actionName] ?? `${product}:${actionName}`, resources: ['*'] });
    if (refusal) {
      return sendJson(res, 403, {
        RequestId: requestId,
        Code: 'Forbidden.RAM',
        Message: `User not authorized to operate on the specified resource. Action: ${refusal.action}`,
        AccessDeniedDetail: accessDeniedDetail(refusal),
      });
    }
    if (await applyFaults(faults, actionName, req, res, answerError)) return;
    try {
      sendJson(res, 200, { RequestId: requestId, ...action(verified.query, account) });
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      answerError(error.status, error.code, error.message);
    }
  };
}
