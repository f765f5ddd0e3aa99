// A content-keyed JSON memo shared by every step and run (e.g. one evaluated configuration of a
// search): outside the cache key, kept across runs and crashes. Each write is its own committed
// statement, so a killed step keeps everything it memoised before the kill. Keys carry their own
// namespace prefix ("approx/search:<digest>") rather than the writing kind's name, because
// entries are meant to be shared across kinds (the sensitivity matrix's cells are search
// configurations); the writing kind is recorded for maintenance.
import type {Json, StepMemo} from '../step-kind.js';
import type {Db} from './database.js';

export class Memo {
  constructor(readonly db: Db) {}

  /** The memo as a step of `kind` sees it. */
  forKind(kind: string): StepMemo {
    return {
      get: async (key: string): Promise<Json | undefined> => {
        const row = this.db.prepare('SELECT value FROM memo WHERE key = ?').get(key) as {value: string} | undefined;
        return row === undefined ? undefined : (JSON.parse(row.value) as Json);
      },
      set: async (key: string, value: Json): Promise<void> => {
        this.db.prepare('INSERT OR REPLACE INTO memo (key, value, kind, updated_at) VALUES (?, ?, ?, ?)').run(key, JSON.stringify(value), kind, Date.now());
      },
    };
  }

  /** Entries whose key starts with `prefix`. */
  count(prefix = ''): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM memo WHERE substr(key, 1, ?) = ?").get(prefix.length, prefix) as {n: number}).n;
  }
}
