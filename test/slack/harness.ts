// The Slack adapter wired to the strict Web API emulator and mounted on a node:http server at
// /slack/events, as the app's one server mounts it. Records every event the handler receives.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createSlackAdapter, type SlackAdapter } from '../../src/chat/slack/index.ts';
import type { ChatEvent, TellActor } from '../../src/chat/model.ts';
import { startSlackApi, type SlackApi } from '../../src/sandbox/slack/api.ts';
import { SIGNING_SECRET } from './slack-requests.ts';

export const BOT_TOKEN = 'xoxb-1111-2222-sandboxtoken';
export const CHANNEL = 'C0BACKUPS';

export type Behaviour = (event: ChatEvent, tell: TellActor) => Promise<void>;

export interface SlackHarness {
  api: SlackApi;
  adapter: SlackAdapter;
  /** URL of /slack/events. */
  eventsUrl: string;
  events: ChatEvent[];
  /** Resolves with the next event the handler receives (or one already received and not yet taken). */
  nextEvent(): Promise<ChatEvent>;
  /** What the handler does with each event (default: nothing). */
  behave(behaviour: Behaviour): void;
  close(): Promise<void>;
}

export async function startSlackHarness(): Promise<SlackHarness> {
  const api = await startSlackApi({ token: BOT_TOKEN });
  const events: ChatEvent[] = [];
  let taken = 0;
  let waiters: (() => void)[] = [];
  let behaviour: Behaviour = async () => undefined;

  const adapter = createSlackAdapter({
    botToken: BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    apiUrl: api.url,
    logger: pino({ level: 'silent' }),
    retryConfig: { retries: 3, minTimeout: 10, maxTimeout: 50 },
    handler: async (event, tell) => {
      events.push(event);
      for (const wake of waiters) wake();
      waiters = [];
      await behaviour(event, tell);
    },
  });
  await adapter.start();

  const server = createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname === '/slack/events') {
      void adapter.handleHttp(req, res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    api,
    adapter,
    eventsUrl: `http://127.0.0.1:${port}/slack/events`,
    events,
    async nextEvent() {
      while (events.length <= taken) await new Promise<void>((resolve) => waiters.push(resolve));
      return events[taken++]!;
    },
    behave(next) {
      behaviour = next;
    },
    async close() {
      await adapter.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close();
    },
  };
}
