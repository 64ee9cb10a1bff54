// The production shape for tests that run the bot as processes: the emulated clouds and a Slack Web API
// emulator live in the test process; each bot is `node src/main.ts` in live mode pointed at them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { startSlackApi, type SlackApi } from '../../src/sandbox/slack/api.ts';
import { SIGNING_SECRET } from '../slack/slack-requests.ts';
import { BotProcess, freePort, liveEnvFor } from './bot-process.ts';

export interface LiveWorld {
  sandbox: Sandbox;
  api: SlackApi;
  /** A bot process (not started yet) with a state directory of its own; `env` adds to or overrides its environment. */
  newBot(env?: Record<string, string>): Promise<BotProcess>;
  /** Stops every bot, then the emulators, and removes the state directories. */
  close(): Promise<void>;
}

export async function startLiveWorld(options: { botToken: string; approvers: string }): Promise<LiveWorld> {
  const sandbox = await startSandbox();
  const api = await startSlackApi({ token: options.botToken });
  const bots: BotProcess[] = [];
  const dirs: string[] = [];
  return {
    sandbox,
    api,
    async newBot(env = {}) {
      const stateDir = mkdtempSync(join(tmpdir(), 'bot-process-'));
      dirs.push(stateDir);
      const bot = new BotProcess(
        {
          ...liveEnvFor(sandbox),
          SLACK_BOT_TOKEN: options.botToken,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_API_URL: api.url,
          APPROVERS: options.approvers,
          STATE_DIR: stateDir,
          ...env,
        },
        await freePort(),
      );
      bots.push(bot);
      return bot;
    },
    async close() {
      await Promise.all(bots.map((bot) => bot.stop()));
      await api.close();
      await sandbox.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}
