// Step kind "exec": runs a shell command with declared input and output files, like a DVC stage, so
// any external tool (a Python script, Yosys) can sit in a pipeline. Input contents are part of the
// cache key; the command runs in the step's scratch directory. It sees only the environment it
// declares (plus a few basics that locate tools and the user), so the key covers what it reads.
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {lstat, mkdir, readdir, realpath} from 'node:fs/promises';
import {dirname, isAbsolute, join, normalize, relative, resolve, sep} from 'node:path';
import {StepError, type HostEnvironment, type Json, type KeyContext, type OutputDecl, type OutputValue, type StepContext, type StepKind} from '../engine/step-kind.js';

export interface ExecParams {
  run: string;
  /** Paths (relative to the working directory) or references to other steps' file/dir outputs; a matrix reference gives a list. */
  inputs: (string | string[])[];
  outputs: Record<string, {path: string; type: 'file' | 'dir'}>;
  /** Names of variables of axx's own environment the command gets; their values are part of the cache key. */
  env: string[];
  /** Variables with fixed values (parameters, so part of the cache key); they win over `env` and the basics. */
  vars: Record<string, string>;
}

/**
 * Passed to every command without being declared, and not keyed: they locate tools, the user and the
 * locale, and differ between machines and accounts, so keying them would defeat a shared cache. A
 * command whose results depend on one lists it in `env:`, which keys it.
 */
const BASIC_VARIABLES = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'TZ', 'LANG', 'LC_ALL', 'LC_CTYPE', 'LC_COLLATE', 'LC_NUMERIC'] as const;

/** A variable name a command may be given; AXX_* are axx's own (inputs, outputs, scratch directory). */
const VARIABLE_NAME = '^(?!AXX_)[A-Za-z_][A-Za-z0-9_]*$';

const STDERR_TAIL_LINES = 20;
/** A line longer than this (output without newlines) is logged in pieces of this size, so memory stays bounded. */
const MAX_LINE_CHARS = 64 * 1024;
/** After SIGTERM, how long the command's process group has to exit before SIGKILL. */
const KILL_GRACE_MS = 5_000;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['run'],
  properties: {
    run: {
      type: 'string',
      minLength: 1,
      'x-axx-shell': true,
      description: 'Shell command (/bin/sh -c), run in the scratch directory. A ${{ }} reference inside it becomes one single-quoted word (README "Passing values to a shell command").',
    },
    inputs: {
      type: 'array',
      default: [],
      description: 'Files or directories the command reads; their contents are part of the cache key.',
      items: {
        anyOf: [{type: 'string', minLength: 1}, {type: 'array', items: {type: 'string'}}],
        'x-axx-input': {type: 'path'},
      },
    },
    outputs: {
      type: 'object',
      default: {},
      propertyNames: {pattern: '^[A-Za-z_][A-Za-z0-9_-]*$'},
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['path'],
        properties: {
          path: {type: 'string', minLength: 1, description: 'Relative to the scratch directory.'},
          type: {enum: ['file', 'dir'], default: 'file'},
        },
      },
    },
    env: {
      type: 'array',
      default: [],
      uniqueItems: true,
      items: {type: 'string', pattern: VARIABLE_NAME},
      description: 'Variables of axx\'s environment the command gets besides PATH, HOME, locale (README "exec"); keyed by value digest. Fixed values: vars.',
      'x-axx-hint': 'env lists names of variables to pass through, e.g. env: [HF_TOKEN]; fixed values, the map env: took before exec v2, go in vars: {NAME: "value"}',
    },
    vars: {
      type: 'object',
      default: {},
      propertyNames: {pattern: VARIABLE_NAME},
      additionalProperties: {type: 'string'},
      description: 'Variables with fixed values, e.g. {SEED: "1"}; they win over env and the basics.',
    },
  },
};

/** The basics and the declared variables that are set where axx runs, with their values. */
function passedVariables(params: ExecParams, host: HostEnvironment): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const name of [...BASIC_VARIABLES, ...params.env]) {
    const value = host[name];
    if (value !== undefined) passed[name] = value;
  }
  return passed;
}

/** What the key holds of a declared variable: a digest, so a secret's value is never stored or printed; null when unset. */
function variableDigest(name: string, value: string | undefined): string | null {
  return value === undefined ? null : createHash('sha256').update(`axx/exec-env\0${name}\0${value}`).digest('hex');
}

