// Issue 14, item 3: Socket Mode against the emulator's apps.connections.open and WebSocket: envelopes
// are acknowledged only once stored, a refresh or a drop reconnects, and an outage never ends the process.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createSlackAdapter, type SlackAdapter } from '../../src/chat/slack/index.ts';
import type { ChatEvent, TellActor } from '../../src/chat/model.ts';
import { startSlackApi, type SlackApi } from '../../src/sandbox/slack/api.ts';
import { BOT_TOKEN, CHANNEL } from './harness.ts';
import { messageEvent, slashCommand } from './slack-requests.ts';

const APP_TOKEN = 'xapp-1-A0BACKUPSETUP-1-sandboxapptoken';

let api: SlackApi;
let adapter: SlackAdapter;
let events: ChatEvent[];
let behaviour: (event: ChatEvent, tell: TellActor) => Promise<void>;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeEach(async () => {
  process.on('unhandledRejection', onUnhandled);
  api = await startSlackApi({ token: BOT_TOKEN, appToken: APP_TOKEN });
  events = [];
  behaviour = async () => undefined;
  adapter = createSlackAdapter({
    botToken: BOT_TOKEN,
    appToken: APP_TOKEN,
    apiUrl: api.url,
    logger: pino({ level: 'silent' }),
    retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 },
    socketBackoff: { minMs: 20, maxMs: 100 },
    handler: async (event, tell) => {
      events.push(event);
      await behaviour(event, tell);
    },
  });
  await adapter.start();
  await api.socket.waitForConnections(1);
});

afterEach(async () => {
  await adapter.stop();
  await api.close();
  process.off('unhandledRejection', onUnhandled);
});

const threadMessagePayload = () =>
  JSON.parse(messageEvent({ channel: CHANNEL, user: 'U0ALICE', text: 'my-bucket', ts: '1795528800.000300', thread_ts: '1795528800.000100' })) as Record<string, unknown>;

const commandPayload = (text: string) =>
  Object.fromEntries(new URLSearchParams(slashCommand({ text, user: 'U0ALICE', channel: CHANNEL, responseUrl: api.responseUrl('U0ALICE', CHANNEL) })));

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Slack Socket Mode', () => {
  it('opens its connection with the app token and is connected after hello', () => {
    expect(api.calls.filter((c) => c.method === 'apps.connections.open').map((c) => c.error)).toEqual([undefined]);
    expect(adapter.connected()).toBe(true);
  });

  it.each([
    ['a slash command', 'slash_commands' as const, () => commandPayload('c-sandbox-dedicated')],
    [
      'a thread message (Bolt acknowledges Events API deliveries before the listener)',
      'events_api' as const,
      () => JSON.parse(messageEvent({ channel: CHANNEL, user: 'U0ALICE', text: 'my-bucket', ts: '1795528800.000200', thread_ts: '1795528800.000100' })),
    ],
  ])('acknowledges %s only once the handler has stored it', async (_name, type, payload) => {
    let release!: () => void;
    behaviour = () => new Promise<void>((resolve) => (release = resolve));
    let acked = false;
    const ack = api.deliver(type, payload()).then((a) => ((acked = true), a));
    await until('the handler to be called', () => events.length === 1);
    // Slack has the event until it is acknowledged; an ack before it is stored could lose it in a crash.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(acked).toBe(false);
    release();
    expect(await ack).toMatchObject({ acked: true, deliveries: 1 });
  });

  it('a command refused by the parser is answered in the acknowledgement itself', async () => {
    const ack = await api.deliver('slash_commands', commandPayload('c-Bad_Id'));
    expect(ack.acked).toBe(true);
    expect(ack.payload).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('is not a cluster id') as string });
    expect(events).toEqual([]);
  });

  it('a command that cannot be stored is answered as not taken (nothing runs), once', async () => {
    behaviour = async () => {
      throw new Error('store unavailable');
    };
    const ack = await api.deliver('slash_commands', commandPayload('c-sandbox-dedicated'));
    expect(ack).toMatchObject({ acked: true, deliveries: 1 });
    expect(ack.payload).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('nothing changed. Please try again in a minute') as string });
    expect(events).toHaveLength(1);
  });

  it('a thread message whose handler failed is not acknowledged, and Slack delivers it again', async () => {
    let failures = 1;
    behaviour = async () => {
      if (failures-- > 0) throw new Error('store unavailable');
    };
    const ack = await api.deliver('events_api', threadMessagePayload());
    expect(ack).toMatchObject({ acked: true, deliveries: 2 });
    expect(events).toHaveLength(2);
  });

  it('refresh_requested: a new connection at once, and the next envelope arrives on it', async () => {
    api.socket.requestRefresh('refresh_requested');
    await api.socket.waitForConnections(2);
    await until('the adapter to be connected again', () => adapter.connected());
    const ack = await api.deliver('slash_commands', commandPayload('help'));
    expect(ack.acked).toBe(true);
    expect(events.map((e) => e.kind)).toEqual(['command']);
  });

  it('an outage of Slack (socket gone, Web API answering 503) is waited out without ending the process', async () => {
    api.setOutage(true);
    api.socket.dropConnections();
    await until('the adapter to notice', () => !adapter.connected());
    const failedOpens = () => api.calls.filter((c) => c.method === 'apps.connections.open' && c.error === 'outage').length;
    await until('several failed reconnection attempts', () => failedOpens() >= 4);
    expect(adapter.connected()).toBe(false);
    api.setOutage(false);
    await api.socket.waitForConnections(2);
    await until('the adapter to be connected again', () => adapter.connected());
    expect((await api.deliver('slash_commands', commandPayload('help'))).acked).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it('stops without reconnecting', async () => {
    await adapter.stop();
    const opens = api.calls.filter((c) => c.method === 'apps.connections.open').length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(api.calls.filter((c) => c.method === 'apps.connections.open').length).toBe(opens);
    expect(api.socket.connectionCount()).toBe(0);
  });
});
