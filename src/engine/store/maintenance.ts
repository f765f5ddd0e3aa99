// Store upkeep: `cache verify` (rehash every blob, quarantine corrupt ones, drop the results that
// used them so the next run recomputes; drop unreadable memo entries), `gc` (remove what no kept
// result, checkpoint or run needs) and
// `cache repair` (replace a damaged index, keeping what it still yields).
import {existsSync} from 'node:fs';
import {mkdir, rename, stat} from 'node:fs/promises';
import {join} from 'node:path';
import Database from 'better-sqlite3';
import {mapLimit} from '../map-limit.js';
import {isAlive} from './liveness.js';
import type {ResultRecord} from './results.js';
import {Store} from './store.js';

/** Blobs rehashed at once: enough to overlap reads of small blobs with hashing. */
const VERIFY_CONCURRENCY = 4;

export interface VerifyReport {
  checked: number;
  corrupt: {digest: string; actual: string; movedTo: string}[];
  droppedResults: string[];
  memoChecked: number;
  /** Keys of memo entries whose stored value is not JSON (dropped: the step that wants one recomputes it). */
  droppedMemo: string[];
}

/** Blob digests a directory artifact consists of (its manifest and files); undefined if the manifest is unreadable. */
async function dirBlobs(store: Store, digest: string): Promise<string[] | undefined> {
  try {
    return [digest, ...(await store.cas.manifestEntries(digest)).map((e) => e.digest)];
  } catch {
    return undefined;
  }
}

