// Step kind "exec": runs a shell command with declared input and output files, like a DVC stage, so
// any external tool (a Python script, Yosys) can sit in a pipeline. Input contents are part of the
// cache key; the command runs in the step's scratch directory.
import {spawn} from 'node:child_process';
import {mkdir, stat} from 'node:fs/promises';
import {dirname, isAbsolute, join, normalize, resolve} from 'node:path';
import {StepError, type Json, type KeyContext, type OutputDecl, type OutputValue, type StepContext, type StepKind} from '../engine/step-kind.js';

export interface ExecParams {
  run: string;
  /** Paths (relative to the working directory) or references to other steps' file/dir outputs; a matrix reference gives a list. */
  inputs: (string | string[])[];
  outputs: Record<string, {path: string; type: 'file' | 'dir'}>;
  env: Record<string, string>;
}

const STDERR_TAIL_LINES = 20;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['run'],
  properties: {
    run: {type: 'string', minLength: 1, description: 'Shell command (/bin/sh -c), run in the scratch directory.'},
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
    env: {type: 'object', default: {}, additionalProperties: {type: 'string'}},
  },
};

function inputPaths(params: ExecParams): string[] {
  return params.inputs.flat().map((p) => resolve(p));
}

function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

function checkOutputPath(name: string, path: string): void {
  const normal = normalize(path);
  if (isAbsolute(path) || normal.startsWith('..')) {
    throw new StepError(`output "${name}" path "${path}" leaves the scratch directory`, 'give a relative path such as out/result.csv', `with.outputs.${name}.path`);
  }
}

/** Runs the command; resolves with the exit code and the last lines of stderr. */
function runShell(ctx: StepContext<ExecParams>, env: Record<string, string>): Promise<{code: number | null; signal: string | null; stderrTail: string[]}> {
  return new Promise((resolvePromise, reject) => {
    // Own process group, so an abort stops the whole command tree, not just the shell.
    const child = spawn('/bin/sh', ['-c', ctx.params.run], {cwd: ctx.scratchDir, env: {...process.env, ...env}, detached: true, stdio: ['ignore', 'pipe', 'pipe']});
    const tail: string[] = [];
    const forward = (stream: 'stdout' | 'stderr') => {
      let pending = '';
      return (chunk: Buffer): void => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          ctx.log(line, stream);
          if (stream === 'stderr') {
            tail.push(line);
            if (tail.length > STDERR_TAIL_LINES) tail.shift();
          }
        }
      };
    };
    child.stdout.on('data', forward('stdout'));
    child.stderr.on('data', forward('stderr'));
    const onAbort = (): void => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
    };
    ctx.signal.addEventListener('abort', onAbort, {once: true});
    child.on('error', (error) => {
      ctx.signal.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolvePromise({code, signal, stderrTail: tail});
    });
  });
}

export const exec: StepKind<ExecParams> = {
  name: 'exec',
  version: 1,
  description: 'Run a shell command with declared input files and output files/directories.',
  schema,
  outputs: {},
  outputsOf(params: ExecParams): Record<string, OutputDecl> {
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
    return {inputs};
  },
  async run(ctx: StepContext<ExecParams>): Promise<Record<string, OutputValue>> {
    const {params} = ctx;
    const env: Record<string, string> = {...params.env, AXX_SCRATCH: ctx.scratchDir};
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
      const info = await stat(path).catch(() => undefined);
      const type = output.type ?? 'file';
      if (info === undefined) {
        throw new StepError(`declared output "${name}" was not created: expected ${type} ${output.path} in the scratch directory`, `write it to $AXX_OUT_${envName(name)} (the command runs in the scratch directory)`, `with.outputs.${name}`);
      }
      if (type === 'dir' ? !info.isDirectory() : !info.isFile()) {
        throw new StepError(`declared output "${name}" at ${output.path} is not a ${type}`, `set with.outputs.${name}.type to "${info.isDirectory() ? 'dir' : 'file'}"`, `with.outputs.${name}.type`);
      }
      outputs[name] = type === 'dir' ? {dir: path} : {file: path};
    }
    return outputs;
  },
};
