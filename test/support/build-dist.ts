// The end-to-end tests run the shipped CLI (bin/axx.js → dist/). ensureDist() rebuilds dist/ first when
// a source is newer than the last build, so they never run stale JavaScript; tests that do not start
// the CLI never pay for a build. Test workers run in parallel: one builds, the others wait for its lock.
import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync} from 'node:fs';
import {createRequire} from 'node:module';
import {join} from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const buildInfo = join(root, 'dist', '.tsbuildinfo');
const lock = join(root, 'dist.build-lock');
/** A lock older than this was left by a killed build. */
const STALE_LOCK_MS = 10 * 60_000;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  const inputs = Math.max(newestSource(join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(join(root, f)).mtimeMs));
  return existsSync(buildInfo) && statSync(buildInfo).mtimeMs >= inputs;
}

function acquireLock(): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch {
      if (Date.now() - statSync(lock, {throwIfNoEntry: false})!.mtimeMs > STALE_LOCK_MS) rmSync(lock, {recursive: true, force: true});
      else Atomics.wait(pause, 0, 0, 200); // another worker is building; look again shortly
    }
  }
}

export function ensureDist(): void {
  if (isFresh()) return;
  acquireLock();
  try {
    if (isFresh()) return; // built by the worker that held the lock
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {cwd: root, encoding: 'utf8'});
    // tsc emits despite type errors; those are `npm run typecheck`'s to report, a missing build is ours.
    if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error(`building dist/ for the end-to-end tests failed:\n${build.stdout}${build.stderr}`);
    if (build.status !== 0) console.warn(`dist/ built with type errors:\n${build.stdout}`);
    const validators = spawnSync(process.execPath, [join(root, 'scripts', 'compile-validators.mjs')], {cwd: root, encoding: 'utf8'});
    if (validators.status !== 0) throw new Error(`precompiling the schema validators failed:\n${validators.stderr}`);
    // An incremental build that found nothing to emit leaves the build info as it was.
    if (existsSync(buildInfo)) utimesSync(buildInfo, new Date(), new Date());
  } finally {
    rmSync(lock, {recursive: true, force: true});
  }
}
