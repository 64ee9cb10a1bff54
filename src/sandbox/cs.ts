// Container Service (ACK, 2015-12-15) emulator: ROA style, ACS3-HMAC-SHA256 signed, JSON bodies,
// asynchronous add-on tasks that finish after a few DescribeTaskInfo polls (reference §3).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AccountState, CsTask, SandboxAccount, SandboxCluster } from './account.ts';
import { NonceCache, verifyAcs3 } from './acs3.ts';
import { findAccessKey } from './credentials.ts';
import { applyFaults, sleep, type FaultPlan } from './faults.ts';
import { type Handler, isoSeconds, newRequestId, readBody, sendJson, ServiceError } from './http.ts';
import { accessDeniedDetail, gate } from './iam/authorize.ts';
import type { RequestLog } from './request-log.ts';
import { kubeconfigFor, type KubeServerAddress } from './kube/kubeconfig.ts';
import { applyAddonInstalled, removeAddonObjects } from './kube/objects.ts';

const VERSION = '2015-12-15';
/** A task nobody polls (its caller crashed) still ends on its own this long after it started, as real ones do. */
export const TASK_DURATION_MS = 3_000;
/** DescribeTaskInfo answers `running` this many times before the task ends. */
export const TASK_RUNNING_POLLS = 2;
const CERT_LIFETIME_MS = 3 * 365 * 24 * 3600 * 1000;

class CsError extends ServiceError {}
const invalid = (message: string) => new CsError(400, 'InvalidParameter', message);

type Addon = CsTask['addon'];
interface Call { params: string[]; query: Record<string, string>; body: Buffer }
type Operation = (call: Call) => unknown;

/** Compares "1.8.7", "v1.33.1-aliyun.1"… by their numeric parts. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^v/, '').split(/[.-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : 0));
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
const ADDON_CATEGORY: Record<string, string> = { 'csi-plugin': 'storage', 'csi-provisioner': 'storage', flexvolume: 'storage', 'migrate-controller': 'storage' };
const VERSION_FORMAT = /^v?\d+\.\d+\.\d+([.-][A-Za-z0-9.]+)*$/;

export interface CsEmulatorOptions { account: SandboxAccount; faults?: FaultPlan; kubeServer: KubeServerAddress; log?: RequestLog }

/**
 * The resource CS authorizes an operation on (the "RAM authorization" table of each CS API page, e.g.
 * https://help.aliyun.com/en/ack/ack-managed-and-ack-dedicated/developer-reference/api-cs-2015-12-15-describetaskinfo):
 * `acs:cs:<region>:<account>:cluster/<id>` for cluster operations; DescribeTaskInfo authorizes on "All Resources",
 * which only a policy Resource of `*` matches (stricter reading).
 */
function csResource(action: string, params: string[], query: Record<string, string>, state: AccountState): string {
  if (action === 'DescribeTaskInfo') return '*';
  if (action === 'DescribeClustersV1') return `acs:cs:${query.region_id || '*'}:${state.accountId}:cluster/*`;
  const id = params[0] ?? '*';
  return `acs:cs:${state.clusters[id]?.region ?? '*'}:${state.accountId}:cluster/${id}`;
}

