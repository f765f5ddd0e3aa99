// How the user started axx, so the commands axx prints (resume, reattach, hints) work when pasted:
// `axx` from PATH, `npx axx` in a project that has it, `npx axx-approx` from anywhere, `npm run axx --`
// in the clone, or `node path/to/bin/axx.js`.
import {basename, delimiter, dirname, relative} from 'node:path';
import type {CliIo} from './command.js';

export interface Invocation {
  env: Readonly<Record<string, string | undefined>>;
  /** process.argv[1]: the script node runs (a bin link, bin/axx.js, or src/cli/main.ts under tsx). */
  script: string;
  cwd: string;
  /** This package's npm name (package.json), which npx needs outside a project that has axx installed. */
  packageName: string;
}

export function invokedAs({env, script, cwd, packageName}: Invocation): string {
  // A relaunched background run prints what its parent was invoked as.
  const given = env['AXX_ARGV0'];
  if (given !== undefined && given !== '') return given;
  // npm's variables reach every process below npm (`npm test` → vitest → axx): they tell how this axx
  // was started only when npm started this very script.
  const lifecycleScript = env['npm_lifecycle_script'] ?? '';
  if (env['npm_command'] === 'run-script' && env['npm_lifecycle_event'] !== undefined && lifecycleScript.includes(basename(script))) {
    return `npm run ${env['npm_lifecycle_event']} --`;
  }
  if (env['npm_command'] === 'exec' && /[\\/]node_modules[\\/]\.bin[\\/]/.test(script)) {
    // npx installed the package into its own cache: only the package name finds it again (the bare
    // command name `axx` would fetch an unrelated npm package). Within the clone it runs the clone's bin.
    const fromNpxCache = script.split(/[\\/]/).includes('_npx');
    return fromNpxCache && env['npm_package_name'] !== packageName ? `npx ${packageName}` : 'npx axx';
  }
  if (basename(script) === 'axx') {
    const onPath = (env['PATH'] ?? '').split(delimiter).includes(dirname(script));
    return onPath ? 'axx' : 'npx axx';
  }
  const path = relative(cwd, script);
  return `node ${path.startsWith('..') || path === '' ? script : path}`;
}

/** Shell-quotes argv for a command the user can paste. */
export function shellCommand(words: readonly string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_./=:,@+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** An axx command to print for pasting: the way axx was invoked (may be several words: "npx axx"), then the quoted arguments. */
export function axxCommand(io: CliIo, args: readonly string[]): string {
  return `${io.argv0} ${shellCommand(args)}`;
}
