// A content-keyed JSON memo shared by every step and run (e.g. one evaluated configuration of a
// search): outside the cache key, kept across runs and crashes. Each write is its own committed
// statement, so a killed step keeps everything it memoised before the kill. Keys carry their own
// namespace prefix ("approx/search:<digest>") rather than the writing kind's name, because
// entries are meant to be shared across kinds (the sensitivity matrix's cells are search
// configurations); the writing kind is recorded for maintenance, and so is when a run last used
// an entry (`axx gc --keep-last N` drops entries none of the kept runs used).
import type {Json, StepMemo} from '../step-kind.js';
import type {Db} from './database.js';
import {isDiskFull} from './errors.js';

export class Memo {
  constructor(readonly db: Db) {}

  /**
   * The memo as a step of `kind` in a run started at `runStartedAt` sees it. A hit marks the entry used,
   * written once per entry and run (an entry marked since the run started is left alone).
   */
  forKind(kind: string, runStartedAt = Date.now()): StepMemo {
    return {
      get: async (key: string): Promise<Json | undefined> => {
        const row = this.db.prepare('SELECT value, used_at FROM memo WHERE key = ?').get(key) as {value: string; used_at: number} | undefined;
        if (row === undefined) return undefined;
        if (row.used_at < runStartedAt) this.#markUsed(key);
        return JSON.parse(row.value) as Json;
      },
      set: async (key: string, value: Json): Promise<void> => {
        const now = Date.now();
        this.db.prepare('INSERT OR REPLACE INTO memo (key, value, kind, updated_at, used_at) VALUES (?, ?, ?, ?, ?)').run(key, JSON.stringify(value), kind, now, now);
      },
    };
  }

  #markUsed(key: string): void {
    try {
      this.db.prepare('UPDATE memo SET used_at = ? WHERE key = ?').run(Date.now(), key);
    } catch (error) {
      // Only bookkeeping for gc: on a full disk the read still answers.
      if (!isDiskFull(error)) throw error;
    }
  }

  /** Entries no run wrote or read since `time` (gc drops them unless dryRun); returns how many. */
  pruneUnusedSince(time: number, dryRun: boolean): number {
    if (dryRun) return (this.db.prepare('SELECT COUNT(*) AS n FROM memo WHERE used_at < ?').get(time) as {n: number}).n;
    return this.db.prepare('DELETE FROM memo WHERE used_at < ?').run(time).changes;
  }

  /** Every entry's key and stored text, for `cache verify`. */
  entries(): {key: string; value: string}[] {
    return this.db.prepare('SELECT key, value FROM memo ORDER BY key').all() as {key: string; value: string}[];
  }

  delete(key: string): void {
    this.db.prepare('DELETE FROM memo WHERE key = ?').run(key);
  }

  /** Entries whose key starts with `prefix`. */
  count(prefix = ''): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM memo WHERE substr(key, 1, ?) = ?").get(prefix.length, prefix) as {n: number}).n;
  }
}
