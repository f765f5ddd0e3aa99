// Vitest global setup: the end-to-end tests run bin/axx.js, which runs dist/. Rebuild dist/ first when
// any source is newer than the last build, so the tests never run stale JavaScript.
import {spawnSync} from 'node:child_process';
import {existsSync, readdirSync, statSync, utimesSync} from 'node:fs';
import {createRequire} from 'node:module';
import {join} from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const buildInfo = join(root, 'dist', '.tsbuildinfo');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export default function buildDist(): void {
  const inputs = Math.max(newestSource(join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(join(root, f)).mtimeMs));
  if (existsSync(buildInfo) && statSync(buildInfo).mtimeMs >= inputs) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {cwd: root, encoding: 'utf8'});
  // tsc emits despite type errors; those are `npm run typecheck`'s to report, a missing build is ours.
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error(`building dist/ for the end-to-end tests failed:\n${build.stdout}${build.stderr}`);
  if (build.status !== 0) console.warn(`dist/ built with type errors:\n${build.stdout}`);
  // An incremental build that found nothing to emit leaves the build info as it was.
  if (existsSync(buildInfo)) utimesSync(buildInfo, new Date(), new Date());
}
