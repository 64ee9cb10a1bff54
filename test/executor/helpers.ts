// An executor wired to a fresh in-memory sandbox through the real SDK clients, with fast retries and polls.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createCloudClients, type CloudClients, type Timeouts } from '../../src/executor/clients.ts';
import type { Executor } from '../../src/executor/contract.ts';
import { createExecutor } from '../../src/executor/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics, type Metrics } from '../../src/observability/metrics.ts';
import { cloudEndpointsOf, startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import type { Store } from '../../src/store/contract.ts';
import { createdAccessKeysIn } from '../../src/store/created-access-keys.ts';
import { openStore } from '../../src/store/index.ts';

export interface Harness {
  sandbox: Sandbox;
  clients: CloudClients;
  executor: Executor;
  metrics: Metrics;
  /** The store the executor records the AccessKeys it creates in. */
  store: Store;
  /** Every log line written so far. */
  logs: string[];
  close(): Promise<void>;
}

export const FAST_RETRY = { attempts: 4, baseMs: 2, capMs: 10 };

export async function startHarness(options: { timeouts?: Partial<Timeouts> } = {}): Promise<Harness> {
  const sandbox = await startSandbox();
  const stateDir = mkdtempSync(join(tmpdir(), 'executor-'));
  const store = await openStore({ databaseUrl: null, stateDir });
  const logs: string[] = [];
  const logger = createLogger('debug', new Writable({ write(chunk, _encoding, done) { logs.push(String(chunk)); done(); } }) as never);
  const clients = createCloudClients({
    credentials: sandbox.botCredentials,
    endpoints: cloudEndpointsOf(sandbox),
    protocol: 'http',
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
  });
  const metrics = createMetrics();
  const executor = createExecutor({ clients, createdAccessKeys: createdAccessKeysIn(store), logger, metrics, retry: FAST_RETRY, pollIntervalMs: 5, rateLimits: null });
  return {
    sandbox, clients, executor, metrics, store, logs,
    close: async () => {
      await sandbox.close();
      await store.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** The error a call must fail with; a call that succeeds fails the test. */
export async function failure<E = Error>(call: Promise<unknown>): Promise<E> {
  try {
    await call;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected the call to fail, it succeeded');
}

export async function counterValue(metrics: Metrics, labels: { service: string; code: string }): Promise<number> {
  const { values } = await metrics.cloudErrors.get();
  return values.find((v) => v.labels.service === labels.service && v.labels.code === labels.code)?.value ?? 0;
}
