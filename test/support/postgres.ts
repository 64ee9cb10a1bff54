// The PostgreSQL of the machine (127.0.0.1:5432, trust auth, database `test`), used for real.
import pg from 'pg';

export function postgresUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
}

/** Fails the test run with a clear message when PostgreSQL is absent; these tests never pass without it. */
export async function requirePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl(), connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${postgresUrl()} (${(error as Error).message}). ` +
        'These tests need it: start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or set TEST_DATABASE_URL.',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
