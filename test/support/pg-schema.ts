// A PostgreSQL schema of its own for a test file, on the machine's PostgreSQL, dropped afterwards.
import pg from 'pg';
import { postgresUrl, requirePostgres } from './postgres.ts';

export interface PgSchema {
  /** DATABASE_URL for the bot: the test database with this schema first on the search path. */
  url: string;
  drop(): Promise<void>;
}

export async function createPgSchema(prefix: string): Promise<PgSchema> {
  await requirePostgres();
  const schema = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE SCHEMA ${schema}`);
  return {
    url: `${postgresUrl()}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`),
  };
}
