// Starts bench/sandbox-process.ts and hands back what the bot needs to reach it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RemoteSandbox {
  endpoints: { ram: string; cs: string; oss: string; kube: string };
  botCredentials: { accessKeyId: string; accessKeySecret: string };
  stop(): Promise<void>;
}

export async function startRemoteSandbox(copies = 0): Promise<RemoteSandbox> {
  const child: ChildProcess = spawn(process.execPath, [new URL('./sandbox-process.ts', import.meta.url).pathname, String(copies)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the sandbox process exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const started = JSON.parse(line) as Omit<RemoteSandbox, 'stop'>;
  return {
    ...started,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
