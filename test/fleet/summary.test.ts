import { describe, expect, it } from 'vitest';
import { fleetRow, renderFleetSummary } from '../../src/fleet/summary.ts';

describe('fleet summary', () => {
  it('a cluster set up with a manual step left is not counted as complete: its row names the step', () => {
    const left = fleetRow('c-sandbox-ulanqab', {
      status: 'complete',
      completed: [],
      message: '⚠️ Backup center set up for `sandbox-ulanqab` (c-sandbox-ulanqab, ACK managed cluster) — one manual step left: authorize Cloud Backup to use API Gateway in cn-wulanchabu (Cloud Backup console, once per account). Once done, backups go to bucket `b` in cn-wulanchabu.',
    });
    expect(left).toEqual({
      clusterId: 'c-sandbox-ulanqab',
      result: 'done',
      reason: 'one manual step left: authorize Cloud Backup to use API Gateway in cn-wulanchabu (Cloud Backup console, once per account)',
    });
    const complete = fleetRow('c-a', { status: 'complete', completed: [], message: '✅ Backup center setup complete for `a` (c-a, ACK managed cluster): backups go to bucket `b` in cn-hangzhou.' });
    expect(complete.reason).toBe('');
    expect(renderFleetSummary([complete, left]).text.split('\n')[0]).toBe('⚠️ Backup center set up on all 2 clusters; 1 with a manual step left (see the table).');
    expect(renderFleetSummary([complete]).text.split('\n')[0]).toBe('✅ Backup center setup complete on all 1 clusters.');
  });
});
