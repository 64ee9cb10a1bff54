// The closing table of a fleet setup: one row per cluster, done / skipped / failed with the reason.
import type { FlowOutput } from '../../flows/contract.ts';
import { plainText, pre } from '../../flows/domain/inline.js';

export type FleetResult = 'done' | 'skipped' | 'failed';

export interface FleetRow {
  clusterId: string;
  result: FleetResult;
  reason: string;
}

export function fleetRow(clusterId: string, output: FlowOutput): FleetRow {
  const firstLine = output.message.split('\n')[0] ?? '';
  switch (output.status) {
    case 'complete':
      return { clusterId, result: 'done', reason: '' };
    case 'unsupported':
      return { clusterId, result: 'skipped', reason: firstLine };
    default:
      return { clusterId, result: 'failed', reason: firstLine };
  }
}

export function renderFleetSummary(rows: FleetRow[]): { ok: boolean; text: string } {
  const count = (result: FleetResult) => rows.filter((r) => r.result === result).length;
  const done = count('done');
  const width = Math.max(7, ...rows.map((r) => r.clusterId.length));
  const lines = rows.map((r) => `${r.clusterId.padEnd(width)}  ${r.result.padEnd(7)}  ${plainText(r.reason)}`.trimEnd());
  const headline =
    done === rows.length
      ? `✅ Backup center setup complete on all ${rows.length} clusters.`
      : `Fleet setup finished: ${done} done, ${count('skipped')} skipped, ${count('failed')} failed (of ${rows.length}).`;
  return {
    ok: done === rows.length,
    text: `${headline}\n${pre([`${'cluster'.padEnd(width)}  result   reason`, ...lines].join('\n'))}`,
  };
}
