// Installing the Debian packages a test run or the image test needs: only as root on Debian, with apt's
// own output kept back unless it fails.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The absolute path of `command` on PATH, or null. */
export function onPath(command: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** Why apt cannot install packages here, or null when it can (root on Debian with apt-get). */
export function aptUnavailable(): string | null {
  if (!existsSync('/etc/debian_version') || !onPath('apt-get')) return 'this is not a Debian machine with apt-get';
  if (process.getuid?.() !== 0) return 'installing needs root';
  return null;
}

/** `apt-get update` then `apt-get install` of `packages`; throws with the end of apt's output when it fails. */
export async function aptInstall(packages: readonly string[]): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt run (an engineer's, unattended-upgrades) holds the lock for a while: wait for it.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  try {
    await run('apt-get', [...lock, 'update', '-qq'], { env, maxBuffer: 64 << 20 });
    await run('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...packages], { env, maxBuffer: 64 << 20 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    const output = `${stdout}\n${stderr}`.trim() || (error as Error).message;
    throw new Error(`apt-get install ${packages.join(' ')} failed: ${output.split('\n').at(-1)}`, { cause: output });
  }
}