export async function verifyStore(store: Store): Promise<VerifyReport> {
  const blobs = await store.cas.listBlobs();
  const checked = await mapLimit(blobs, VERIFY_CONCURRENCY, (digest) => store.cas.verifyBlob(digest));
  const corrupt = checked.filter((c) => c !== undefined);
  const bad = new Set(corrupt.map((c) => c.digest));
  const dropped = new Set<string>();
  if (bad.size > 0) {
    for (const result of store.results.all()) {
      for (const output of Object.values(result.outputs)) {
        if (output.type === 'value') continue;
        const parts = output.type === 'dir' ? await dirBlobs(store, output.digest) : [output.digest];
        if (parts === undefined || parts.some((d) => bad.has(d))) {
          dropped.add(result.key);
          // The materialised tree shares inodes with the corrupt blob; it must go too.
          if (output.type === 'dir') await store.cas.removeDir(output.digest);
        }
      }
    }
    for (const key of dropped) store.results.delete(key);
  }
  const memo = store.memo.entries();
  const droppedMemo = memo.filter((entry) => !isJson(entry.value)).map((entry) => entry.key);
  for (const key of droppedMemo) store.memo.delete(key);
  return {checked: blobs.length, corrupt, droppedResults: [...dropped], memoChecked: memo.length, droppedMemo};
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export interface GcReport {
  droppedResults: number;
  removedBlobs: number;
  removedDirs: number;
  freedBytes: number;
  /** Scratch and temp dirs of processes that are gone. */
  tempDirs: number;
  /** Unreferenced blobs and trees kept because they arrived while a run may still be publishing them. */
  keptRecent: number;
  /** Runs --keep-last forgot: their records, events, logs and metrics, and logs/<run>/ in the cache. */
  forgottenRuns: number;
  /** logs/<run>/ directories of runs no longer recorded (forgotten ones included). */
  removedLogDirs: number;
  /** Memo entries (evaluated configurations, hardware figures) that no kept run wrote or read. */
  removedMemo: number;
  dryRun: boolean;
}

/**
 * Unreferenced blobs and trees that arrived (or were reused) after the oldest live run started, or after
 * gc itself started, are kept: a run may have moved them in and not yet committed its result. File times
 * come from the kernel's coarse clock, which may lag Date.now() by a tick: this margin covers it.
 */
export const GC_CLOCK_MARGIN_MS = 100;

/**
 * Removes what no kept result or checkpoint needs. Safe beside running runs: their results are kept,
 * anything that arrived since the oldest of them (or gc) started is kept, and only dead
 * processes' temp dirs are removed. Files go before index rows, so a full disk can be freed.
 *
 * With `keepLast`, the kept runs are the N most recent and the running ones. Results they did not use
 * go; so do the records of the other runs, except runs that computed a kept result (`axx show` reads
 * their logs and metrics); and memo entries no kept run wrote or read, i.e. last used before the
 * oldest kept run started. Without it, every result, run and memo entry stays.
 */
export async function collectGarbage(store: Store, options: {dryRun: boolean; keepLast?: number; now: number}): Promise<GcReport> {
  // The runs gc may forget, listed before it looks for running ones: a run another process starts after this
  // is neither kept nor forgotten (it writes its steps under its row).
  const known = store.runs.ids();
  const live = store.runs.list(1000).filter((r) => r.status === 'running' && isAlive(r.pid, r.host, r.endedAt ?? r.startedAt, options.now));
  const keepSince = Math.min(options.now, ...live.map((r) => r.startedAt)) - GC_CLOCK_MARGIN_MS;
  let results = store.results.all();
  let drop: string[] = [];
  let forget: string[] = [];
  let memoUnusedBefore: number | undefined;
  if (options.keepLast !== undefined) {
    const keep = store.runs.keysOfRecentRuns(options.keepLast);
    for (const key of store.runs.keysOfRuns(live.map((r) => r.id))) keep.add(key);
    drop = results.filter((r) => !keep.has(r.key)).map((r) => r.key);
    results = results.filter((r) => keep.has(r.key));
    const recentRuns = store.runs.list(options.keepLast);
    const keptRuns = new Set([...recentRuns, ...live].map((r) => r.id));
    for (const result of results) keptRuns.add(result.runId);
    forget = known.filter((id) => !keptRuns.has(id));
    memoUnusedBefore = Math.min(keepSince, ...recentRuns.map((r) => r.startedAt));
  }
  const liveBlobs = store.checkpoints.referencedDigests();
  const liveDirs = new Set<string>();
  for (const result of results) {
    for (const output of Object.values(result.outputs)) {
      if (output.type === 'file') liveBlobs.add(output.digest);
      else if (output.type === 'dir') {
        liveDirs.add(output.digest);
        for (const d of (await dirBlobs(store, output.digest)) ?? [output.digest]) liveBlobs.add(d);
      }
    }
  }
  const recent = async (artifact: {type: 'file' | 'dir'; digest: string}): Promise<boolean> => ((await store.cas.arrivedAt(artifact)) ?? 0) >= keepSince;
  let keptRecent = 0;
  let freedBytes = 0;
  let removedBlobs = 0;
  for (const digest of await store.cas.listBlobs()) {
    if (liveBlobs.has(digest)) continue;
    // Checked right before removing: a run may have reused it since the listing.
    if (await recent({type: 'file', digest})) {
      keptRecent++;
      continue;
    }
    freedBytes += (await stat(store.cas.blobPath(digest)).catch(() => ({size: 0}))).size;
    removedBlobs++;
    if (!options.dryRun) await store.cas.removeBlob(digest);
  }
  let removedDirs = 0;
  for (const digest of await store.cas.listDirs()) {
    if (liveDirs.has(digest)) continue;
    if (await recent({type: 'dir', digest})) {
      keptRecent++;
      continue;
    }
    removedDirs++;
    if (!options.dryRun) await store.cas.removeDir(digest);
  }
  const tempDirs = await store.cas.clearDeadTemp({dryRun: options.dryRun, now: options.now});
  const logDirs = store.runs.orphanLogDirs().length + forget.filter((id) => existsSync(join(store.runs.overflowDir, id))).length;
  if (!options.dryRun) {
    for (const name of store.runs.orphanLogDirs()) store.runs.removeLogDir(name);
    for (const id of forget) store.runs.forget(id);
    for (const key of drop) store.results.delete(key);
    store.db.exec('DELETE FROM artifacts WHERE digest NOT IN (SELECT digest FROM result_artifacts)');
  }
  const removedMemo = memoUnusedBefore === undefined ? 0 : store.memo.pruneUnusedSince(memoUnusedBefore, options.dryRun);
  return {droppedResults: drop.length, removedBlobs, removedDirs, freedBytes, tempDirs, keptRecent, forgottenRuns: forget.length, removedLogDirs: logDirs, removedMemo, dryRun: options.dryRun};
}

export interface RepairReport {
  /** Where the damaged index files were moved. */
  movedTo: string;
  /** Results read back from the damaged index whose artifacts are all in the CAS. */
  salvagedResults: number;
  /** Results read back but dropped because an artifact is missing. */
  droppedResults: number;
  /** Whether the damaged index could be read at all. */
  readable: boolean;
  /** Blobs registered as artifacts, so `axx export <digest>` finds them. */
  registeredBlobs: number;
}

/**
 * `axx cache repair`: moves a damaged index aside (never deleting it), opens a fresh one, copies over
 * every result the damaged file still yields whose artifacts are present, and registers the CAS's blobs.
 * What cannot be read is recomputed by the next run.
 */
export async function repairStore(dir: string, now: number): Promise<RepairReport> {
  const movedTo = join(dir, `index-damaged-${now}`);
  await mkdir(movedTo, {recursive: true});
  for (const suffix of ['', '-wal', '-shm']) {
    await rename(join(dir, `index.sqlite${suffix}`), join(movedTo, `index.sqlite${suffix}`)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  const rows = readResultRows(join(movedTo, 'index.sqlite'));
  using store = Store.open(dir);
  let salvagedResults = 0;
  let droppedResults = 0;
  for (const row of rows ?? []) {
    const record = resultFromRow(row);
    if (record === undefined || !(await store.results.usable(record))) {
      droppedResults++;
      continue;
    }
    store.results.publish(record, record.createdAt);
    salvagedResults++;
  }
  const register = store.db.prepare("INSERT OR IGNORE INTO artifacts (digest, type, size, created_at) VALUES (?, 'file', ?, ?)");
  let registeredBlobs = 0;
  for (const digest of await store.cas.listBlobs()) {
    const size = (await stat(store.cas.blobPath(digest)).catch(() => undefined))?.size;
    if (size !== undefined && register.run(digest, size, now).changes > 0) registeredBlobs++;
  }
  return {movedTo, salvagedResults, droppedResults, readable: rows !== undefined, registeredBlobs};
}

/** The results table of a damaged index, as far as SQLite can still read it; undefined if not at all. */
function readResultRows(file: string): Record<string, unknown>[] | undefined {
  try {
    const db = new Database(file, {readonly: true, fileMustExist: true});
    try {
      return db.prepare('SELECT * FROM results').all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  } catch {
    // Unreadable (truncated header, corrupt pages): nothing to salvage, the next run recomputes.
    return undefined;
  }
}

function resultFromRow(row: Record<string, unknown>): ResultRecord | undefined {
  try {
    return {
      key: String(row['key']),
      stepId: String(row['step_id']),
      instance: String(row['instance']),
      kind: String(row['kind']),
      keyParts: JSON.parse(String(row['key_parts'])) as ResultRecord['keyParts'],
      outputs: JSON.parse(String(row['outputs'])) as ResultRecord['outputs'],
      runId: String(row['run_id']),
      durationMs: Number(row['duration_ms']),
      createdAt: Number(row['created_at']),
    };
  } catch {
    return undefined;
  }
}
