// Issue 14, item 7: the Slack HTTP receiver caps a body at 4 MB (as Bolt's own receivers do) before it
// checks the signature, so an unsigned body of any size costs at most that, and odd bodies get 400.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM, send, signed } from './slack-requests.ts';

const MB = 1024 * 1024;
let child: ChildProcessWithoutNullStreams;
let lines: Interface;
let url: string;

const nextLine = () => new Promise<string>((resolve) => lines.once('line', resolve));
async function memory(): Promise<{ rss: number; maxRss: number; heapUsed: number; external: number }> {
  const line = nextLine();
  child.stdin.write('memory\n');
  return JSON.parse(await line) as { rss: number; maxRss: number; heapUsed: number; external: number };
}

beforeAll(async () => {
  const script = fileURLToPath(new URL('./fixtures/receiver-process.ts', import.meta.url));
  child = spawn(process.execPath, ['--expose-gc', '--disable-warning=ExperimentalWarning', script], { stdio: 'pipe' });
  lines = createInterface({ input: child.stdout });
  const { port } = JSON.parse(await nextLine()) as { port: number };
  url = `http://127.0.0.1:${port}/slack/events`;
});
afterAll(() => {
  agent.destroy();
  child.kill();
});

/**
 * One connection for every request: a request is read only once the one before it was, so the answer to
 * a small request after a large one says the server is done with the large one.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** POSTs `size` bytes, streamed in 64 KB chunks (no Content-Length unless asked), and returns the status. */
function post(size: number, withLength: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      agent,
      method: 'POST',
      headers: { 'content-type': FORM, ...(withLength ? { 'content-length': String(size) } : {}) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // The server closes the connection after its 413; the rest of the body is never sent.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('Slack request bodies', () => {
  it('a 10 MB unsigned POST gets 413 and grows the process by less than 10 MB', async () => {
    // Warm up with a body of an allowed size (unsigned: 401), as traffic would have done.
    expect(await post(3 * MB, false)).toBe(401);
    // Streamed without a length: refused once 4 MB have arrived.
    const before = await memory();
    expect(await post(10 * MB, false)).toBe(413);
    expect(await post(16, false)).toBe(401); // the large body has been read to its end
    const streamed = await memory();
    expect(streamed.rss - before.rss).toBeLessThan(10 * MB);
    expect(streamed.heapUsed - before.heapUsed).toBeLessThan(10 * MB);
    // Announced with its length: refused before any of it is read.
    expect(await post(10 * MB, true)).toBe(413);
    expect(await post(16, false)).toBe(401);
    const announced = await memory();
    expect(announced.rss - streamed.rss).toBeLessThan(10 * MB);
  });

  it('a signed payload=null is a 400, not a failure of the server', async () => {
    const response = await send(url, signed('payload=null', FORM));
    expect(response.status).toBe(400);
    const array = await send(url, signed('payload=%5B%5D', FORM));
    expect(array.status).toBe(400);
  });
});
