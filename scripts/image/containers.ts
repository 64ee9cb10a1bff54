// podman and buildah without a daemon, their storage in a folder of their own (deleted afterwards), with
// the flags these machines need: runc (crun fails on setrlimit here), cgroupfs (the cgroups are hybrid,
// no systemd), file events, host networking.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const RUN_LIMITS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'];

export class Containers {
  private readonly storage: string[];
  private readonly env: NodeJS.ProcessEnv;

  constructor(dir: string) {
    this.storage = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'overlay'];
    // Image imports and commits stage their files in TMPDIR: keep them in the folder too.
    this.env = { ...process.env, TMPDIR: dir };
  }

  private get podmanFlags(): string[] {
    return [...this.storage, '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
  }

  /** `podman <args>`; its stdout, trimmed. Throws with podman's stderr. */
  podman(...args: string[]): Promise<string> {
    return exec('podman', [...this.podmanFlags, ...args], this.env);
  }

  /** `podman <args>` that may fail: its exit code and output. */
  async podmanResult(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run('podman', [...this.podmanFlags, ...args], { env: this.env, maxBuffer: 64 << 20 });
      return { code: 0, stdout: stdout.trim(), stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: (e.stdout ?? '').trim(), stderr: e.stderr ?? String(error) };
    }
  }

  buildah(...args: string[]): Promise<string> {
    return exec('buildah', [...this.storage, ...args], this.env);
  }

  /** `podman <args>` with `input` piped to its stdin (podman import -). */
  podmanWithInput(input: Readable, ...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn('podman', [...this.podmanFlags, ...args], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      input.on('error', reject);
      input.pipe(child.stdin);
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(stdout.trim()) : reject(new Error(`podman ${args.join(' ')} exited with ${code}: ${lastLines(stderr)}`))));
    });
  }

  /** `podman <args>` with its stdout as a stream (podman save). */
  podmanStream(...args: string[]): { stdout: Readable; done: Promise<void> } {
    const child = spawn('podman', [...this.podmanFlags, ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`podman ${args.join(' ')} exited with ${code}: ${lastLines(stderr)}`))));
    });
    return { stdout: child.stdout, done };
  }
}

export async function exec(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await run(command, args, { env, maxBuffer: 256 << 20 });
    return stdout.trim();
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ').slice(0, 300)} failed:\n${lastLines(`${e.stdout ?? ''}\n${e.stderr ?? e.message}`)}`);
  }
}

export function lastLines(text: string, count = 12): string {
  return text.trim().split('\n').slice(-count).join('\n');
}
