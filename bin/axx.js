#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs through `prepare`).
import {existsSync} from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('axx: dist/ is missing; build it with `npm run build` (`npm ci` builds it too), or run the source with `npm run axx -- <command>`\n');
  process.exit(70);
}
const {main} = await import(compiled.href);
await main();
