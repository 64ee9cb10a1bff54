// DingTalk Stream mode, server side: tickets handed out by /v1.0/gateway/connections/open, the
// WebSocket they open, downstream frames (SYSTEM / EVENT / CALLBACK) and the client's acks.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export interface Subscription {
  type: string;
  topic: string;
}

export interface Ack {
  acked: boolean;
  /** The ack's `data`, parsed; socketCallBackResponse puts its result under `response`. */
  data?: unknown;
}

interface Connection {
  id: string;
  socket: WebSocket;
  subscriptions: Subscription[];
  /** Told to disconnect, or gone silent: nothing is delivered on it any more. */
  delivering: boolean;
  /** Silent: pings from the client get no pong. */
  silent: boolean;
  pings: number;
}

interface PendingAck {
  resolve(ack: Ack): void;
  timer: NodeJS.Timeout;
}

const TICKET_LIFETIME_MS = 90_000;

export class StreamGateway {
  readonly appId = randomUUID();
  private readonly tickets = new Map<string, { subscriptions: Subscription[]; expiresAt: number }>();
  private readonly connections: Connection[] = [];
  private readonly pending = new Map<string, PendingAck>();
  private readonly waiters = new Set<() => void>();
  // Pongs are answered by hand, so a connection can go silent (autoPong off).
  private readonly wss = new WebSocketServer({ noServer: true, autoPong: false });
  private readonly closed: Connection[] = [];

  private readonly ackTimeoutMs: number;
  private readonly disconnectGraceMs: number;

  constructor(ackTimeoutMs: number, disconnectGraceMs: number) {
    this.ackTimeoutMs = ackTimeoutMs;
    this.disconnectGraceMs = disconnectGraceMs;
  }

  /** What connections/open answers after the credentials were checked. */
  issueTicket(subscriptions: Subscription[]): string {
    const ticket = randomUUID();
    this.tickets.set(ticket, { subscriptions, expiresAt: Date.now() + TICKET_LIFETIME_MS });
    return ticket;
  }

  /** Accepts `/connect?ticket=…` with a fresh, unused ticket; anything else is refused before the upgrade. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): number {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const ticket = url.searchParams.get('ticket') ?? '';
    const issued = this.tickets.get(ticket);
    if (url.pathname !== '/connect') return refuse(socket, 404, 'Not Found');
    if (!issued || issued.expiresAt < Date.now()) {
      this.tickets.delete(ticket);
      return refuse(socket, 401, 'Unauthorized');
    }
    this.tickets.delete(ticket);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, issued.subscriptions));
    return 101;
  }

  connectionCount(): number {
    return this.connections.length;
  }

  /**
   * SYSTEM topic `disconnect`: the gateway is about to close the connection. It delivers nothing more on
   * it and closes it after the grace time (reports say about 10 s); a client is expected to reconnect.
   */
  sendDisconnect(): void {
    for (const connection of this.connections.filter((c) => c.delivering)) {
      connection.delivering = false;
      void this.send(connection, 'SYSTEM', 'disconnect', { reason: 'the server is going to restart' });
      setTimeout(() => connection.socket.close(), this.disconnectGraceMs).unref();
    }
  }

  /** Connections that stay open and deliver nothing, not even pongs (a half-dead TCP path). */
  silence(): void {
    for (const connection of this.connections) {
      connection.delivering = false;
      connection.silent = true;
    }
  }

  pingsReceived(): number[] {
    return [...this.closed, ...this.connections].map((c) => c.pings);
  }

  waitForConnection(timeoutMs: number): Promise<void> {
    if (this.connections.length > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        reject(new Error(`no DingTalk stream client connected within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Sends a CALLBACK frame to the newest connection subscribed to the topic; resolves with its ack. */
  callback(topic: string, data: unknown): Promise<Ack> {
    const connection = [...this.connections].reverse().find((c) => c.delivering && c.subscriptions.some((s) => s.type === 'CALLBACK' && s.topic === topic));
    if (!connection) return Promise.reject(new Error(`no connected stream client subscribes to CALLBACK ${topic}`));
    return this.send(connection, 'CALLBACK', topic, data);
  }

  /** SYSTEM ping to every connection; the client must echo it with the same messageId. */
  async ping(): Promise<Ack[]> {
    return Promise.all(this.connections.filter((c) => c.delivering).map((c) => this.send(c, 'SYSTEM', 'ping', { opaque: randomUUID() })));
  }

  /** Terminates every socket without a close handshake, as a network failure would. */
  dropConnections(): void {
    for (const connection of this.connections.splice(0)) connection.socket.terminate();
  }

  async close(): Promise<void> {
    this.dropConnections();
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.resolve({ acked: false });
      this.pending.delete(id);
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: WebSocket, subscriptions: Subscription[]): void {
    const connection: Connection = { id: randomBytes(16).toString('hex'), socket, subscriptions, delivering: true, silent: false, pings: 0 };
    this.connections.push(connection);
    socket.on('message', (raw) => this.onUpstream(String(raw)));
    socket.on('ping', (data) => {
      connection.pings += 1;
      if (!connection.silent) socket.pong(data);
    });
    socket.on('close', () => this.forget(connection));
    socket.on('error', () => this.forget(connection));
    for (const waiter of [...this.waiters]) waiter();
  }

  private forget(connection: Connection): void {
    const index = this.connections.indexOf(connection);
    if (index >= 0) this.closed.push(...this.connections.splice(index, 1));
  }

  private send(connection: Connection, type: 'SYSTEM' | 'EVENT' | 'CALLBACK', topic: string, data: unknown): Promise<Ack> {
    const messageId = `${randomBytes(4).toString('hex')}_${randomBytes(4).toString('hex')}_${Date.now()}`;
    const frame = {
      specVersion: '1.0',
      type,
      headers: {
        appId: this.appId,
        connectionId: connection.id,
        contentType: 'application/json',
        messageId,
        time: String(Date.now()),
        topic,
      },
      data: JSON.stringify(data),
    };
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        resolve({ acked: false });
      }, this.ackTimeoutMs);
      this.pending.set(messageId, { resolve, timer });
      connection.socket.send(JSON.stringify(frame));
    });
  }

  /** Acks look like {code:200, headers:{contentType, messageId}, message:'OK', data:'<json>'}. */
  private onUpstream(text: string): void {
    let ack: { code?: unknown; headers?: { messageId?: unknown }; data?: unknown };
    try {
      ack = JSON.parse(text) as typeof ack;
    } catch {
      return;
    }
    const messageId = typeof ack.headers?.messageId === 'string' ? ack.headers.messageId : undefined;
    const pending = messageId === undefined ? undefined : this.pending.get(messageId);
    if (!pending || messageId === undefined) return;
    this.pending.delete(messageId);
    clearTimeout(pending.timer);
    pending.resolve({ acked: ack.code === 200, data: parseData(ack.data) });
  }
}

function parseData(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return data;
  }
}

function refuse(socket: Duplex, status: number, reason: string): number {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  return status;
}
