import { describe, expect, it } from 'vitest';
import { HELP_TEXT, parseCommand } from '../../src/chat/grammar.ts';

describe('command grammar (shared by Slack and DingTalk)', () => {
  it.each([
    ['c-sandbox-dedicated', { verb: 'setup', clusterIds: ['c-sandbox-dedicated'] }],
    ['/backup-setup c-sandbox-dedicated', { verb: 'setup', clusterIds: ['c-sandbox-dedicated'] }],
    ['backup-setup  c82e6987e2961451182edacd74faf2e30 ', { verb: 'setup', clusterIds: ['c82e6987e2961451182edacd74faf2e30'] }],
    ['c-a1 c-b2 c-a1', { verb: 'setup', clusterIds: ['c-a1', 'c-b2'] }],
    ['status', { verb: 'status' }],
    ['status c-sandbox-edge', { verb: 'status', clusterId: 'c-sandbox-edge' }],
    ['CANCEL c-sandbox-edge', { verb: 'cancel', clusterId: 'c-sandbox-edge' }],
    ['cancel', { verb: 'cancel' }],
    ['verify c-sandbox-old', { verb: 'verify', clusterId: 'c-sandbox-old' }],
    ['verify c-sandbox-old --test-backup', { verb: 'verify', clusterId: 'c-sandbox-old', testBackup: true }],
    ['verify --test-backup c-sandbox-old', { verb: 'verify', clusterId: 'c-sandbox-old', testBackup: true }],
    ['audit c-sandbox-old', { verb: 'audit', clusterId: 'c-sandbox-old' }],
    ['help', { verb: 'help' }],
    ['--region cn-hangzhou --all', { verb: 'setup-region', region: 'cn-hangzhou' }],
    // Cluster ids are lowercased before any call (grammar.ts normalClusterId says why).
    ['C-Sandbox-Managed', { verb: 'setup', clusterIds: ['c-sandbox-managed'] }],
    ['C82E6987E2961451182EDACD74FAF2E30 c82e6987e2961451182edacd74faf2e30', { verb: 'setup', clusterIds: ['c82e6987e2961451182edacd74faf2e30'] }],
    ['status C-SANDBOX-EDGE', { verb: 'status', clusterId: 'c-sandbox-edge' }],
    ['verify C-Sandbox-Old --test-backup', { verb: 'verify', clusterId: 'c-sandbox-old', testBackup: true }],
    ['watch', { verb: 'watch', action: 'list' }],
    ['/backup-setup watch off c-sandbox-managed', { verb: 'watch', action: 'off', clusterId: 'c-sandbox-managed' }],
    ['watch ON c-sandbox-edge', { verb: 'watch', action: 'on', clusterId: 'c-sandbox-edge' }],
  ])('parses %j', (text, command) => {
    expect(parseCommand(text)).toEqual({ ok: true, command });
  });

  it.each([
    ['', 'Which cluster? Give its id: `/backup-setup <cluster-id>`.'],
    ['/backup-setup', 'Which cluster? Give its id: `/backup-setup <cluster-id>`.'],
    ['deploy c-sandbox-managed', 'Unknown word `deploy`. Use `/backup-setup <cluster-id>`, or one of: status, cancel, verify, audit, watch, help.'],
    ['stauts', 'Unknown word `stauts`. Did you mean `/backup-setup status`? Use `/backup-setup <cluster-id>`, or one of: status, cancel, verify, audit, watch, help.'],
    ['veryfy c-sandbox-old', 'Unknown word `veryfy`. Did you mean `/backup-setup verify`? Use `/backup-setup <cluster-id>`, or one of: status, cancel, verify, audit, watch, help.'],
    [
      'cancle',
      '`cancle` is not a cluster id: ACK cluster ids start with "c" followed by letters, digits and hyphens (for example c82e6987e2961451182edacd74faf2e30). Did you mean `/backup-setup cancel`?',
    ],
    ['--region cn-hangzou --all', '`cn-hangzou` is not an Alibaba Cloud region. Did you mean `/backup-setup --region cn-hangzhou --all`?'],
    ['deploy `c*_~<&`', 'Unknown word `deploy`. Use `/backup-setup <cluster-id>`, or one of: status, cancel, verify, audit, watch, help.'],
    [
      'c_bad_id',
      '`c_bad_id` is not a cluster id: ACK cluster ids start with "c" followed by letters, digits and hyphens (for example c82e6987e2961451182edacd74faf2e30). Copy it from the Clusters page of the ACK console.',
    ],
    [
      'status c-x-',
      '`c-x-` is not a cluster id: ACK cluster ids start with "c" followed by letters, digits and hyphens (for example c82e6987e2961451182edacd74faf2e30). Copy it from the Clusters page of the ACK console.',
    ],
    ['verify', '`verify` needs a cluster id: `/backup-setup verify <cluster-id>`.'],
    ['audit', '`audit` needs a cluster id: `/backup-setup audit <cluster-id>`.'],
    ['verify c-a c-b', 'Unexpected `c-b` after `verify`. See `/backup-setup help`.'],
    ['verify --test-backup', '`verify` needs a cluster id: `/backup-setup verify <cluster-id>`.'],
    ['verify c-a --test-backups', 'Unexpected `--test-backups` after `verify`. See `/backup-setup help`.'],
    ['help me', 'Unexpected `me` after `help`. See `/backup-setup help`.'],
    ['status c-a c-b', 'Unexpected `c-b` after `status`. See `/backup-setup help`.'],
    ['--region', '`--region` needs a region id such as cn-hangzhou: `/backup-setup --region <region> --all`.'],
    ['--region Hangzhou --all', '`--region` needs a region id such as cn-hangzhou, not `Hangzhou`: `/backup-setup --region <region> --all`.'],
    ['--region cn-hangzhou', 'Add `--all` to set up every cluster of the region: `/backup-setup --region cn-hangzhou --all`.'],
    ['watch c-sandbox-managed', 'Unexpected `c-sandbox-managed` after `watch`: use `/backup-setup watch`, `/backup-setup watch on <cluster-id>` or `/backup-setup watch off <cluster-id>`.'],
    ['watch off', '`watch off` needs a cluster id: `/backup-setup watch off <cluster-id>`.'],
    ['watch on c-a c-b', 'Unexpected `c-b` after `watch on c-a`. See `/backup-setup help`.'],
    ['watch on cn-hangzhou', '`cn-hangzhou` is a region, not a cluster id. To set up every cluster of it: `/backup-setup --region cn-hangzhou --all`.'],
  ])('refuses %j with a specific message', (text, error) => {
    expect(parseCommand(text)).toEqual({ ok: false, error });
  });

  it('caps a fleet command at 50 clusters', () => {
    const ids = Array.from({ length: 51 }, (_, i) => `c-${i}`).join(' ');
    expect(parseCommand(ids)).toEqual({ ok: false, error: 'At most 50 clusters per command (got 51); split the list.' });
  });

  it('has one help text naming every verb', () => {
    for (const verb of ['status', 'cancel', 'verify', 'audit', 'watch', 'watch on', 'watch off', 'help', '--region']) expect(HELP_TEXT).toContain(verb);
  });
});
