// `npm run audit-export > audit.jsonl`: every audit row, oldest first, one JSON object per line,
// from the store the bot is configured with (DATABASE_URL, else STATE_DIR's SQLite file).
import { ConfigError, loadConfig } from '../config/index.ts';
import type { Store } from './contract.ts';
import { openStore } from './index.ts';

export async function writeAuditLines(store: Store, write: (line: string) => Promise<void> | void): Promise<number> {
  let rows = 0;
  for await (const row of store.exportAudit()) {
    await write(`${JSON.stringify({ ...row, at: row.at.toISOString() })}\n`);
    rows++;
  }
  return rows;
}

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }
  const store = await openStore({ databaseUrl: config.databaseUrl, stateDir: config.stateDir });
  try {
    const rows = await writeAuditLines(store, (line) => new Promise<void>((resolve) => (process.stdout.write(line) ? resolve() : process.stdout.once('drain', resolve))));
    process.stderr.write(`exported ${rows} audit rows\n`);
  } finally {
    await store.close();
  }
}

if (import.meta.main) await main();
