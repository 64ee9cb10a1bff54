// SQLite through Node's built-in node:sqlite: embedded, no native build, one file under STATE_DIR.
// Every store operation is a single statement, and node:sqlite runs each synchronously, so an
// operation is atomic within the process; WAL and a busy timeout cover a second process on the file.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { StoreUnavailableError } from './contract.ts';
import type { Sql, SqlRow, SqlValue } from './sql.ts';

/**
 * SQLite result codes that say the file cannot be written now rather than that the statement is
 * wrong (https://www.sqlite.org/rescode.html): BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13,
 * CANTOPEN 14. node:sqlite reports them as `errcode` (extended codes keep the primary in the low byte).
 */
const UNAVAILABLE = new Set([5, 6, 8, 10, 13, 14]);

function rethrow(error: unknown): never {
  const errcode = (error as { errcode?: unknown }).errcode;
  throw typeof errcode === 'number' && UNAVAILABLE.has(errcode & 0xff) ? new StoreUnavailableError(error) : error;
}

export function openSqlite(file: string): Sql {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
  // The store runs a few dozen distinct statements: each is prepared once and reused.
  const statements = new Map<string, StatementSync>();
  const prepared = (text: string): StatementSync => {
    let statement = statements.get(text);
    if (!statement) {
      // `$1` → `?1`: SQLite's numbered parameters bind the same values in the same places.
      statement = db.prepare(text.replace(/\$(\d+)/g, '?$1'));
      statements.set(text, statement);
    }
    return statement;
  };
  const query = async (text: string, params: SqlValue[] = []): Promise<SqlRow[]> => {
    try {
      return prepared(text).all(...params) as SqlRow[];
    } catch (error) {
      return rethrow(error);
    }
  };
  return {
    dialect: 'sqlite',
    query,
    async migrate(apply) {
      db.exec('BEGIN IMMEDIATE');
      try {
        await apply({ query });
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}
