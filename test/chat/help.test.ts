// Help equals behaviour (issue 15 item 11): every command the help shows is taken as written by the grammar of every
// platform, and running it in the bot gives an answer, not an error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlashCommand } from '@slack/bolt';
import { spans } from '../../flows/domain/inline.js';
import { HELP_TEXT, parseCommand } from '../../src/chat/grammar.ts';
import { commandEvent } from '../../src/chat/slack/inbound.ts';
import { robotMessage } from '../../src/chat/dingtalk/inbound.ts';
import { startTestBot, type TestBot } from '../support/bot-harness.ts';

const CLUSTER = 'c-sandbox-managed';

/** The help's commands, with <cluster-id> and <region> filled in; an optional [part] both left out and given. */
function examples(): string[] {
  const shown = spans(HELP_TEXT).flatMap((s) => (s.kind === 'code' && /^(\/backup-setup|@bot) /.test(s.text) ? [s.text] : []));
  return [...new Set(shown.flatMap((text) => {
    const filled = (t: string) => t.replace(/<cluster-id>/g, CLUSTER).replace(/<region>/g, 'cn-hangzhou');
    return /\[[^\]]+\]/.test(text) ? [filled(text.replace(/\s*\[[^\]]+\]/g, '')), filled(text.replace(/\[([^\]]+)\]/g, '$1'))] : [filled(text)];
  }))];
}

const dingtalkForm = (text: string) => (text.startsWith('@bot ') ? text : `@bot ${text}`);
const typedForm = (text: string) => text.replace(/^@bot (backup-setup )?/, '/backup-setup ');

describe('every command of the help works as written', () => {
  it('the help shows every verb, and its commands', () => {
    expect(examples()).toEqual(expect.arrayContaining([
      `/backup-setup ${CLUSTER}`, '/backup-setup --region cn-hangzhou --all', '/backup-setup status', `/backup-setup status ${CLUSTER}`,
      '/backup-setup cancel', `/backup-setup verify ${CLUSTER}`, `/backup-setup verify ${CLUSTER} --test-backup`, `/backup-setup audit ${CLUSTER}`,
      '/backup-setup help', '@bot backup-setup status',
    ]));
  });

  it.each(examples())('%s parses on the web page, in Slack and in DingTalk', (text) => {
    expect(parseCommand(typedForm(text))).toMatchObject({ ok: true });
    const slash = typedForm(text).replace(/^\/backup-setup\s*/, '');
    expect(commandEvent({ text: slash, trigger_id: 't1', user_id: 'U0ALICE', channel_id: 'C0BACKUPS' } as SlashCommand)).toMatchObject({ ok: true });
    const robot = robotMessage({ senderStaffId: 'manager123', conversationId: 'cid1', conversationType: '2', msgtype: 'text', text: { content: dingtalkForm(text) }, msgId: 'msg1' }, 'd1');
    expect(robot.kind).toBe('event');
  });

  describe('and gives an answer, not an error', () => {
    let t: TestBot;
    beforeAll(async () => {
      t = await startTestBot();
    });
    afterAll(async () => {
      await t.stop();
    });
    it.each(examples().map(typedForm).filter((text, i, all) => all.indexOf(text) === i))('%s', async (text) => {
      const before = { told: t.chat.told.length, messages: t.chat.messages.length };
      await t.command(text);
      const told = t.chat.told.slice(before.told).map((m) => m.text);
      const posted = t.chat.messages.slice(before.messages).map((m) => m.reply);
      expect(told.length + posted.length).toBeGreaterThan(0);
      expect(posted.filter((r) => r.kind === 'error')).toEqual([]);
      for (const line of told) expect(line).not.toMatch(/Something went wrong|is not a cluster id|Unknown word|Unexpected|needs a/);
    });
  });
});
