// Schema migrations, applied at start in order, each once. Times are epoch milliseconds and JSON is
// text in both databases, so one query text serves both; only what differs is written twice.
import type { Dialect, Sql } from './sql.ts';

interface Migration {
  version: number;
  statements: (dialect: Dialect) => string[];
}

const appendOnly = (dialect: Dialect, table: string): string[] =>
  dialect === 'sqlite'
    ? [
        `CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
        `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
      ]
    : [
        `CREATE FUNCTION ${table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${table} is append-only'; END $$`,
        `CREATE TRIGGER ${table}_no_change BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_append_only()`,
      ];

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    statements: (dialect) => [
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL,
        flow TEXT NOT NULL,
        flow_version INTEGER NOT NULL,
        requester TEXT NOT NULL,
        platform TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        conversation TEXT NOT NULL,
        thread_id TEXT,
        snapshot TEXT,
        state TEXT NOT NULL,
        status TEXT NOT NULL,
        revision INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      // One active setup per cluster, enforced by the database so two replicas cannot both start one.
      `CREATE UNIQUE INDEX sessions_one_active_per_cluster ON sessions (cluster_id) WHERE status = 'active'`,
      `CREATE INDEX sessions_by_thread ON sessions (platform, channel_id, thread_id)`,
      `CREATE INDEX sessions_by_status ON sessions (status, updated_at)`,
      `CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id),
        step TEXT NOT NULL,
        params_hash TEXT NOT NULL,
        requester TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        decision TEXT,
        decided_by TEXT,
        decided_at BIGINT,
        message_ref TEXT
      )`,
      `CREATE INDEX approvals_open ON approvals (expires_at) WHERE decision IS NULL`,
      `CREATE TABLE steps (
        session_id TEXT NOT NULL REFERENCES sessions (id),
        step_key TEXT NOT NULL,
        status TEXT NOT NULL,
        owner TEXT,
        lease_until BIGINT,
        outcome TEXT,
        PRIMARY KEY (session_id, step_key)
      )`,
      `CREATE TABLE audit (
        id ${dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY'},
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        cluster_id TEXT NOT NULL,
        session_id TEXT,
        step TEXT,
        params_hash TEXT,
        outcome TEXT NOT NULL,
        detail TEXT
      )`,
      `CREATE INDEX audit_by_cluster ON audit (cluster_id, id)`,
      ...appendOnly(dialect, 'audit'),
    ],
  },
  {
    // The durable inbox, durable cancel, decisions bound to what was shown, and what the resumer needs.
    version: 2,
    statements: () => [
      `CREATE TABLE inbox (
        event_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        event TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        owner TEXT,
        lease_until BIGINT,
        attempts INTEGER NOT NULL DEFAULT 0,
        finished_at BIGINT
      )`,
      `CREATE INDEX inbox_unfinished ON inbox (received_at) WHERE status = 'pending'`,
      `ALTER TABLE sessions ADD COLUMN cancel_requested_by TEXT`,
      `ALTER TABLE sessions ADD COLUMN cancel_requested_at BIGINT`,
      // 1 while the session waits for people (its prompt is posted); the resumer looks at the others.
      `ALTER TABLE sessions ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0`,
      `ALTER TABLE sessions ADD COLUMN prompt_key TEXT`,
      // Who drives the session now (renewed by every save); a session whose driver is gone is resumed.
      `ALTER TABLE sessions ADD COLUMN driver TEXT`,
      `ALTER TABLE sessions ADD COLUMN driver_until BIGINT`,
      `ALTER TABLE approvals ADD COLUMN shown TEXT`,
      `ALTER TABLE approvals ADD COLUMN decided_event TEXT`,
      `ALTER TABLE approvals ADD COLUMN reason TEXT`,
      // The resumer's two questions, each a scan of the active sessions that are not waiting (few) or
      // that wait on an approval (one primary-key lookup each), never of the whole history.
      `CREATE INDEX sessions_active_waiting ON sessions (waiting, status)`,
      `CREATE TABLE probes (name TEXT PRIMARY KEY, at BIGINT NOT NULL)`,
    ],
  },
  {
    // AccessKeys the bot created (recorded before their secret is written anywhere): the only ones it may delete.
    version: 3,
    statements: () => [
      `CREATE TABLE created_access_keys (
        access_key_id TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        cluster_id TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX created_access_keys_by_user ON created_access_keys (user_name)`,
      // A CreateAccessKey under way: the keys the user had before it. A key that appears later, recorded by
      // nobody, was made by that call even when its answer never came (a crash, a timeout).
      `CREATE TABLE access_key_creations (
        user_name TEXT NOT NULL,
        cluster_id TEXT NOT NULL,
        existing_keys TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        PRIMARY KEY (user_name, cluster_id)
      )`,
    ],
  },
  {
    // Watched clusters (issue 18). The row is also the check's lease: a replica claims a check by moving
    // next_check_at on from the value it read (compare-and-set), so each check runs once per interval.
    version: 4,
    statements: () => [
      `CREATE TABLE watches (
        cluster_id TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        conversation TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        changed_by TEXT,
        next_check_at BIGINT NOT NULL,
        lease_owner TEXT,
        lease_until BIGINT,
        last_check_at BIGINT,
        last_result TEXT,
        last_detail TEXT,
        drift TEXT,
        baseline TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE INDEX watches_due ON watches (next_check_at) WHERE enabled = 1`,
      `CREATE INDEX watches_by_channel ON watches (platform, channel_id)`,
      // A session that repairs drift: only the steps named here are planned (src/watch/drift.ts, repairOf).
      `ALTER TABLE sessions ADD COLUMN repair TEXT`,
    ],
  },
  {
    // When the approvers were reminded that an approval is about to expire (once per approval).
    version: 5,
    statements: () => [`ALTER TABLE approvals ADD COLUMN reminded_at BIGINT`],
  },
];

export async function migrate(sql: Sql): Promise<number[]> {
  const applied: number[] = [];
  await sql.migrate(async (tx) => {
    await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const done = new Set((await tx.query('SELECT version FROM schema_migrations')).map((row) => Number(row.version)));
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements(sql.dialect)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, Date.now()]);
      applied.push(migration.version);
    }
  });
  return applied;
}
