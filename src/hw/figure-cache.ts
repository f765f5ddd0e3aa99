// A small on-disk memo for tool results (synthesis, power): one JSON file per key, the key being the
// sha256 of everything the result depends on (RTL text, tool version, Liberty digest, script version).
// Writes go to a temp name and are renamed, so a crash never leaves a half-written entry.
import {createHash} from 'node:crypto';
import {mkdir, readFile, rename, writeFile} from 'node:fs/promises';
import {join} from 'node:path';

export function cacheKey(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}`);
  return hash.digest('hex');
}

/** Returns the cached value for `key` in `dir`, or computes, stores and returns it. No dir = no caching. */
export async function memoised<T>(dir: string | undefined, key: string, compute: () => Promise<T>): Promise<T> {
  if (dir === undefined) return compute();
  const file = join(dir, `${key}.json`);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    // Missing or unreadable entry: recompute below.
  }
  const value = await compute();
  await mkdir(dir, {recursive: true});
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, JSON.stringify(value));
  await rename(temp, file);
  return value;
}

const fileDigests = new Map<string, Promise<string>>();

/** sha256 of a file's bytes, memoised per path for the process (Liberty files do not change under us). */
export function fileDigest(path: string): Promise<string> {
  let digest = fileDigests.get(path);
  if (digest === undefined) {
    digest = readFile(path).then((bytes) => createHash('sha256').update(bytes).digest('hex'));
    fileDigests.set(path, digest);
  }
  return digest;
}
