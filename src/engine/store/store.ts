// The cache directory: CAS files plus the SQLite index, opened together.
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {Cas} from './cas.js';
import {asStoreError, isDiskFull} from './errors.js';
import {Checkpoints} from './checkpoints.js';
import {openDatabase, type Db} from './database.js';
import {Leases} from './leases.js';
import {FileDigestMemo} from '../file-digest.js';
import {Memo} from './memo.js';
import {Results} from './results.js';
import {RunLog} from './run-log.js';

export class Store implements Disposable {
  readonly cas: Cas;
  readonly db: Db;
  readonly results: Results;
  readonly runs: RunLog;
  readonly leases: Leases;
  readonly checkpoints: Checkpoints;
  readonly memo: Memo;
  /** Digests of files outside the store (exec inputs, user models), remembered across runs. */
  readonly fileDigests: FileDigestMemo;

  private constructor(readonly dir: string) {
    mkdirSync(dir, {recursive: true});
    this.db = openDatabase(join(dir, 'index.sqlite'));
    const get = this.db.prepare('SELECT digest FROM file_digests WHERE stat_key = ?');
    const set = this.db.prepare('INSERT OR REPLACE INTO file_digests (stat_key, digest, seen_at) VALUES (?, ?, ?)');
    this.fileDigests = new FileDigestMemo({
      get: (statKey) => (get.get(statKey) as {digest: string} | undefined)?.digest,
      set: (statKey, digest) => {
        try {
          set.run(statKey, digest, Date.now());
        } catch (error) {
          // Only a memo: on a full disk, hash again next time rather than fail.
          if (!isDiskFull(error)) throw error;
        }
      },
    });
    this.cas = new Cas(join(dir, 'cas'), this.fileDigests);
    this.results = new Results(this.db, this.cas);
    this.runs = new RunLog(this.db, join(dir, 'logs'));
    this.leases = new Leases(this.db);
    this.checkpoints = new Checkpoints(this.db, this.cas);
    this.memo = new Memo(this.db);
  }

  /** Throws a StoreError (with the way out) if the index is damaged or the disk too full to open it. */
  static open(dir: string): Store {
    try {
      return new Store(dir);
    } catch (error) {
      throw asStoreError(error, dir) ?? error;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
