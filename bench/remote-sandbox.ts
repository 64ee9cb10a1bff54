// Starts bench/sandbox-process.ts and hands back what the bot needs to reach it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RemoteSandbox {
  endpoints: { ram: string; cs: string; oss: string; kube: string; ecs: string; hbr: string; ossAdmin: string };
  botCredentials: { accessKeyId: string; accessKeySecret: string };
  stop(): Promise<void>;
}

export interface RemoteSandboxOptions {
  /** Copies of `template` to add, named c-scale-00000, …. */
  copies?: number;
  template?: string;
  /** Every cloud call is answered this late. */
  latencyMs?: number;
}

export async function startRemoteSandbox(options: RemoteSandboxOptions = {}): Promise<RemoteSandbox> {
  const args = [String(options.copies ?? 0), options.template ?? 'c-sandbox-dedicated', String(options.latencyMs ?? 0)];
  const child: ChildProcess = spawn(process.execPath, [new URL('./sandbox-process.ts', import.meta.url).pathname, ...args], {
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
