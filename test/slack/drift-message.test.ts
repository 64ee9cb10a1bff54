// A drift message in Slack: its text, one Fix button (no "suggested": it is the only choice), and a click on it
// read back as the Fix answer of the watch (src/watch/), as Slack sends it.
import type { BlockAction, BlockElementAction } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { renderReply } from '../../src/chat/slack/blocks.ts';
import { actionEvent } from '../../src/chat/slack/inbound.ts';
import { driftReply } from '../../src/watch/watcher.ts';

const drift = {
  id: 'd1f7a2b3',
  items: [{ requirement: 'A backup vault', status: 'fail' as const, detail: 'no BackupLocation in namespace csdr', steps: ['createBackupVault' as const] }],
  since: '2026-12-02T01:03:36.193Z',
  lastGood: null,
  message: null,
};

describe('a drift message in Slack', () => {
  it('shows what differs and one Fix button, whose click is read as the watch\'s Fix', () => {
    const rendered = renderReply(driftReply('c-sandbox-dedicated', drift, true));
    const blocks = JSON.stringify(rendered);
    expect(blocks).toContain('⚠️ Drift on `c-sandbox-dedicated`');
    expect(blocks).toContain('❌ A backup vault: no BackupLocation in namespace csdr');
    expect(rendered.followUps).toEqual([]);
    type Blocks = { type: string; block_id?: string; elements?: { type: string; action_id: string; text: { text: string }; value: string }[] }[];
    const actions = (rendered.main.blocks as unknown as Blocks).filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(1);
    const [button] = actions[0]!.elements!;
    expect(button).toMatchObject({ type: 'button', text: { text: 'Fix' }, value: 'd1f7a2b3' });

    const body = {
      type: 'block_actions', trigger_id: 't-1', user: { id: 'U0ALICE' }, channel: { id: 'C0OPS' },
      message: { ts: '1700000000.000100' }, actions: [],
    } as unknown as BlockAction;
    const action = { type: 'button', action_id: button!.action_id, block_id: actions[0]!.block_id, value: button!.value } as unknown as BlockElementAction;
    expect(actionEvent(body, action)).toMatchObject({ kind: 'answer', sessionId: 'watch.c-sandbox-dedicated', questionId: 'fix', value: 'd1f7a2b3', actor: { id: 'slack:U0ALICE' } });
  });
});
