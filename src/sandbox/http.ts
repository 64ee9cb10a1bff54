// Small HTTP plumbing shared by the RAM, CS and OSS emulators.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomInt, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 with an ephemeral port; a handler that throws answers 500 instead of hanging. */
export async function listen(handler: Handler): Promise<RunningServer> {
  const server: Server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`emulator error: ${error instanceof Error ? error.message : String(error)}`);
      } else {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Alibaba-style request id: an upper-case UUID. */
export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** ISO 8601 without milliseconds, the format RAM and CS use for dates. */
export function isoSeconds(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A string of random decimal digits not starting with 0, the shape of Alibaba account, user and role ids. */
export function randomDigits(length: number): string {
  let out = String(randomInt(1, 10));
  while (out.length < length) out += String(randomInt(0, 10));
  return out;
}

/** The value, or the emulator's "does not exist" error for it. */
export function found<T>(value: T | undefined, notFound: () => Error): T {
  if (value === undefined) throw notFound();
  return value;
}

/** An emulated service's refusal: its HTTP status and its error code (each emulator renders it in its service's format). */
export class ServiceError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
