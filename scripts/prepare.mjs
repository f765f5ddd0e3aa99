// `npm ci` / `npm install` in a clone, and `npm pack`, run this (package.json "prepare"): it compiles
// src/ to dist/, which bin/axx.js and the step processes run, and precompiles the schema validators
// (scripts/compile-validators.mjs). Plain JavaScript, as nothing is built yet.
// Without TypeScript (`npm ci --omit=dev`) there is nothing to compile with: an existing dist/ is kept,
// and a missing one is an error that says what to do.
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {createRequire} from 'node:module';

const root = new URL('..', import.meta.url);
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  if (existsSync(new URL('dist/cli/main.js', root))) {
    console.log('axx: TypeScript is not installed (dev dependencies omitted); keeping the existing dist/');
    process.exit(0);
  }
  console.error('axx: dist/ is missing and TypeScript is not installed to build it; run `npm ci` with dev dependencies once (it builds dist/), or install the published package');
  process.exit(1);
}
const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {cwd: root, stdio: 'inherit'});
if (build.status !== 0) process.exit(build.status ?? 1);
const validators = spawnSync(process.execPath, [new URL('compile-validators.mjs', import.meta.url).pathname], {cwd: root, stdio: 'inherit'});
process.exit(validators.status ?? 1);
