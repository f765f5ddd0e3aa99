// Shared by the engine e2e tests: an in-memory CliIo, temp project dirs, and spawning the real CLI.
import {spawn, type ChildProcess} from 'node:child_process';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Writable} from 'node:stream';
import type {CliIo} from '../../src/cli/command.js';
import {removeTree} from '../../src/engine/store/cas.js';
import {ensureDist} from '../support/build-dist.js';

export interface CapturedIo extends CliIo {
  stdoutText(): string;
  stderrText(): string;
}

function sink(chunks: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
}

export function captureIo(cwd: string, env: Record<string, string> = {}, signal = new AbortController().signal): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {stdout: sink(out), stderr: sink(err), env, cwd, signal, argv0: 'axx', stdoutText: () => out.join(''), stderrText: () => err.join('')};
}

const projects: string[] = [];

/** A temp project: a package.json (so the cache lands in <dir>/cache) and the given files. */
export function tempProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'axx-e2e-'));
  projects.push(dir);
  writeFileSync(join(dir, 'package.json'), '{"name": "axx-e2e-project", "private": true}\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const bin = join(import.meta.dirname, '..', '..', 'bin', 'axx.js');

/** The real CLI as a child process (for kill -9 and concurrent runs). */
export function spawnAxx(args: string[], cwd: string): ChildProcess & {output: () => string} {
  ensureDist();
  const child = spawn(process.execPath, [bin, ...args], {cwd, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, AXX_CACHE: ''}});
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return Object.assign(child, {output: () => text});
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

/** Removes every temp project (their caches hold read-only trees). Call from afterAll. */
export async function removeProjects(): Promise<void> {
  for (const dir of projects.splice(0)) await removeTree(dir);
}
