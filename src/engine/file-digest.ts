// Content digests of files and directories outside the store (exec inputs, user models). Hashing is
// memoised on (dev, inode, size, mtime) so re-planning an unchanged pipeline does not reread data.
import {readdir, stat} from 'node:fs/promises';
import {join} from 'node:path';
import {canonicalJson, sha256Hex} from './canonical-json.js';
import {hashFile} from '../util/hash-file.js';
import {mapLimit} from './map-limit.js';

/** Files hashed at once when walking a directory. */
export const FILE_CONCURRENCY = 16;

export interface DirEntry {
  /** Relative path with '/' separators. */
  path: string;
  digest: string;
  size: number;
  executable: boolean;
}

/** A directory's identity: the canonical JSON of its sorted file entries (the CAS stores the same bytes). */
export function dirManifest(entries: readonly DirEntry[]): string {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return canonicalJson({axxDir: 1, entries: sorted.map((e) => [e.path, e.digest, e.size, e.executable])});
}

/** Where digests survive the process (the cache's SQLite index), keyed by the stat tuple. */
export interface DigestBacking {
  get(statKey: string): string | undefined;
  set(statKey: string, digest: string): void;
}

export class FileDigestMemo {
  readonly #memo = new Map<string, string>();

  constructor(readonly backing?: DigestBacking) {}

  /** sha256 of a file's bytes, or of a directory's manifest. */
  async digest(path: string): Promise<{type: 'file' | 'dir'; digest: string}> {
    const info = await stat(path);
    if (info.isDirectory()) {
      const entries = await this.dirEntries(path);
      return {type: 'dir', digest: sha256Hex(dirManifest(entries))};
    }
    return {type: 'file', digest: await this.#fileDigest(path, info)};
  }

  async dirEntries(root: string): Promise<DirEntry[]> {
    const files: {full: string; rel: string}[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      for (const item of await readdir(dir, {withFileTypes: true})) {
        const full = join(dir, item.name);
        const rel = prefix === '' ? item.name : `${prefix}/${item.name}`;
        if (item.isDirectory()) await walk(full, rel);
        else files.push({full, rel});
      }
    };
    await walk(root, '');
    const entries = await mapLimit(files, FILE_CONCURRENCY, async ({full, rel}): Promise<DirEntry | undefined> => {
      // stat, not the dirent type: a symlink to a file counts as that file.
      const info = await stat(full);
      if (info.isDirectory()) throw new Error(`${full}: symlinks to directories are not supported in directory outputs`);
      if (!info.isFile()) return undefined;
      return {path: rel, digest: await this.#fileDigest(full, info), size: info.size, executable: (info.mode & 0o111) !== 0};
    });
    return entries.filter((e) => e !== undefined);
  }

  async #fileDigest(path: string, info: Awaited<ReturnType<typeof stat>>): Promise<string> {
    const memoKey = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
    const known = this.#memo.get(memoKey) ?? this.backing?.get(memoKey);
    if (known !== undefined) {
      this.#memo.set(memoKey, known);
      return known;
    }
    const digest = await hashFile(path);
    this.#memo.set(memoKey, digest);
    this.backing?.set(memoKey, digest);
    return digest;
  }
}
