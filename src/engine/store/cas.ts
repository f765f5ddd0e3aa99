// Content-addressed store: blobs by sha256 under fan-out directories, directories as a manifest blob
// plus a read-only materialised tree of hard links, so steps get plain absolute paths. Everything
// arrives through a temp name and a rename: a partially written blob is never visible.
import {randomBytes} from 'node:crypto';
import {chmod, copyFile, link, lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import {sha256Hex} from '../canonical-json.js';
import {hashFile} from '../../util/hash-file.js';
import {dirManifest, FILE_CONCURRENCY, FileDigestMemo, type DirEntry} from '../file-digest.js';
import {mapLimit} from '../map-limit.js';
import {isAlive, thisHost} from './liveness.js';

/** Temp dirs live under tmp/pid<pid>@<host>/, so gc can tell a dead process's leftovers from a live one's. */
const OWNER = /^pid(\d+)@(.+)$/;
const ownerName = (pid: number, host: string): string => `pid${pid}@${host.replace(/[^A-Za-z0-9._-]/g, '_')}`;
/** Leftovers of a process on another host (whose pid we cannot ask about) are removed after this long. */
const FOREIGN_TEMP_TTL_MS = 24 * 3600_000;

export interface StoredArtifact {
  type: 'file' | 'dir';
  digest: string;
  size: number;
}

export interface CorruptBlob {
  digest: string;
  actual: string;
  movedTo: string;
}

/** What a check before use found: intact, absent, or corrupt (and now in quarantine). */
export type ArtifactCheck = {state: 'intact'} | {state: 'missing'} | {state: 'corrupt'; blobs: CorruptBlob[]};

export class Cas {
  readonly #blobs: string;
  readonly #dirs: string;
  readonly #tmp: string;
  readonly #quarantine: string;

  /**
   * @param digests remembers verified digests by (dev, inode, size, mtime), so a blob is rehashed only when
   * its file changed since it was last checked (the cache's index keeps them across processes).
   */
  constructor(
    readonly root: string,
    readonly digests: FileDigestMemo = new FileDigestMemo(),
  ) {
    this.#blobs = join(root, 'blobs');
    this.#dirs = join(root, 'dirs');
    this.#tmp = join(root, 'tmp');
    this.#quarantine = join(root, 'quarantine');
  }

  blobPath(digest: string): string {
    return join(this.#blobs, digest.slice(0, 2), digest.slice(2));
  }

  /** The read-only materialised tree of a directory artifact. */
  dirPath(digest: string): string {
    return join(this.#dirs, digest.slice(0, 2), digest.slice(2));
  }

  pathOf(artifact: {type: 'file' | 'dir'; digest: string}): string {
    return artifact.type === 'dir' ? this.dirPath(artifact.digest) : this.blobPath(artifact.digest);
  }

  async has(artifact: {type: 'file' | 'dir'; digest: string}): Promise<boolean> {
    return stat(this.pathOf(artifact)).then(
      () => true,
      () => false,
    );
  }

  /** A directory next to the store (same filesystem, so outputs can be renamed in), owned by this process. */
  async tempDir(prefix: string): Promise<string> {
    const dir = join(this.#tmp, ownerName(process.pid, thisHost), `${prefix.replace(/[^A-Za-z0-9._=,-]/g, '_').slice(0, 80)}-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, {recursive: true});
    return dir;
  }

  /** Moves a file into the store (it must not be written afterwards). */
  async putFile(path: string): Promise<StoredArtifact> {
    const digest = await hashFile(path);
    const size = (await stat(path)).size;
    await this.#adopt(path, digest);
    return {type: 'file', digest, size};
  }

  async putBytes(bytes: Uint8Array): Promise<StoredArtifact> {
    const digest = sha256Hex(bytes);
    if (await this.has({type: 'file', digest})) await this.#touch(this.blobPath(digest));
    else {
      const dir = await this.tempDir('bytes');
      try {
        await writeFile(join(dir, 'blob'), bytes);
        await this.#adopt(join(dir, 'blob'), digest);
      } finally {
        await rm(dir, {recursive: true, force: true});
      }
    }
    return {type: 'file', digest, size: bytes.byteLength};
  }

  async readBytes(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  /** Moves a directory's files into the store and materialises the tree read-only. */
  async putDir(path: string): Promise<StoredArtifact> {
    const entries = await new FileDigestMemo().dirEntries(path);
    await mapLimit(entries, FILE_CONCURRENCY, (entry) => this.#adopt(join(path, ...entry.path.split('/')), entry.digest));
    const manifest = dirManifest(entries);
    const {digest} = await this.putBytes(Buffer.from(manifest));
    await this.#materialise(digest, entries);
    return {type: 'dir', digest, size: entries.reduce((sum, e) => sum + e.size, 0)};
  }

  async manifestEntries(digest: string): Promise<DirEntry[]> {
    const manifest = JSON.parse((await this.readBytes(digest)).toString('utf8')) as {entries: [string, string, number, boolean][]};
    return manifest.entries.map(([path, d, size, executable]) => ({path, digest: d, size, executable}));
  }

  async #materialise(digest: string, entries: readonly DirEntry[]): Promise<void> {
    const target = this.dirPath(digest);
    if (await this.has({type: 'dir', digest})) return this.#touch(target);
    const tmp = await this.tempDir('dir');
    for (const dir of new Set(entries.map((e) => dirname(join(tmp, ...e.path.split('/')))))) await mkdir(dir, {recursive: true});
    await mapLimit(entries, FILE_CONCURRENCY, async (entry) => {
      const dest = join(tmp, ...entry.path.split('/'));
      // Blobs are 0444 and shared by content; an executable file gets its own 0555 copy instead of a link.
      if (!entry.executable) return link(this.blobPath(entry.digest), dest);
      await copyFile(this.blobPath(entry.digest), dest);
      await chmod(dest, 0o555);
    });
    await mkdir(dirname(target), {recursive: true});
    await makeTreeReadOnly(tmp);
    await rename(tmp, target).catch(async (error: NodeJS.ErrnoException) => {
      // Another process materialised the same tree first; theirs is identical.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      await removeTree(tmp);
    });
  }

  async #adopt(path: string, digest: string): Promise<void> {
    const target = this.blobPath(digest);
    if (await this.has({type: 'file', digest})) {
      await this.#touch(target);
      await rm(path, {force: true});
      return;
    }
    await mkdir(dirname(target), {recursive: true});
    // A symlink or a hard link would let the store share bytes (and chmod) with a file outside
    // the scratch dir that someone may still change: store a private copy instead.
    const info = await lstat(path);
    if (!info.isSymbolicLink() && info.nlink === 1) {
      await chmod(path, 0o444);
      await rename(path, target);
      return;
    }
    const copyDir = await this.tempDir('copy');
    try {
      await copyFile(path, join(copyDir, 'blob'));
      await chmod(join(copyDir, 'blob'), 0o444);
      await rename(join(copyDir, 'blob'), target);
    } finally {
      await rm(copyDir, {recursive: true, force: true});
    }
  }

  /**
   * Marks an existing blob or tree as just used (chmod sets its ctime): gc spares anything whose ctime is
   * recent, so a result that reuses an unreferenced blob is not left pointing at a removed one.
   */
  async #touch(path: string): Promise<void> {
    const mode = (await stat(path).catch(() => undefined))?.mode;
    if (mode !== undefined) await chmod(path, mode & 0o7777).catch(() => undefined);
  }

  /** When a blob or tree last arrived or was reused (its ctime); undefined if absent. */
  async arrivedAt(artifact: {type: 'file' | 'dir'; digest: string}): Promise<number | undefined> {
    return (await stat(this.pathOf(artifact)).catch(() => undefined))?.ctimeMs;
  }

  /**
   * Copies an artifact from another store (the shared blob tier of `axx worker`/`run --redis`) unless
   * it is here already. Every blob is rehashed on the way in, so a damaged copy is never adopted.
   */
  async copyFrom(source: Cas, artifact: {type: 'file' | 'dir'; digest: string}): Promise<void> {
    if (await this.has(artifact)) return;
    if (artifact.type === 'dir') {
      const entries = await source.manifestEntries(artifact.digest);
      await mapLimit(entries, FILE_CONCURRENCY, (entry) => this.copyFrom(source, {type: 'file', digest: entry.digest}));
      await this.copyFrom(source, {type: 'file', digest: artifact.digest});
      await this.#materialise(artifact.digest, entries);
      return;
    }
    const dir = await this.tempDir('copy');
    try {
      const tmp = join(dir, 'blob');
      await copyFile(source.blobPath(artifact.digest), tmp);
      const actual = await hashFile(tmp);
      if (actual !== artifact.digest) throw new Error(`blob ${artifact.digest} in ${source.root} has the content of ${actual}; remove it there (it is damaged) and rerun`);
      await this.#adopt(tmp, artifact.digest);
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  }

  /** Every blob digest present. */
  async listBlobs(): Promise<string[]> {
    return listFanOut(this.#blobs);
  }

  async listDirs(): Promise<string[]> {
    return listFanOut(this.#dirs);
  }

  async removeBlob(digest: string): Promise<void> {
    await rm(this.blobPath(digest), {force: true});
  }

  async removeDir(digest: string): Promise<void> {
    await removeTree(this.dirPath(digest));
  }

  /** Rehashes one blob; a mismatch moves it to quarantine/ so it can no longer be served. */
  async verifyBlob(digest: string): Promise<CorruptBlob | undefined> {
    const path = this.blobPath(digest);
    const actual = await hashFile(path);
    if (actual === digest) return undefined;
    return {digest, actual, movedTo: await this.#moveToQuarantine(path, digest)};
  }

  /**
   * Checks an artifact before a step consumes it: sizes always, content digests unless the file is
   * unchanged since it was last verified. A corrupt blob goes to quarantine (and a directory's
   * materialised tree is removed), so it can never be served again.
   */
  async check(artifact: StoredArtifact): Promise<ArtifactCheck> {
    if (!(await this.has(artifact))) return {state: 'missing'};
    const blobs: {digest: string; size?: number; path: string}[] = [];
    if (artifact.type === 'file') blobs.push({digest: artifact.digest, size: artifact.size, path: this.blobPath(artifact.digest)});
    else {
      const manifest = await this.#checkBlob({digest: artifact.digest, path: this.blobPath(artifact.digest)});
      if (manifest !== undefined) return this.#corruptDir(artifact.digest, [manifest]);
      for (const entry of await this.manifestEntries(artifact.digest)) {
        blobs.push({digest: entry.digest, size: entry.size, path: this.blobPath(entry.digest)});
        // An executable file is its own copy in the tree, not a link to the blob.
        if (entry.executable) blobs.push({digest: entry.digest, size: entry.size, path: join(this.dirPath(artifact.digest), ...entry.path.split('/'))});
      }
    }
    const corrupt = (await mapLimit(blobs, FILE_CONCURRENCY, (blob) => this.#checkBlob(blob))).filter((c) => c !== undefined);
    if (corrupt.length === 0) return {state: 'intact'};
    return artifact.type === 'dir' ? this.#corruptDir(artifact.digest, corrupt) : {state: 'corrupt', blobs: corrupt};
  }

  async #corruptDir(digest: string, blobs: CorruptBlob[]): Promise<ArtifactCheck> {
    // The materialised tree shares inodes with the corrupt blobs; it must go too.
    await this.removeDir(digest);
    return {state: 'corrupt', blobs};
  }

  async #checkBlob(blob: {digest: string; size?: number; path: string}): Promise<CorruptBlob | undefined> {
    const info = await stat(blob.path).catch(() => undefined);
    if (info === undefined) return {digest: blob.digest, actual: 'missing', movedTo: ''};
    const actual = blob.size !== undefined && info.size !== blob.size ? `${info.size} bytes instead of ${blob.size}` : (await this.digests.digest(blob.path)).digest;
    if (actual === blob.digest) return undefined;
    return {digest: blob.digest, actual, movedTo: await this.#moveToQuarantine(blob.path, blob.digest)};
  }

  async #moveToQuarantine(path: string, digest: string): Promise<string> {
    await mkdir(this.#quarantine, {recursive: true});
    const movedTo = join(this.#quarantine, `${digest}.${Date.now()}`);
    await rename(path, movedTo).catch((error: NodeJS.ErrnoException) => {
      // Another reader quarantined it first.
      if (error.code !== 'ENOENT') throw error;
    });
    return movedTo;
  }

  /**
   * Temp and scratch dirs left by processes that are gone (killed runs); with `dryRun`, only counted.
   * A live process's dirs are never touched.
   */
  async clearDeadTemp(options: {dryRun: boolean; now: number}): Promise<number> {
    let removed = 0;
    for (const owner of await readdir(this.#tmp).catch(() => [] as string[])) {
      const path = join(this.#tmp, owner);
      const match = OWNER.exec(owner);
      let dead: boolean;
      // Not an owner dir (the layout before owners): gone once it is a day old.
      if (match === null) dead = options.now - ((await stat(path).catch(() => undefined))?.mtimeMs ?? options.now) > FOREIGN_TEMP_TTL_MS;
      else if (match[2] === ownerName(0, thisHost).slice('pid0@'.length)) dead = !isAlive(Number(match[1]), thisHost, 0, options.now);
      else dead = options.now - ((await stat(path).catch(() => undefined))?.mtimeMs ?? options.now) > FOREIGN_TEMP_TTL_MS;
      if (!dead) continue;
      const count = (await readdir(path).catch(() => [])).length;
      if (!options.dryRun) {
        try {
          await removeTree(path);
        } catch {
          // A command the killed process started can outlive it and still write here (ENOTEMPTY):
          // housekeeping never fails a run; the next run or `axx gc` removes the dir.
          continue;
        }
      }
      removed += count;
    }
    return removed;
  }
}

async function listFanOut(root: string): Promise<string[]> {
  const digests: string[] = [];
  for (const prefix of await readdir(root).catch(() => [])) {
    for (const rest of await readdir(join(root, prefix)).catch(() => [])) digests.push(prefix + rest);
  }
  return digests;
}

async function makeTreeReadOnly(dir: string): Promise<void> {
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    if (entry.isDirectory()) await makeTreeReadOnly(join(dir, entry.name));
  }
  await chmod(dir, 0o555);
}

/** rm -r of a tree whose directories were made read-only. */
export async function removeTree(dir: string): Promise<void> {
  const restore = async (d: string): Promise<void> => {
    await chmod(d, 0o755).catch(() => undefined);
    for (const entry of await readdir(d, {withFileTypes: true}).catch(() => [])) {
      if (entry.isDirectory()) await restore(join(d, entry.name));
    }
  };
  await restore(dir);
  await rm(dir, {recursive: true, force: true});
}
