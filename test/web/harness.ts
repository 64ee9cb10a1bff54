// Serves a web chat over real HTTP with a handler that records every chat event it receives.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createWebChat, type WebChat, type WebUser } from '../../src/chat/web/index.ts';
import type { ChatEvent, ChatEventHandler, TellActor } from '../../src/chat/model.ts';

/** Records events; `next()` resolves with the next one the handler receives. */
export class RecordingHandler {
  readonly events: ChatEvent[] = [];
  private readonly waiting: ((event: ChatEvent) => void)[] = [];
  private read = 0;
  private reaction: ((event: ChatEvent, tell: TellActor) => Promise<void>) | null = null;

  readonly handler: ChatEventHandler = async (event, tell) => {
    this.events.push(event);
    this.waiting.shift()?.(event);
    await this.reaction?.(event, tell);
  };

  /** What the fake bot does with each event (e.g. post through the port), after recording it. */
  reactWith(reaction: (event: ChatEvent, tell: TellActor) => Promise<void>) {
    this.reaction = reaction;
  }

  next(): Promise<ChatEvent> {
    const index = this.read++;
    const event = this.events[index];
    if (event) return Promise.resolve(event);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

export interface Served {
  chat: WebChat;
  recorder: RecordingHandler;
  url: string;
  close(): Promise<void>;
}

export async function serveWebChat(users?: WebUser[]): Promise<Served> {
  const recorder = new RecordingHandler();
  const chat = createWebChat({ handler: recorder.handler, logger: pino({ level: 'silent' }), users });
  const server: Server = createServer((req, res) => {
    void chat.handleHttp(req, res).then((served) => {
      if (!served) res.writeHead(404).end('not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    chat,
    recorder,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      chat.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
