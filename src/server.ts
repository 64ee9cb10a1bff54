// The one HTTP server on PORT: /slack/events, /healthz, /readyz, /metrics, and in sandbox mode the chat
// page at /, /sandbox/state and /sandbox/kubeconfig/<cluster-id>.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './observability/logger.ts';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface ServerRoutes {
  slackEvents?: HttpHandler;
  /** Sandbox only: the chat page and its API. Returns true when it served the request. */
  webChat?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** Sandbox only: the emulated resources, never a secret. */
  sandboxState?: () => unknown;
  /** Sandbox only: a kubeconfig for kubectl against one emulated cluster; null for an unknown id. */
  sandboxKubeconfig?: (clusterId: string) => string | null;
  metrics: Registry;
  /** Named readiness checks (store, chat connections); each resolves to true when ready. */
  readiness: Record<string, () => Promise<boolean>>;
  logger: Logger;
}

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startServer(port: number, routes: ServerRoutes, host = '0.0.0.0'): Promise<RunningServer> {
  const server = createServer((req, res) => {
    route(routes, req, res).catch((error: unknown) => {
      routes.logger.error({ err: error, path: req.url }, 'http handler failed');
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error');
      else res.end();
    });
  });
  // Slack retries requests it considers timed out after 3 s; keep idle sockets short-lived but usable.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function route(routes: ServerRoutes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/slack/events' && routes.slackEvents) return routes.slackEvents(req, res);
  if (path === '/healthz') return send(res, 200, 'text/plain', 'ok');
  if (path === '/readyz') return readyz(routes, res);
  if (path === '/metrics') {
    return send(res, 200, routes.metrics.contentType, await routes.metrics.metrics());
  }
  if (path === '/sandbox/state' && routes.sandboxState && req.method === 'GET') {
    return send(res, 200, 'application/json', JSON.stringify(routes.sandboxState(), null, 2));
  }
  const kubeconfig = /^\/sandbox\/kubeconfig\/([^/]+)$/.exec(path);
  if (kubeconfig && routes.sandboxKubeconfig && req.method === 'GET') {
    const clusterId = decodeURIComponent(kubeconfig[1]!);
    const config = routes.sandboxKubeconfig(clusterId);
    if (config === null) {
      return send(res, 404, 'text/plain', `The sandbox has no cluster ${JSON.stringify(clusterId.slice(0, 64))}; GET /sandbox/state lists its clusters.\n`);
    }
    // Saved as a file: `curl -o kubeconfig …/sandbox/kubeconfig/<id>; KUBECONFIG=kubeconfig kubectl get ns`.
    return send(res, 200, 'application/yaml', config);
  }
  if (routes.webChat && (await routes.webChat(req, res))) return;
  send(res, 404, 'text/plain', 'not found');
}

async function readyz(routes: ServerRoutes, res: ServerResponse) {
  const results: Record<string, boolean> = {};
  await Promise.all(
    Object.entries(routes.readiness).map(async ([name, check]) => {
      results[name] = await check().catch(() => false);
    }),
  );
  const ready = Object.values(results).every(Boolean);
  send(res, ready ? 200 : 503, 'application/json', JSON.stringify({ ready, checks: results }));
}

function send(res: ServerResponse, status: number, contentType: string, body: string) {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
