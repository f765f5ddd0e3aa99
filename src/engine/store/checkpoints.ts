// The checkpoint slot of a step key: state JSON in SQLite, files as CAS blobs. Outside the cache
// key; the engine deletes it when the step succeeds.
import {sha256Hex} from '../canonical-json.js';
import type {Json, StepCheckpoint} from '../step-kind.js';
import type {Cas} from './cas.js';
import type {Db} from './database.js';

export class Checkpoints {
  constructor(
    readonly db: Db,
    readonly cas: Cas,
  ) {}

  slot(key: string): StepCheckpoint {
    return {
      save: async (state: Json, files: Record<string, Uint8Array> = {}): Promise<void> => {
        const digests: Record<string, string> = {};
        for (const [name, bytes] of Object.entries(files)) digests[name] = (await this.cas.putBytes(bytes)).digest;
        this.db.prepare('INSERT OR REPLACE INTO checkpoints (key, state, files, updated_at) VALUES (?, ?, ?, ?)').run(key, JSON.stringify(state), JSON.stringify(digests), Date.now());
      },
      load: async (): Promise<{state: Json; files: Record<string, Uint8Array>} | undefined> => {
        const row = this.db.prepare('SELECT state, files FROM checkpoints WHERE key = ?').get(key) as {state: string; files: string} | undefined;
        if (row === undefined) return undefined;
        const files: Record<string, Uint8Array> = {};
        try {
          for (const [name, digest] of Object.entries(JSON.parse(row.files) as Record<string, string>)) {
            const bytes = await this.cas.readBytes(digest);
            // A changed byte would resume from a state no run ever saved: start over instead.
            if (sha256Hex(bytes) !== digest) return undefined;
            files[name] = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          }
        } catch {
          // A blob of the checkpoint went missing (gc): start over rather than resume from half a state.
          return undefined;
        }
        return {state: JSON.parse(row.state) as Json, files};
      },
      discard: async (): Promise<void> => this.delete(key),
    };
  }

  delete(key: string): void {
    this.db.prepare('DELETE FROM checkpoints WHERE key = ?').run(key);
  }

  /** Blob digests checkpoints still need (gc keeps them). */
  referencedDigests(): Set<string> {
    const out = new Set<string>();
    for (const row of this.db.prepare('SELECT files FROM checkpoints').all() as {files: string}[]) {
      for (const digest of Object.values(JSON.parse(row.files) as Record<string, string>)) out.add(digest);
    }
    return out;
  }
}