export function csHandler({ account, faults, kubeServer, log }: CsEmulatorOptions): Handler {
  const nonces = new NonceCache();
  const state = () => account.state;

  const cluster = (s: AccountState, id: string): SandboxCluster => {
    const found = s.clusters[id];
    if (!found) throw new CsError(404, 'ErrorClusterNotFound', `cluster ${id} not found`);
    return found;
  };
  const clusterView = (c: SandboxCluster) => ({
    cluster_id: c.id,
    name: c.name,
    cluster_type: c.type,
    profile: c.profile,
    cluster_spec: c.spec,
    region_id: c.region,
    zone_id: `${c.region}-k`,
    state: c.state,
    current_version: c.version,
    init_version: c.version,
    next_version: '',
    vpc_id: c.vpcId,
    resource_group_id: 'rg-sandbox',
    network_mode: 'vpc',
    container_cidr: '172.20.0.0/16',
    service_cidr: '172.21.0.0/20',
    deletion_protection: false,
    worker_ram_role_name: c.type === 'ExternalKubernetes' ? '' : `KubernetesWorkerRole-${c.id}`,
    created: c.created,
    updated: c.created,
    size: 3,
    tags: [],
    meta_data: JSON.stringify({ KubernetesVersion: c.version.replace(/-aliyun\.\d+$/, ''), Region: c.region }),
    // "The access addresses of the cluster, including the internal network access address and the public network
    // access address" (DescribeClusterDetailResponseBody.masterUrl): a private-only API server has no public one.
    master_url: JSON.stringify({
      ...(c.apiServerPublic === false ? {} : { api_server_endpoint: `https://47.${c.vpcId.length}.0.1:6443` }),
      intranet_api_server_endpoint: 'https://192.168.0.1:6443',
    }),
  });
  const latest = (s: AccountState, name: string): string => {
    const version = s.latestAddonVersions[name];
    if (!version) throw invalid(`addon "${name}" is not an available add-on; available: ${Object.keys(s.latestAddonVersions).join(', ')}`);
    return version;
  };
  const installed = (c: SandboxCluster, name: string) => {
    const found = c.addons.find((a) => a.name === name);
    if (!found) throw new CsError(404, 'AddonNotFound', `addon ${name} is not installed in cluster ${c.id}`);
    return found;
  };
  const runningTaskFor = (s: AccountState, clusterId: string, name: string) =>
    Object.values(s.tasks).find((t) => t.clusterId === clusterId && t.state === 'running' && (t.addons ?? [t.addon]).some((a) => a.name === name));
  const jsonArray = (body: Buffer): Record<string, unknown>[] => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw invalid('the request body is not valid JSON');
    }
    if (!Array.isArray(parsed) || parsed.length === 0) throw invalid('the request body must be a non-empty JSON array of add-ons');
    return parsed.map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid(`body[${i}] must be an object`);
      return item as Record<string, unknown>;
    });
  };
  const stringField = (item: Record<string, unknown>, i: number, field: string, required: boolean): string | undefined => {
    const value = item[field];
    if (value === undefined || value === null || value === '') {
      if (required) throw invalid(`body[${i}].${field} is required`);
      return undefined;
    }
    if (typeof value !== 'string') throw invalid(`body[${i}].${field} must be a string`);
    return value;
  };
  const checkConfig = (config: string | undefined, i: number) => {
    if (config === undefined) return;
    try {
      const parsed: unknown = JSON.parse(config);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error();
    } catch {
      throw invalid(`body[${i}].config must be a JSON object encoded as a string`);
    }
  };
  const startTask = (s: AccountState, c: SandboxCluster, addons: Addon[]): CsTask => {
    const now = isoSeconds();
    const task: CsTask = {
      taskId: `T-${randomBytes(12).toString('hex')}`,
      clusterId: c.id,
      taskType: addons[0]!.action === 'install' ? 'cluster_addon_install' : 'cluster_addon_upgrade',
      state: 'running',
      created: now,
      updated: now,
      pollsLeft: TASK_RUNNING_POLLS + 1,
      addon: addons[0]!,
      ...(addons.length > 1 ? { addons } : {}),
    };
    s.tasks[task.taskId] = task;
    return task;
  };
  const settleOverdueTasks = () => {
    const overdue = (t: CsTask) => t.state === 'running' && Date.now() - Date.parse(t.created) >= TASK_DURATION_MS;
    if (!Object.values(state().tasks).some(overdue)) return;
    account.change((s) => {
      for (const task of Object.values(s.tasks)) if (overdue(task)) finishTask(s, task);
    });
  };
  /** Ends a task: an `error` fault on "<operation>Task" fails it, otherwise the add-ons become active. */
  const finishTask = (s: AccountState, task: CsTask) => {
    const c = cluster(s, task.clusterId);
    const operation = task.addon.action === 'install' ? 'InstallClusterAddonsTask' : 'UpgradeClusterAddonsTask';
    const failure = faults?.takeEvent(operation).find((f) => f.kind === 'error');
    task.updated = isoSeconds();
    for (const addon of task.addons ?? [task.addon]) {
      const current = c.addons.find((a) => a.name === addon.name);
      if (failure) {
        if (current) current.state = 'active';
        continue;
      }
      if (current) {
        current.version = addon.version;
        current.state = 'active';
      } else {
        c.addons.push({ name: addon.name, version: addon.version, state: 'active' });
      }
      applyAddonInstalled(c, addon.name, addon.version);
    }
    if (failure && failure.kind === 'error') {
      task.state = 'fail';
      task.error = { code: failure.code, message: failure.message };
    } else {
      task.state = 'success';
    }
  };
  const taskView = (t: CsTask) => {
    const addons = t.addons ?? [t.addon];
    return {
      task_id: t.taskId,
      cluster_id: t.clusterId,
      task_type: t.taskType,
      state: t.state,
      created: t.created,
      updated: t.updated,
      current_stage: t.state === 'running' ? (t.addon.action === 'install' ? 'InstallAddons' : 'UpgradeAddons') : '',
      target: { id: t.clusterId, type: 'cluster' },
      parameters: { addons: addons.map((a) => ({ name: a.name, version: a.version })) },
      stages: [],
      events: [],
      task_result: addons.map((a) => ({ data: a.name, status: t.state })),
      ...(t.error ? { error: t.error } : {}),
    };
  };

  /** One entry of ListAddons, fields as in ListAddonsResponseBodyAddons (node_modules/@alicloud/cs20151215/src/models/ListAddonsResponseBody.ts). */
  const addonOnOffer = (name: string, version: string) => ({
    name,
    version,
    category: ADDON_CATEGORY[name] ?? '',
    config_schema: '{}',
    install_by_default: false,
    managed: false,
    supported_actions: ['install', 'upgrade', 'uninstall'],
    architecture: ['amd64', 'arm64'],
  });

  const routes: { method: string; path: RegExp; action: string; run: Operation }[] = [
    { method: 'GET', path: /^\/api\/v1\/clusters$/, action: 'DescribeClustersV1', run: ({ query }) => {
      const pageSize = query.page_size ? Number(query.page_size) : 10;
      const pageNumber = query.page_number ? Number(query.page_number) : 1;
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw invalid('page_size must be an integer from 1 to 100');
      if (!Number.isInteger(pageNumber) || pageNumber < 1) throw invalid('page_number must be a positive integer');
      const filters: [string, (c: SandboxCluster) => string][] = [
        ['cluster_id', (c) => c.id], ['cluster_type', (c) => c.type], ['cluster_spec', (c) => c.spec],
        ['profile', (c) => c.profile], ['region_id', (c) => c.region],
      ];
      const matching = Object.values(state().clusters).filter(
        (c) => filters.every(([key, get]) => !query[key] || get(c) === query[key]) && (!query.name || c.name.includes(query.name)),
      );
      return {
        clusters: matching.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map(clusterView),
        page_info: { page_number: pageNumber, page_size: pageSize, total_count: matching.length },
      };
    } },
    { method: 'GET', path: /^\/clusters\/([^/]+)$/, action: 'DescribeClusterDetail', run: ({ params }) => clusterView(cluster(state(), params[0]!)) },
    { method: 'GET', path: /^\/clusters\/([^/]+)\/addon_instances$/, action: 'ListClusterAddonInstances', run: ({ params }) => ({
      addons: cluster(state(), params[0]!).addons.map((a) => ({ name: a.name, version: a.version, state: a.state })),
    }) },
    { method: 'GET', path: /^\/clusters\/([^/]+)\/addon_instances\/([^/]+)$/, action: 'GetClusterAddonInstance', run: ({ params }) => {
      const a = installed(cluster(state(), params[0]!), params[1]!);
      return { name: a.name, version: a.version, state: a.state, config: '{}', logging: { capable: false, enabled: false, log_project: '', logstore: '' } };
    } },
    // ListAddons (GET /addons): the add-ons that can be installed, one entry per add-on with the version on offer.
    // With cluster_id the list is the one for that cluster and the other parameters are ignored; without it,
    // region_id, cluster_type, profile, cluster_spec and cluster_version "must be specified together"
    // (https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/developer-reference/api-cs-2015-12-15-listaddons;
    // node_modules/@alicloud/cs20151215/src/models/ListAddonsRequest.ts). The error for a partial set is not
    // documented: the stricter reading refuses it with InvalidParameter.
    { method: 'GET', path: /^\/addons$/, action: 'ListAddons', run: ({ query }) => {
      const s = state();
      if (query.cluster_id !== undefined && query.cluster_id !== '') {
        cluster(s, query.cluster_id);
      } else {
        const together = ['region_id', 'cluster_type', 'profile', 'cluster_spec', 'cluster_version'];
        const missing = together.filter((k) => !query[k]);
        if (missing.length) throw invalid(`without cluster_id, ${together.join(', ')} must be specified together; missing ${missing.join(', ')}`);
      }
      return { addons: Object.entries(s.latestAddonVersions).map(([name, version]) => addonOnOffer(name, version)) };
    } },
    // DescribeClusterAddonsVersion is deprecated and documented as "Queries the details of all installed
    // components in a cluster" (node_modules/@alicloud/cs20151215/src/client.ts, @deprecated;
    // https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/developer-reference/api-query-components):
    // an add-on that is not installed is not listed at all, so it says nothing about versions that can be installed.
    { method: 'GET', path: /^\/clusters\/([^/]+)\/components\/version$/, action: 'DescribeClusterAddonsVersion', run: ({ params }) => {
      const s = state();
      const c = cluster(s, params[0]!);
      return Object.fromEntries(c.addons.map((current) => {
        const next = s.latestAddonVersions[current.name] ?? current.version;
        const canUpgrade = compareVersions(next, current.version) > 0;
        return [current.name, {
          component_name: current.name,
          version: current.version,
          next_version: canUpgrade ? next : '',
          can_upgrade: canUpgrade,
          exist: true,
          required: false,
          changed: '',
          message: '',
          policy: [],
        }];
      }));
    } },
    { method: 'POST', path: /^\/clusters\/([^/]+)\/components\/install$/, action: 'InstallClusterAddons', run: ({ params, body }) => {
      const items = jsonArray(body);
      return account.change((s) => {
        const c = cluster(s, params[0]!);
        const addons = items.map((item, i): Addon => {
          const name = stringField(item, i, 'name', true)!;
          const newest = latest(s, name);
          const version = stringField(item, i, 'version', false) ?? newest;
          if (!VERSION_FORMAT.test(version)) throw invalid(`body[${i}].version "${version}" is not a version`);
          if (compareVersions(version, newest) > 0) throw invalid(`version ${version} of addon ${name} is not available; the latest is ${newest}`);
          checkConfig(stringField(item, i, 'config', false), i);
          if (c.addons.some((a) => a.name === name)) throw new CsError(400, 'AddonAlreadyInstalled', `addon ${name} is already installed in cluster ${c.id}; upgrade it instead`);
          const running = runningTaskFor(s, c.id, name);
          if (running) throw new CsError(400, 'ErrorClusterState', `cluster ${c.id} has a running task ${running.taskId} for addon ${name}`);
          return { name, version, action: 'install' };
        });
        if (new Set(addons.map((a) => a.name)).size !== addons.length) throw invalid('an add-on is named twice in the request body');
        const task = startTask(s, c, addons);
        return { cluster_id: c.id, task_id: task.taskId };
      });
    } },
    // UnInstallClusterAddons: POST /clusters/{id}/components/uninstall with [{ name, cleanup_cloud_resources }]
    // (node_modules/@alicloud/cs20151215/src/client.ts unInstallClusterAddonsWithOptions; answers cluster_id, request_id,
    // task_id). The bot never uninstalls: this is how a test (or a newcomer) removes the add-on behind its back. The real
    // uninstall runs as a task; here it is done by the time the answer comes, and the component's Deployment goes with it.
    { method: 'POST', path: /^\/clusters\/([^/]+)\/components\/uninstall$/, action: 'UnInstallClusterAddons', run: ({ params, body }) => {
      const items = jsonArray(body);
      return account.change((s) => {
        const c = cluster(s, params[0]!);
        const names = items.map((item, i) => stringField(item, i, 'name', true)!);
        for (const name of names) installed(c, name);
        for (const name of names) {
          const running = runningTaskFor(s, c.id, name);
          if (running) throw new CsError(400, 'ErrorClusterState', `cluster ${c.id} has a running task ${running.taskId} for addon ${name}`);
        }
        c.addons = c.addons.filter((a) => !names.includes(a.name));
        for (const name of names) removeAddonObjects(c, name);
        return { cluster_id: c.id, task_id: `T-${randomBytes(12).toString('hex')}` };
      });
    } },
    { method: 'POST', path: /^\/clusters\/([^/]+)\/components\/upgrade$/, action: 'UpgradeClusterAddons', run: ({ params, body }) => {
      const items = jsonArray(body);
      return account.change((s) => {
        const c = cluster(s, params[0]!);
        const addons = items.map((item, i): Addon => {
          const name = stringField(item, i, 'component_name', true)!;
          const next = stringField(item, i, 'next_version', true)!;
          const newest = latest(s, name);
          const current = installed(c, name);
          const stated = stringField(item, i, 'version', false);
          if (stated !== undefined && stated !== current.version) throw invalid(`body[${i}].version ${stated} is not the installed version ${current.version}`);
          if (!VERSION_FORMAT.test(next)) throw invalid(`body[${i}].next_version "${next}" is not a version`);
          if (compareVersions(next, current.version) <= 0) throw invalid(`next_version ${next} of addon ${name} is not newer than the installed ${current.version}`);
          if (compareVersions(next, newest) > 0) throw invalid(`version ${next} of addon ${name} is not available; the latest is ${newest}`);
          const policy = stringField(item, i, 'policy', false);
          if (policy !== undefined && policy !== 'overwrite' && policy !== 'canary') throw invalid(`body[${i}].policy must be overwrite or canary`);
          checkConfig(stringField(item, i, 'config', false), i);
          const running = runningTaskFor(s, c.id, name);
          if (running) throw new CsError(400, 'ErrorClusterState', `cluster ${c.id} has a running task ${running.taskId} for addon ${name}`);
          return { name, version: next, action: 'upgrade' };
        });
        if (new Set(addons.map((a) => a.name)).size !== addons.length) throw invalid('an add-on is named twice in the request body');
        for (const addon of addons) installed(c, addon.name).state = 'upgrading';
        const task = startTask(s, c, addons);
        return { cluster_id: c.id, task_id: task.taskId };
      });
    } },
    { method: 'GET', path: /^\/tasks\/([^/]+)$/, action: 'DescribeTaskInfo', run: ({ params }) => {
      const id = params[0]!;
      if (!state().tasks[id]) throw new CsError(404, 'ErrorTaskNotFound', `task ${id} not found`);
      return account.change((s) => {
        const task = s.tasks[id]!;
        if (task.state === 'running') {
          task.pollsLeft -= 1;
          if (task.pollsLeft <= 0) finishTask(s, task);
        }
        return taskView(task);
      });
    } },
    { method: 'GET', path: /^\/k8s\/([^/]+)\/user_config$/, action: 'DescribeClusterUserKubeconfig', run: ({ params, query }) => {
      const c = cluster(state(), params[0]!);
      const minutes = query.TemporaryDurationMinutes;
      if (minutes !== undefined && !(Number.isInteger(Number(minutes)) && Number(minutes) >= 15 && Number(minutes) <= 4320)) {
        throw invalid('TemporaryDurationMinutes must be an integer from 15 to 4320');
      }
      if (query.PrivateIpAddress !== undefined && !['true', 'false'].includes(query.PrivateIpAddress)) throw invalid('PrivateIpAddress must be true or false');
      // PrivateIpAddress false (the default) "obtains only the public network connection credential"
      // (DescribeClusterUserKubeconfigRequest.privateIpAddress): a cluster whose API server has no public endpoint
      // has none to give. The real answer is not documented; the stricter reading refuses (the code is ours).
      if (query.PrivateIpAddress !== 'true' && c.apiServerPublic === false) {
        throw new CsError(400, 'ErrorApiServerNotPublic', `cluster ${c.id} has no public API server endpoint; ask for the internal one with PrivateIpAddress=true`);
      }
      const lifetime = minutes === undefined ? CERT_LIFETIME_MS : Number(minutes) * 60_000;
      return { config: kubeconfigFor(c, kubeServer), expiration: isoSeconds(new Date(Date.now() + lifetime)) };
    } },
  ];

  return async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const requestId = newRequestId();
    const answerError = (status: number, code: string, message: string) => sendJson(res, status, { code, message, requestId }, { 'x-acs-request-id': requestId });

    const verified = verifyAcs3(req, body, (id) => findAccessKey(state(), id), nonces);
    if (!verified.ok) return answerError(verified.error.status, verified.error.code, verified.error.message);
    if (req.headers['x-acs-version'] !== VERSION) return answerError(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes.find((r) => r.method === req.method && r.path.test(path));
    if (!route) return answerError(404, 'InvalidAction.NotFound', `Specified api ${req.method} ${path} is not found, please check your url and method.`);
    const params = (route.path.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
    // CS's refusal: HTTP 403, code StatusForbidden, "RAM policy Forbidden for action cs:…" for a RAM user and
    // "STSToken policy Forbidden for action cs:…" for a role, with accessDeniedDetail (ACK's "Authorization overview" FAQ and
    // the RRSA guide's sample error, https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/use-rrsa-to-authorize-pods-to-access-different-cloud-services).
    const refusal = gate(state(), log, 'cs', verified.caller, { action: `cs:${route.action}`, resources: [csResource(route.action, params, verified.query, state())] });
    if (refusal) {
      const who = refusal.principal.type === 'AssumedRoleUser' ? 'STSToken' : 'RAM';
      return sendJson(res, 403, {
        accessDeniedDetail: accessDeniedDetail(refusal),
        code: 'StatusForbidden',
        message: `${who} policy Forbidden for action ${refusal.action}`,
        requestId,
        status: 403,
        statusCode: 403,
      }, { 'x-acs-request-id': requestId });
    }
    if (await applyFaults(faults, route.action, req, res, answerError)) return;
    settleOverdueTasks();
    try {
      const result = route.run({ params, query: verified.query, body }) as Record<string, unknown>;
      const withRequestId = route.action === 'InstallClusterAddons' || route.action === 'UpgradeClusterAddons' ? { ...result, request_id: requestId } : result;
      const delay = faults?.answerDelay(route.action) ?? 0;
      if (delay) await sleep(delay);
      sendJson(res, 200, withRequestId, { 'x-acs-request-id': requestId });
    } catch (error) {
      if (!(error instanceof CsError)) throw error;
      answerError(error.status, error.code, error.message);
    }
  };
}
