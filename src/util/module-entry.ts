// Modules started as a thread or process of their own (a step child, an image worker). Shipped as
// compiled JavaScript they start as they are; run from the TypeScript source (tests, `npm run axx`)
// they need tsx's loader, which is a devDependency and absent after `npm ci --omit=dev`.
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {pathToFileURL} from 'node:url';

export interface ModuleEntry {
  /** The sibling module's file, .js beside a compiled caller and .ts beside a source one. */
  url: URL;
  /** The source itself: a worker thread must register tsx before importing it (workers ignore --import). */
  typescript: boolean;
  /** Node flags a child process needs to load it: none for JavaScript, tsx's loader for TypeScript. */
  execArgv: string[];
}

/** The module `name` (without extension) in the caller's directory; `callerUrl` is the caller's import.meta.url. */
export function siblingEntry(callerUrl: string, name: string): ModuleEntry {
  const fromSource = /\.tsx?$/.test(new URL(callerUrl).pathname);
  const url = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl);
  if (!fromSource) return {url, typescript: false, execArgv: []};
  const tsxDir = dirname(createRequire(callerUrl).resolve('tsx/package.json'));
  return {url, typescript: true, execArgv: ['--import', pathToFileURL(join(tsxDir, 'dist', 'loader.mjs')).href]};
}
