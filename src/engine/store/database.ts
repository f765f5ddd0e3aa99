// The SQLite index next to the CAS: WAL so readers never block the writer, a busy timeout so
// concurrent `axx run`s wait instead of failing, and versioned migrations (PRAGMA user_version).
import Database from 'better-sqlite3';

export type Db = Database.Database;

/** Append-only: migration i brings the schema from version i to i+1. Never edit a shipped entry. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE artifacts (
    digest TEXT PRIMARY KEY,
    type TEXT NOT NULL CHECK (type IN ('file', 'dir')),
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE results (
    key TEXT PRIMARY KEY,
    step_id TEXT NOT NULL,
    instance TEXT NOT NULL,
    kind TEXT NOT NULL,
    key_parts TEXT NOT NULL,
    outputs TEXT NOT NULL,
    run_id TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX results_by_instance ON results (instance, created_at);
  CREATE TABLE result_artifacts (
    key TEXT NOT NULL REFERENCES results (key) ON DELETE CASCADE,
    digest TEXT NOT NULL REFERENCES artifacts (digest),
    PRIMARY KEY (key, digest)
  );
  CREATE INDEX result_artifacts_by_digest ON result_artifacts (digest);
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    name TEXT NOT NULL,
    command TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'interrupted')),
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER
  );
  CREATE TABLE run_steps (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    instance TEXT NOT NULL,
    step_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT,
    state TEXT NOT NULL,
    cached INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at INTEGER,
    ended_at INTEGER,
    error TEXT,
    PRIMARY KEY (run_id, instance)
  );
  CREATE INDEX run_steps_by_instance ON run_steps (instance);
  CREATE TABLE events (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    instance TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  );
  CREATE TABLE logs (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    instance TEXT NOT NULL,
    at INTEGER NOT NULL,
    stream TEXT NOT NULL,
    text TEXT NOT NULL
  );
  CREATE INDEX logs_by_step ON logs (run_id, instance);
  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    instance TEXT NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    x REAL,
    at INTEGER NOT NULL
  );
  CREATE INDEX metrics_by_step ON metrics (run_id, instance);
  CREATE TABLE checkpoints (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    files TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE leases (
    key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    instance TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    heartbeat_at INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE memo (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    kind TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 3: the params each run used, for `axx compare`.
  `ALTER TABLE runs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';`,
  // 4: digests of files outside the store by (dev, inode, size, mtime), so a big input is hashed once, not per process.
  `CREATE TABLE file_digests (stat_key TEXT PRIMARY KEY, digest TEXT NOT NULL, seen_at INTEGER NOT NULL);`,
  // 5: when a memo entry was last written or read by a run, so `gc --keep-last` can drop what no kept run used.
  `ALTER TABLE memo ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0; UPDATE memo SET used_at = updated_at;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function openDatabase(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Without a limit the WAL file keeps its largest size after a checkpoint; on a full disk that space is needed back.
  db.pragma(`journal_size_limit = ${4 << 20}`);
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  // Nothing to write when current: opening must work on a full disk, so `gc` can free it.
  if ((db.pragma('user_version', {simple: true}) as number) === MIGRATIONS.length) return;
  // IMMEDIATE: two processes opening a fresh cache must not both run migration 0.
  db.transaction(() => {
    const version = db.pragma('user_version', {simple: true}) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`cache database schema version ${version} is newer than this axx understands (${MIGRATIONS.length}); upgrade axx or use another --cache dir`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
