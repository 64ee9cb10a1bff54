// Issue 8: `npm start` as a newcomer runs it: no credentials, one line saying where to go, the chat
// page and /healthz answer; the emulated account survives kill -9.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/bot-process.ts';
import { SseReader } from '../web/sse.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let child: ChildProcess | undefined;
let stateDir: string | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

/** Runs `npm start` with only PORT and STATE_DIR set, and returns the first line it prints. */
async function npmStart(port: number, dir: string): Promise<{ line: string; process: ChildProcess }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: String(port), STATE_DIR: dir };
  const started = spawn('npm', ['start', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child = started;
  let output = '';
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed nothing useful in 30 s:\n${output}`)), 30_000);
    started.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = output.split('\n').find((l) => l.startsWith('Sandbox ready'));
      if (ready) {
        clearTimeout(timer);
        resolve(ready);
      }
    });
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  return { line, process: started };
}

async function killGroup(started: ChildProcess) {
  const exited = new Promise((resolve) => started.once('exit', resolve));
  process.kill(-started.pid!, 'SIGKILL');
  await exited;
}

describe('npm start', () => {
  it('starts the sandbox with no credentials: one line, the chat page, /healthz; kill -9 keeps the account', async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
    const port = await freePort();
    const first = await npmStart(port, stateDir);
    expect(first.line).toBe(`Sandbox ready: open http://localhost:${port}/ and type /backup-setup c-sandbox-dedicated`);

    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const state = (await (await fetch(`http://127.0.0.1:${port}/sandbox/state`)).json()) as { ram: { accessKeys: { id: string }[] }; clusters: Record<string, unknown> };
    expect(Object.keys(state.clusters)).toContain('c-sandbox-dedicated');

    // A managed setup changes the account (the add-on is installed), then the process group dies
    // without any shutdown.
    await setUpManagedCluster(`http://127.0.0.1:${port}`);
    const changed = (await (await fetch(`http://127.0.0.1:${port}/sandbox/state`)).json()) as typeof state;
    expect(changed).not.toEqual(state);
    await killGroup(first.process);

    const second = await npmStart(port, stateDir);
    const after = (await (await fetch(`http://127.0.0.1:${port}/sandbox/state`)).json()) as typeof state;
    expect(after).toEqual(changed);
    await killGroup(second.process);
  });
});

/** Plays requester and approver through the page's own API (what its buttons send). */
async function setUpManagedCluster(base: string) {
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const events = new SseReader(`${base}/chat/events?user=web:requester`);
  try {
    expect((await post('/chat/command', { user: 'web:requester', text: '/backup-setup c-sandbox-managed' })).status).toBe(202);
    const handled = new Set<string>();
    for (;;) {
      const event = await events.next();
      if (event.event !== 'message') continue;
      const message = event.data as { id: string; reply: { kind: string; ok?: boolean; text?: string; prompt?: { choices: { value: string }[] } } };
      if (handled.has(message.id)) continue;
      handled.add(message.id);
      const { reply } = message;
      if (reply.kind === 'done') {
        expect(reply.text).toMatch(/^✅ Backup center setup complete/);
        return;
      }
      if (reply.kind === 'question') await post('/chat/click', { user: 'web:requester', messageId: message.id, action: 'answer', value: reply.prompt!.choices[0]!.value });
      if (reply.kind === 'approval') await post('/chat/click', { user: 'web:approver', messageId: message.id, action: 'approve' });
    }
  } finally {
    events.close();
  }
}
