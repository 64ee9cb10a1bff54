// Who this bot instance is, for step claims. Kept under STATE_DIR so that the same instance restarted
// after a crash takes back the steps it had claimed at once, instead of waiting for their lease.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export function instanceId(stateDir: string): string {
  const file = join(stateDir, 'instance-id');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(stateDir, { recursive: true });
    const id = `${hostname()}-${randomUUID().slice(0, 8)}`;
    try {
      writeFileSync(file, id, { flag: 'wx' });
      return id;
    } catch {
      return readFileSync(file, 'utf8').trim(); // another process of this instance wrote it first
    }
  }
}