function inputPaths(params: ExecParams): string[] {
  return params.inputs.flat().map((p) => resolve(p));
}

function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

function checkOutputPath(name: string, path: string): void {
  const normal = normalize(path);
  if (isAbsolute(path) || normal === '..' || normal.startsWith(`..${sep}`) || normal === '.') {
    throw new StepError(`output "${name}" path "${path}" leaves the scratch directory`, 'give a relative path inside it, such as out/result.csv', `with.outputs.${name}.path`);
  }
}

/**
 * Refuses an output that is, or lies behind, or (for a directory) contains a symbolic link: the store
 * moves outputs in, and a link would make it move (or share) a file outside the scratch directory.
 */
async function checkNoLinks(name: string, scratchDir: string, path: string): Promise<void> {
  const refuse = (link: string): never => {
    throw new StepError(
      `declared output "${name}" goes through the symbolic link ${relative(scratchDir, link)}; axx stores only regular files and directories made in the scratch directory`,
      'copy the files instead of linking them (cp -L), so axx never moves or changes files outside its scratch directory',
      `with.outputs.${name}`,
    );
  };
  let current = scratchDir;
  for (const part of relative(scratchDir, path).split(sep)) {
    current = join(current, part);
    if ((await lstat(current)).isSymbolicLink()) refuse(current);
  }
  if (!(await realpath(path)).startsWith((await realpath(scratchDir)) + sep)) refuse(path);
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, {withFileTypes: true})) {
      if (entry.isSymbolicLink()) refuse(join(dir, entry.name));
      if (entry.isDirectory()) await walk(join(dir, entry.name));
    }
  };
  if ((await lstat(path)).isDirectory()) await walk(path);
}

/** Splits a stream into lines for the step log, one log call per chunk read; a partial last line is kept until close. */
function lineLogger(emit: (lines: string[]) => void): {write(chunk: Buffer): void; end(): void} {
  let pending = '';
  return {
    write(chunk) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      while (pending.length > MAX_LINE_CHARS) {
        lines.push(pending.slice(0, MAX_LINE_CHARS));
        pending = pending.slice(MAX_LINE_CHARS);
      }
      if (lines.length > 0) emit(lines);
    },
    end() {
      if (pending !== '') emit([pending]);
      pending = '';
    },
  };
}

/** SIGTERM to the command's whole process group, then SIGKILL to what is left after the grace period. */
function stopGroup(pid: number, exited: Promise<unknown>): void {
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
  timer.unref();
  void exited.then(() => {
    clearTimeout(timer);
    // Children that outlived the shell still get the kill.
    signalGroup('SIGKILL');
  });
}

/**
 * Stops the command's process group should this process die without doing so itself (kill -9, a crash): a
 * shell in its own group blocks reading a pipe from us, which the kernel closes when we die. `release` ends it
 * once the command has ended. A group outlives its leader only as long as a member lives, so a late signal
 * reaches no one else.
 */
function guardGroup(pid: number): {release(): void} {
  const seconds = KILL_GRACE_MS / 1000;
  const guard = spawn('/bin/sh', ['-c', `read line || { kill -TERM -${pid}; sleep ${seconds}; kill -KILL -${pid}; } 2>/dev/null`], {detached: true, stdio: ['pipe', 'ignore', 'ignore']});
  // Neither the guard nor its pipe may keep this process alive.
  guard.unref();
  guard.on('error', () => undefined);
  guard.stdin.on('error', () => undefined);
  (guard.stdin as unknown as {unref(): void}).unref();
  return {release: () => guard.stdin.end('ended\n')};
}

