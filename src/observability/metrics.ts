// Prometheus metrics (prom-client), one registry per bot instance.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A watched cluster as the metrics see it: turned on, and drifted or not. */
export interface WatchGauge {
  clusterId: string;
  enabled: boolean;
  drifted: boolean;
}

export function createMetrics(
  activeSessions: () => Promise<Record<string, number>> = async () => ({}),
  watches: () => Promise<WatchGauge[]> = async () => [],
) {
  // One read of the watches serves both gauges of one scrape.
  let watchRead: Promise<WatchGauge[] | null> | null = null;
  const readWatches = () => {
    watchRead ??= watches().catch(() => null).finally(() => setTimeout(() => (watchRead = null), 0));
    return watchRead;
  };
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
    registry,
    sessionsStarted: new Counter({ name: 'backup_setup_sessions_started_total', help: 'Setup sessions started', registers: [registry] }),
    sessionsEnded: new Counter({
      name: 'backup_setup_sessions_ended_total',
      help: 'Setup sessions ended, by final status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    sessionsActive: new Gauge({
      name: 'backup_setup_sessions_active',
      help: 'Sessions not yet ended, by state',
      labelNames: ['state'] as const,
      registers: [registry],
      // Without the store the last counts stay: /metrics must answer while the database is down.
      async collect() {
        const counts = await activeSessions().catch(() => null);
        if (counts === null) return;
        this.reset();
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    }),
    approvals: new Counter({
      name: 'backup_setup_approvals_total',
      help: 'Approval clicks, by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    stepDuration: new Histogram({
      name: 'backup_setup_step_duration_seconds',
      help: 'Privileged step duration, by step, cluster flow and result',
      labelNames: ['step', 'flow', 'result'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    stepFailures: new Counter({
      name: 'backup_setup_step_failures_total',
      help: 'Privileged step failures, by step, cluster flow and error code',
      labelNames: ['step', 'flow', 'code'] as const,
      registers: [registry],
    }),
    watchedClusters: new Gauge({
      name: 'backup_setup_watched_clusters',
      help: 'Clusters whose backup setup is watched (watch on)',
      registers: [registry],
      async collect() {
        const rows = await readWatches();
        if (rows !== null) this.set(rows.filter((w) => w.enabled).length);
      },
    }),
    clusterDrift: new Gauge({
      name: 'backup_setup_cluster_drift',
      help: 'Whether a watched cluster has drift reported and not yet resolved (1) or not (0); one series per watched cluster',
      labelNames: ['cluster_id'] as const,
      registers: [registry],
      async collect() {
        const rows = await readWatches();
        if (rows === null) return;
        // Only the watched clusters: a cluster turned off (or never watched) has no series.
        this.reset();
        for (const w of rows) if (w.enabled) this.set({ cluster_id: w.clusterId }, w.drifted ? 1 : 0);
      },
    }),
    watchCheckDuration: new Histogram({
      name: 'backup_setup_watch_check_duration_seconds',
      help: 'Duration of one watch check of one cluster (the verify reads)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    cloudErrors: new Counter({
      name: 'backup_setup_cloud_api_errors_total',
      help: 'Cloud API errors seen by the executor, by service and code',
      labelNames: ['service', 'code'] as const,
      registers: [registry],
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
