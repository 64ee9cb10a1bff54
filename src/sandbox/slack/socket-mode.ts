// Slack Socket Mode, server side: apps.connections.open hands out a single-use WebSocket URL, the
// socket gets `hello`, then envelopes (slash_commands / interactive / events_api) that the app must
// acknowledge with {envelope_id, payload}; Slack asks the app to reconnect with `disconnect`.
//
// Rules, from https://api.slack.com/apis/connections/socket-implement and .../socket-mode:
// - apps.connections.open takes an app-level token (xapp-…, scope connections:write) and returns a
//   `url` that is valid once ("a new URL each time"; the URL "refreshes regularly").
// - The first frame on a new connection is {"type":"hello","num_connections":…,"connection_info":{app_id},
//   "debug_info":{host, approximate_connection_time}}.
// - An envelope is {envelope_id, type, payload, accepts_response_payload[, retry_attempt, retry_reason]};
//   the app acknowledges it by sending {envelope_id[, payload]} back "within 3 seconds"; Slack retries an
//   envelope that was not acknowledged (retry_attempt counts up, retry_reason "timeout"), up to 3 times.
// - {"type":"disconnect","reason":"refresh_requested"} (or "warning" shortly before) tells the app to open
//   a new connection; Slack then closes the old one. "link_disabled" means Socket Mode was turned off.
// - At most 10 connections per app at once; an 11th gets {"type":"disconnect","reason":"too_many_websockets"}
//   (node-slack-sdk PR #1762 handles that case).
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface EnvelopeAck {
  acked: boolean;
  /** The ack's payload (a slash command's or interaction's immediate answer). */
  payload?: Record<string, unknown>;
  /** How many deliveries it took (1 = acknowledged on the first). */
  deliveries: number;
}

const MAX_CONNECTIONS = 10;
/** "Your app must respond within 3 seconds" — then Slack retries the envelope. */
const ACK_TIMEOUT_MS = 3_000;
const MAX_RETRIES = 3;

interface Pending {
  envelopeId: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  deliveries: number;
  resolve(ack: EnvelopeAck): void;
  timer: NodeJS.Timeout | null;
}

export class SocketModeServer {
  readonly appId: string;
  private readonly tickets = new Set<string>();
  private readonly sockets: WebSocket[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly waiters = new Set<() => void>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly ackTimeoutMs: number;
  /** Every `hello` sent: one per connection the app opened. */
  connectionsOpened = 0;

  constructor(options: { appId: string; ackTimeoutMs?: number }) {
    this.appId = options.appId;
    this.ackTimeoutMs = options.ackTimeoutMs ?? ACK_TIMEOUT_MS;
  }

  /** What apps.connections.open answers: a one-time URL on `wsBase`. */
  issueUrl(wsBase: string): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return `${wsBase}/link/?ticket=${ticket}&app_id=${this.appId}`;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://slack');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/link/' || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  connectionCount(): number {
    return this.sockets.length;
  }

  /** Resolves once at least `count` connections have been opened since the server started. */
  waitForConnections(count: number, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.connectionsOpened < count || this.sockets.length === 0) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`Socket Mode: ${count} connection(s) not opened within ${timeoutMs} ms (opened ${this.connectionsOpened})`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Delivers an envelope on the newest connection; resolves with the app's acknowledgement. */
  deliver(type: EnvelopeType, payload: Record<string, unknown>): Promise<EnvelopeAck> {
    return new Promise((resolve) => {
      const entry: Pending = { envelopeId: randomUUID(), type, payload, deliveries: 0, resolve, timer: null };
      this.pending.set(entry.envelopeId, entry);
      this.send(entry);
    });
  }

  /** Asks every connected app to reconnect, then closes the old sockets, as Slack does on a refresh. */
  requestRefresh(reason: 'refresh_requested' | 'warning' | 'link_disabled' = 'refresh_requested'): void {
    for (const socket of [...this.sockets]) {
      socket.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-sandbox' } }));
      if (reason !== 'warning') setTimeout(() => socket.close(1000), 50).unref();
    }
  }

  /** Cuts every socket without a close handshake, as a network failure would. */
  dropConnections(): void {
    for (const socket of this.sockets.splice(0)) socket.terminate();
  }

  async close(): Promise<void> {
    this.dropConnections();
    for (const entry of this.pending.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.resolve({ acked: false, deliveries: entry.deliveries });
    }
    this.pending.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket): void {
    if (this.sockets.length >= MAX_CONNECTIONS) {
      ws.send(JSON.stringify({ type: 'disconnect', reason: 'too_many_websockets', debug_info: { host: 'applink-sandbox' } }));
      ws.close(1008);
      return;
    }
    this.sockets.push(ws);
    this.connectionsOpened += 1;
    ws.on('message', (raw) => this.onAck(String(raw)));
    const forget = () => {
      const i = this.sockets.indexOf(ws);
      if (i >= 0) this.sockets.splice(i, 1);
    };
    ws.on('close', forget);
    ws.on('error', forget);
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.length,
        debug_info: { host: `applink-${randomBytes(4).toString('hex')}`, build_number: 1, approximate_connection_time: 18_060 },
        connection_info: { app_id: this.appId },
      }),
    );
    for (const waiter of [...this.waiters]) waiter();
    // Envelopes that found no connection (or whose connection died) go out on the new one.
    for (const entry of this.pending.values()) if (entry.timer === null) this.send(entry);
  }

  private send(entry: Pending): void {
    const socket = this.sockets.at(-1);
    if (!socket) return; // delivered when an app connects
    entry.deliveries += 1;
    const retry = entry.deliveries - 1;
    socket.send(
      JSON.stringify({
        envelope_id: entry.envelopeId,
        type: entry.type,
        payload: entry.payload,
        accepts_response_payload: entry.type !== 'events_api',
        ...(retry > 0 ? { retry_attempt: retry, retry_reason: 'timeout' } : { retry_attempt: 0, retry_reason: '' }),
      }),
    );
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (entry.deliveries > MAX_RETRIES) {
        this.pending.delete(entry.envelopeId);
        entry.resolve({ acked: false, deliveries: entry.deliveries });
        return;
      }
      this.send(entry);
    }, this.ackTimeoutMs);
  }

  private onAck(text: string): void {
    let ack: { envelope_id?: unknown; payload?: unknown };
    try {
      ack = JSON.parse(text) as typeof ack;
    } catch {
      return;
    }
    const entry = typeof ack.envelope_id === 'string' ? this.pending.get(ack.envelope_id) : undefined;
    if (!entry) return;
    this.pending.delete(entry.envelopeId);
    if (entry.timer) clearTimeout(entry.timer);
    const payload = typeof ack.payload === 'object' && ack.payload !== null ? (ack.payload as Record<string, unknown>) : undefined;
    entry.resolve({ acked: true, deliveries: entry.deliveries, ...(payload && Object.keys(payload).length > 0 ? { payload } : {}) });
  }
}
