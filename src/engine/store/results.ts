// Step results by cache key. A result exists only once its row is committed, in the same
// transaction as its artifacts, after the blobs are already in the CAS (crash at any point:
// either the whole result is there or none of it).
import type {KeyParts} from '../cache-key.js';
import type {Json} from '../step-kind.js';
import type {Cas, CorruptBlob, StoredArtifact} from './cas.js';
import type {Db} from './database.js';

export type OutputRecord = StoredArtifact | {type: 'value'; digest: string; value: Json};

export interface ResultRecord {
  key: string;
  stepId: string;
  instance: string;
  kind: string;
  keyParts: KeyParts;
  outputs: Record<string, OutputRecord>;
  runId: string;
  durationMs: number;
  createdAt: number;
}

interface ResultRow {
  key: string;
  step_id: string;
  instance: string;
  kind: string;
  key_parts: string;
  outputs: string;
  run_id: string;
  duration_ms: number;
  created_at: number;
}

function fromRow(row: ResultRow): ResultRecord {
  return {
    key: row.key,
    stepId: row.step_id,
    instance: row.instance,
    kind: row.kind,
    keyParts: JSON.parse(row.key_parts) as KeyParts,
    outputs: JSON.parse(row.outputs) as Record<string, OutputRecord>,
    runId: row.run_id,
    durationMs: row.duration_ms,
    createdAt: row.created_at,
  };
}

export class Results {
  readonly #byKey;
  readonly #latest;

  constructor(
    readonly db: Db,
    readonly cas: Cas,
  ) {
    this.#byKey = db.prepare('SELECT * FROM results WHERE key = ?');
    this.#latest = db.prepare('SELECT * FROM results WHERE instance = ? ORDER BY created_at DESC, rowid DESC LIMIT 1');
  }

  get(key: string): ResultRecord | undefined {
    const row = this.#byKey.get(key) as ResultRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** The most recent result of a step instance under any key (what `plan` compares against). */
  latest(instance: string): ResultRecord | undefined {
    const row = this.#latest.get(instance) as ResultRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** A result is usable only if all its artifacts are still in the CAS (a quarantined blob makes it a miss). */
  async usable(result: ResultRecord): Promise<boolean> {
    for (const output of Object.values(result.outputs)) {
      if (output.type !== 'value' && !(await this.cas.has(output))) return false;
    }
    return true;
  }

  /**
   * Verifies every artifact of a result before it is reused (Cas.check). A corrupt one is quarantined and
   * the result deleted, so it is recomputed; the corrupt blobs are returned for the caller to report.
   */
  async verify(result: ResultRecord): Promise<{usable: boolean; corrupt: CorruptBlob[]}> {
    const corrupt: CorruptBlob[] = [];
    let usable = true;
    for (const output of Object.values(result.outputs)) {
      if (output.type === 'value') continue;
      const check = await this.cas.check(output);
      if (check.state === 'intact') continue;
      usable = false;
      if (check.state === 'corrupt') corrupt.push(...check.blobs);
    }
    if (corrupt.length > 0) this.delete(result.key);
    return {usable, corrupt};
  }

  publish(result: Omit<ResultRecord, 'createdAt'>, now: number): void {
    const artifacts = Object.values(result.outputs).filter((o): o is StoredArtifact => o.type !== 'value');
    this.db
      .transaction(() => {
        const insertArtifact = this.db.prepare('INSERT OR IGNORE INTO artifacts (digest, type, size, created_at) VALUES (?, ?, ?, ?)');
        for (const a of artifacts) insertArtifact.run(a.digest, a.type, a.size, now);
        this.db
          .prepare('INSERT OR REPLACE INTO results (key, step_id, instance, kind, key_parts, outputs, run_id, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(result.key, result.stepId, result.instance, result.kind, JSON.stringify(result.keyParts), JSON.stringify(result.outputs), result.runId, result.durationMs, now);
        const link = this.db.prepare('INSERT OR IGNORE INTO result_artifacts (key, digest) VALUES (?, ?)');
        for (const a of artifacts) link.run(result.key, a.digest);
      })
      .immediate();
  }

  delete(key: string): void {
    this.db.prepare('DELETE FROM results WHERE key = ?').run(key);
  }

  /** Results that use an artifact (cache verify drops them when the artifact is corrupt). */
  keysUsing(digest: string): string[] {
    return (this.db.prepare('SELECT key FROM result_artifacts WHERE digest = ?').all(digest) as {key: string}[]).map((r) => r.key);
  }

  all(): ResultRecord[] {
    return (this.db.prepare('SELECT * FROM results ORDER BY created_at').all() as ResultRow[]).map(fromRow);
  }

  artifact(digest: string): StoredArtifact | undefined {
    const row = this.db.prepare('SELECT digest, type, size FROM artifacts WHERE digest = ?').get(digest) as StoredArtifact | undefined;
    return row;
  }

  /** Artifacts whose digest starts with `prefix` (export accepts a unique prefix). */
  artifactsByPrefix(prefix: string): StoredArtifact[] {
    return this.db.prepare("SELECT digest, type, size FROM artifacts WHERE digest LIKE ? || '%' LIMIT 10").all(prefix) as StoredArtifact[];
  }
}
