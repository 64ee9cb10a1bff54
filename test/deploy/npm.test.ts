// Issue 17: the two commands as a newcomer runs them. `npm ci` runs exactly the install scripts the
// project approved; `npm start` prints its one start line and nothing on stderr, with or without .env.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/bot-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  allowScripts: Record<string, boolean>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; hasInstallScript?: boolean }>;
};

describe('npm ci', () => {
  it('has a decision in allowScripts for every dependency with an install script, and for no other', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(Object.keys(pkg.allowScripts).sort()).toEqual([...new Set(withScripts)].sort());
  });

  it('approves the node package, which brings the project its Node 24; that is the version it runs', () => {
    expect(pkg.allowScripts.node).toBe(true);
    expect(lock.packages['node_modules/node']!.version).toBe(pkg.devDependencies.node);
    expect(process.version).toBe(`v${pkg.devDependencies.node}`);
  });
});

describe('npm start', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A checkout of the project in a fresh directory (the sources linked, not copied), with an optional .env. */
  function checkout(dotenv?: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'npm-start-checkout-'));
    dirs.push(dir);
    for (const file of ['package.json', '.npmrc']) copyFileSync(join(ROOT, file), join(dir, file));
    for (const linked of ['node_modules', 'src', 'flows', 'scripts']) symlinkSync(join(ROOT, linked), join(dir, linked));
    if (dotenv !== undefined) writeFileSync(join(dir, '.env'), dotenv);
    return dir;
  }

  /** Runs `npm start` until its start line; returns what it printed on stdout and stderr by then. */
  async function npmStart(cwd: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
    const state = mkdtempSync(join(tmpdir(), 'npm-start-state-'));
    dirs.push(state);
    const child = spawn('npm', ['start'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: state, STATE_DIR: state, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (/^Sandbox ready: .*\n/m.test(stdout)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${stdout}\n${stderr}`)));
      });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    }
    return { stdout, stderr };
  }

  it('without .env: the start line, and nothing on stderr', async () => {
    const port = await freePort();
    const { stdout, stderr } = await npmStart(checkout(), { PORT: String(port) });
    expect(stdout.split('\n').filter((line) => line && !line.startsWith('> '))).toEqual([
      `Sandbox ready: open http://localhost:${port}/ and type /backup-setup c-sandbox-dedicated`,
    ]);
    expect(stderr).toBe('');
  });

  it('with .env: reads it, and the environment still wins over it', async () => {
    const [fromFile, fromEnv] = [await freePort(), await freePort()];
    const dir = checkout(`PORT=${fromFile}\nLOG_LEVEL=silent\n`);
    expect((await npmStart(dir, {})).stdout).toContain(`Sandbox ready: open http://localhost:${fromFile}/`);
    const overridden = await npmStart(dir, { PORT: String(fromEnv) });
    expect(overridden.stdout).toContain(`Sandbox ready: open http://localhost:${fromEnv}/`);
    expect(overridden.stderr).toBe('');
  });
});
