// Issue 17: `npm test` on a fresh machine. The tools project's setup installs Chromium and kubectl when it
// can, skips their tests with one line when it cannot, and fails under CI. apt itself is replaced here by
// a function that puts an executable on PATH (the real apt-get run is the fresh-clone check in the README).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { provisionTools, skipLine } from '../support/tools-setup.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A PATH directory holding executables with the given names. */
function binDir(...names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tools-bin-'));
  dirs.push(dir);
  for (const name of names) install(dir, name);
  return dir;
}

function install(dir: string, name: string) {
  writeFileSync(join(dir, name), '#!/bin/sh\n');
  chmodSync(join(dir, name), 0o755);
}

/** A machine: its PATH, whether apt works there, and what apt-get puts on PATH for each package. */
function machine(options: { bin: string; env?: NodeJS.ProcessEnv; apt?: string | null; aptFails?: string }) {
  const lines: string[] = [];
  const installed: string[][] = [];
  const binaries: Record<string, string> = { chromium: 'chromium', 'kubernetes-client': 'kubectl' };
  return {
    lines,
    installed,
    provisioning: {
      env: { PATH: options.bin, ...options.env },
      aptUnavailable: () => options.apt ?? null,
      aptInstall: async (packages: readonly string[]) => {
        installed.push([...packages]);
        if (options.aptFails) throw new Error(options.aptFails);
        for (const p of packages) install(options.bin, binaries[p]!);
      },
      say: (line: string) => lines.push(line),
    },
  };
}

describe('the tools the tests drive', () => {
  it('says nothing and installs nothing when Chromium and kubectl are there', async () => {
    const bin = binDir('chromium', 'kubectl');
    const m = machine({ bin });
    expect(await provisionTools(m.provisioning)).toEqual({ chromium: join(bin, 'chromium'), kubectl: join(bin, 'kubectl') });
    expect(m.lines).toEqual([]);
    expect(m.installed).toEqual([]);
  });

  it('as root on Debian installs what is missing with apt, saying so in one line', async () => {
    const bin = binDir();
    const m = machine({ bin });
    expect(await provisionTools(m.provisioning)).toEqual({ chromium: join(bin, 'chromium'), kubectl: join(bin, 'kubectl') });
    expect(m.installed).toEqual([['chromium', 'kubernetes-client']]);
    expect(m.lines).toEqual(['Installing chromium and kubernetes-client with apt-get for the browser tests and the kubectl test (once; about a minute)…']);
  });

  it('when it cannot install, skips those tests with one line naming the package and how to install it', async () => {
    const bin = binDir('kubectl');
    const m = machine({ bin, apt: 'installing needs root' });
    expect(await provisionTools(m.provisioning)).toEqual({ chromium: null, kubectl: join(bin, 'kubectl') });
    expect(m.installed).toEqual([]);
    expect(m.lines).toEqual([
      'Skipping the browser tests: chromium is not installed (installing needs root). Install it with `sudo apt-get install chromium` (or set CHROMIUM_PATH to a Chromium binary).',
    ]);
  });

  it('skips with apt’s own answer when the install fails', async () => {
    const m = machine({ bin: binDir('chromium'), aptFails: 'apt-get install kubernetes-client failed: E: Unable to locate package kubernetes-client' });
    expect((await provisionTools(m.provisioning)).kubectl).toBeNull();
    expect(m.lines.at(-1)).toBe(skipLine('kubectl', 'apt-get install kubernetes-client failed: E: Unable to locate package kubernetes-client'));
    expect(m.lines.at(-1)).toContain('sudo apt-get install kubernetes-client');
  });

  it('under CI a missing tool fails the run instead of skipping', async () => {
    const m = machine({ bin: binDir('chromium'), env: { CI: 'true' }, apt: 'this is not a Debian machine with apt-get' });
    await expect(provisionTools(m.provisioning)).rejects.toThrow('CI needs every tool the tests drive; missing: kubernetes-client (this is not a Debian machine with apt-get).');
    expect(m.lines).toEqual([]);
  });

  it('under CI still installs what it can, and passes', async () => {
    const m = machine({ bin: binDir(), env: { CI: 'true' } });
    expect(Object.values(await provisionTools(m.provisioning)).every(Boolean)).toBe(true);
  });

  it('takes CHROMIUM_PATH as given: a missing one is reported, not replaced by an apt install', async () => {
    const m = machine({ bin: binDir('kubectl'), env: { CHROMIUM_PATH: '/opt/nowhere/chrome' } });
    expect((await provisionTools(m.provisioning)).chromium).toBeNull();
    expect(m.installed).toEqual([]);
    expect(m.lines).toEqual([skipLine('chromium', 'CHROMIUM_PATH=/opt/nowhere/chrome does not exist')]);
  });
});