/** Runs the command; resolves with the exit code and the last lines of stderr. */
function runShell(ctx: StepContext<ExecParams>, env: Record<string, string>): Promise<{code: number | null; signal: string | null; stderrTail: string[]}> {
  return new Promise((resolvePromise, reject) => {
    // Own process group, so an abort stops the whole command tree, not just the shell.
    const child = spawn('/bin/sh', ['-c', ctx.params.run], {cwd: ctx.scratchDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe']});
    const exited = new Promise((done) => child.on('close', done));
    const guard = child.pid === undefined ? undefined : guardGroup(child.pid);
    void exited.then(() => guard?.release());
    const tail: string[] = [];
    const stdout = lineLogger((lines) => ctx.log(lines.join('\n'), 'stdout'));
    const stderr = lineLogger((lines) => {
      ctx.log(lines.join('\n'), 'stderr');
      tail.push(...lines);
      tail.splice(0, Math.max(0, tail.length - STDERR_TAIL_LINES));
    });
    child.stdout.on('data', (chunk: Buffer) => stdout.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.write(chunk));
    const onAbort = (): void => {
      if (child.pid !== undefined) stopGroup(child.pid, exited);
    };
    ctx.signal.addEventListener('abort', onAbort, {once: true});
    child.on('error', (error) => {
      ctx.signal.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', onAbort);
      stdout.end();
      stderr.end();
      resolvePromise({code, signal, stderrTail: tail});
    });
  });
}

export const exec: StepKind<ExecParams> = {
  name: 'exec',
  version: 2,
  description: 'Run a shell command with declared input files and output files/directories.',
  schema,
  outputs: {},
  // A hung command must not hold a run forever; a step's `timeout:` raises it.
  timeout: 6 * 3600,
  outputsOf(params: ExecParams): Record<string, OutputDecl> {
    // Checked here too, so `axx validate` rejects an escaping path before anything runs.
    for (const [name, output] of Object.entries(params.outputs ?? {})) checkOutputPath(name, output.path);
    return Object.fromEntries(Object.entries(params.outputs ?? {}).map(([name, o]) => [name, {type: o.type ?? 'file'}]));
  },
  async keyExtras(params: ExecParams, key: KeyContext): Promise<Json> {
    const inputs: Json[] = [];
    for (const path of inputPaths(params)) {
      try {
        const {type, digest} = await key.digest(path);
        inputs.push({type, digest});
      } catch {
        throw new StepError(`input not found: ${path}`, 'exec inputs are paths relative to the directory axx runs in, or ${{ steps.<id>.outputs.<name> }}', 'with.inputs');
      }
    }
    const environment = Object.fromEntries(params.env.map((name) => [name, variableDigest(name, key.hostEnvironment[name])]));
    return {inputs, environment};
  },
  async run(ctx: StepContext<ExecParams>): Promise<Record<string, OutputValue>> {
    const {params} = ctx;
    const env: Record<string, string> = {...passedVariables(params, ctx.hostEnvironment), ...params.vars, AXX_SCRATCH: ctx.scratchDir};
    const inputs = inputPaths(params);
    inputs.forEach((path, i) => (env[`AXX_IN_${i}`] = path));
    env['AXX_INPUTS'] = inputs.join('\n');
    for (const [name, output] of Object.entries(params.outputs)) {
      checkOutputPath(name, output.path);
      const path = join(ctx.scratchDir, output.path);
      await mkdir(dirname(path), {recursive: true});
      env[`AXX_OUT_${envName(name)}`] = path;
    }
    const result = await runShell(ctx, env);
    if (ctx.signal.aborted) throw new StepError('command interrupted');
    if (result.code !== 0) {
      const how = result.code === null ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
      const tail = result.stderrTail.length > 0 ? `\n${result.stderrTail.join('\n')}` : ' (no stderr output)';
      throw new StepError(`command ${how}${tail}`, 'the lines above are the end of its stderr; the full log is in "axx show <step>"', 'with.run');
    }
    const outputs: Record<string, OutputValue> = {};
    for (const [name, output] of Object.entries(params.outputs)) {
      const path = join(ctx.scratchDir, output.path);
      const info = await lstat(path).catch(() => undefined);
      const type = output.type ?? 'file';
      if (info === undefined) {
        throw new StepError(`declared output "${name}" was not created: expected ${type} ${output.path} in the scratch directory`, `write it to $AXX_OUT_${envName(name)} (the command runs in the scratch directory)`, `with.outputs.${name}`);
      }
      if (type === 'dir' ? !info.isDirectory() : !info.isFile()) {
        await checkNoLinks(name, ctx.scratchDir, path);
        throw new StepError(`declared output "${name}" at ${output.path} is not a ${type}`, `set with.outputs.${name}.type to "${info.isDirectory() ? 'dir' : 'file'}"`, `with.outputs.${name}.type`);
      }
      await checkNoLinks(name, ctx.scratchDir, path);
      outputs[name] = type === 'dir' ? {dir: path} : {file: path};
    }
    return outputs;
  },
};
