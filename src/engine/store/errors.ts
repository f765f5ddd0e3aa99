// Failures of the cache itself, told apart by their error codes (never by message text): a full disk
// and a damaged index each get a message that names the cache and the command that gets the user out.
import {plainAxx, type HintCommand} from '../hint-command.js';

export type StoreFailureKind = 'disk-full' | 'damaged-index';

export class StoreError extends Error {
  constructor(
    readonly kind: StoreFailureKind,
    message: string,
    readonly cacheDir: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }

  /** The way out, naming the command to run as `command` writes it (the way the user invoked axx). */
  hint(command: HintCommand = plainAxx): string {
    const cache = ['--cache', this.cacheDir];
    return this.kind === 'disk-full'
      ? `free space: "${command(['gc', ...cache])}" removes what no result needs (add --keep-last N to drop older runs' results), or point --cache at a larger disk`
      : `run "${command(['cache', 'repair', ...cache])}": it moves the damaged index aside, keeps every result it can still read and re-registers the blobs`;
  }
}

function codeOf(error: unknown): string {
  const code = (error as {code?: unknown} | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** SQLite's "database or disk is full" or a file write's ENOSPC/EDQUOT. */
export function isDiskFull(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT';
}

/** SQLite found the index file damaged (truncated, overwritten, not a database). */
export function isDamagedIndex(error: unknown): boolean {
  const code = codeOf(error);
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

export function diskFullError(cacheDir: string): StoreError {
  return new StoreError('disk-full', `no space left on ${cacheDir}`, cacheDir);
}

export function damagedIndexError(cacheDir: string): StoreError {
  return new StoreError('damaged-index', `the cache index ${cacheDir}/index.sqlite is damaged`, cacheDir);
}

/** A cache failure as a StoreError, or undefined for any other error. */
export function asStoreError(error: unknown, cacheDir: string): StoreError | undefined {
  if (error instanceof StoreError) return error;
  if (isDiskFull(error)) return diskFullError(cacheDir);
  if (isDamagedIndex(error)) return damagedIndexError(cacheDir);
  return undefined;
}
