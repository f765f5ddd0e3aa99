// Content digests of input files for cache keys, memoised by (device, inode, size, mtime) so a
// large image folder is read once per process, not once per cache-key computation.
import {createHash} from 'node:crypto';
import {closeSync, openSync, readSync, statSync} from 'node:fs';

const memo = new Map<string, string>();
const chunk = Buffer.alloc(1 << 20);

/** sha256 (hex) of a file's content. */
export function fileDigest(file: string): string {
  const stat = statSync(file, {bigint: true});
  const identity = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}`;
  const known = memo.get(file);
  if (known?.startsWith(`${identity}=`)) return known.slice(identity.length + 1);
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    for (let got; (got = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) hash.update(chunk.subarray(0, got));
  } finally {
    closeSync(fd);
  }
  const digest = hash.digest('hex');
  memo.set(file, `${identity}=${digest}`);
  return digest;
}

/** One digest over many files: their names relative to `root` (or as given), sizes and contents, in order. */
export function filesDigest(files: readonly string[], name: (file: string) => string = (f) => f): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${name(file)}\0${statSync(file).size}\0${fileDigest(file)}\n`);
  return hash.digest('hex');
}
