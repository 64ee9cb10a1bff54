// PostgreSQL through `pg`, for several replicas sharing one database. Each store operation is one
// statement (atomic on its own); migrations run in a transaction under an advisory lock so replicas
// starting together apply them once.
import pg from 'pg';
import { StoreUnavailableError } from './contract.ts';
import type { Sql, SqlRow, SqlValue } from './sql.ts';

/**
 * Errors that say the database is out of reach rather than that the statement is wrong: SQLSTATE
 * classes 08 (connection exception), 53 (insufficient resources, e.g. disk full 53100), 57P
 * (operator intervention: shutdown, restart) and 25006 (read-only transaction: a standby after a
 * failover) — https://www.postgresql.org/docs/current/errcodes-appendix.html — and the network
 * errors and timeouts of `pg` itself.
 */
function unavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (/^(08|53|57P)/.test(code) || code === '25006') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  return typeof e.message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message);
}

const rethrow = (error: unknown): never => {
  throw unavailable(error) ? new StoreUnavailableError(error) : error;
};

const MIGRATION_LOCK = 72_616_001;

export async function openPostgres(connectionString: string): Promise<Sql> {
  const pool = new pg.Pool({ connectionString, max: 10, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const probe = await pool.connect();
  probe.release();
  return {
    dialect: 'postgres',
    async query(text: string, params: SqlValue[] = []): Promise<SqlRow[]> {
      return ((await pool.query(text, params).catch(rethrow)).rows) as SqlRow[];
    },
    async migrate(apply) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await apply({ query: async (text, params = []) => (await client.query(text, params)).rows as SqlRow[] });
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
