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
    case 'complete': {
      // Set up, but a console step was skipped (flows/blocks/closing.ts): the row says which one is left.
      const manual = /— (\d+ manual steps? left|one manual step left): (.*?)\. Once done,/.exec(firstLine);
      return { clusterId, result: 'done', reason: manual ? `${manual[1]}: ${manual[2]}` : '' };
    }
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
  const manual = rows.filter((r) => r.result === 'done' && r.reason !== '').length;
  const headline =
    done === rows.length && manual > 0
      ? `⚠️ Backup center set up on all ${rows.length} clusters; ${manual} with a manual step left (see the table).`
      : done === rows.length
      ? `✅ Backup center setup complete on all ${rows.length} clusters.`
      : `Fleet setup finished: ${done} done, ${count('skipped')} skipped, ${count('failed')} failed (of ${rows.length}).`;
  return {
    ok: done === rows.length,
    text: `${headline}\n${pre([`${'cluster'.padEnd(width)}  result   reason`, ...lines].join('\n'))}`,
  };
}
