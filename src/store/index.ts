// Opens the store: PostgreSQL when DATABASE_URL is set (several replicas), else SQLite in STATE_DIR.
import { join } from 'node:path';
import type { Store } from './contract.ts';
import { migrate } from './migrations.ts';
import { openPostgres } from './postgres.ts';
import { SqlStore } from './sql-store.ts';
import { openSqlite } from './sqlite.ts';

export type { Store } from './contract.ts';

export const SQLITE_FILE = 'bot.sqlite';

export async function openStore(options: { databaseUrl?: string | null | undefined; stateDir: string }): Promise<Store> {
  const sql = options.databaseUrl ? await openPostgres(options.databaseUrl) : openSqlite(join(options.stateDir, SQLITE_FILE));
  try {
    await migrate(sql);
  } catch (error) {
    await sql.close();
    throw error;
  }
  return new SqlStore(sql);
}
