// The bot as its own process (`node src/main.ts`), as it runs in production: for crash and replica tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class BotProcess {
  readonly env: Record<string, string>;
  readonly port: number;
  readonly output: string[] = [];
  /** The entry point; another script (a benchmark's baseline app) must also answer GET /readyz. */
  readonly script: string;
  private child: ChildProcess | null = null;

  constructor(env: Record<string, string>, port: number, script = 'src/main.ts') {
    this.env = env;
    this.port = port;
    this.script = script;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process and waits until /readyz answers 200. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', this.script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`bot exited with ${code} before it was ready:\n${this.output.join('')}`))),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`${this.url}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`bot not ready in 30 s:\n${this.output.join('')}`);
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 50)), exited]);
    }
  }

  /** kill -9: no shutdown handler runs. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  /** SIGTERM, as an orchestrator stops a pod; resolves with the exit code. */
  async terminate(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await exited;
    this.child = null;
    return code;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.child = null;
  }
}

/** Environment for a bot in live mode whose clouds are the sandbox emulators of this test process. */
export function liveEnvFor(sandbox: {
  botCredentials: { accessKeyId: string; accessKeySecret: string };
  endpoints: { ram: string; cs: string; oss: string; ecs: string; hbr: string; ossAdmin: string };
}): Record<string, string> {
  return {
    ALIBABA_CLOUD_ACCESS_KEY_ID: sandbox.botCredentials.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: sandbox.botCredentials.accessKeySecret,
    ALIBABA_CLOUD_RAM_ENDPOINT: `http://${sandbox.endpoints.ram}`,
    ALIBABA_CLOUD_CS_ENDPOINT: `http://${sandbox.endpoints.cs}`,
    ALIBABA_CLOUD_OSS_ENDPOINT: sandbox.endpoints.oss,
    ALIBABA_CLOUD_ECS_ENDPOINT: `http://${sandbox.endpoints.ecs}`,
    ALIBABA_CLOUD_HBR_ENDPOINT: `http://${sandbox.endpoints.hbr}`,
    ALIBABA_CLOUD_OSS_ADMIN_ENDPOINT: `http://${sandbox.endpoints.ossAdmin}`,
  };
}
