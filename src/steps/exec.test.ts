import {keyContext, NO_TASKS} from '../../test/support/step-context.js';
import {processesGone} from '../../test/support/processes.js';
import {mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {loadDiagnostics, loadPipeline} from '../engine/spec/load-pipeline.js';
import {StepError, type HostEnvironment, type KeyContext, type StepContext} from '../engine/step-kind.js';
import {exec, type ExecParams} from './exec.js';

const host = {PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/home/someone', SECRET_TOKEN: 's3cret-value', UNDECLARED: 'not for the command'};

function context(params: Partial<ExecParams>, signal = new AbortController().signal, hostEnvironment: HostEnvironment = host): StepContext<ExecParams> & {logs: string[]} {
  const logs: string[] = [];
  return {
    params: {run: 'true', inputs: [], outputs: {}, env: [], vars: {}, ...params},
    scratchDir: mkdtempSync(join(tmpdir(), 'axx-exec-')),
    progress: () => undefined,
    log: (text, stream = 'stdout') => logs.push(`${stream}: ${text}`),
    metric: () => undefined,
    checkpoint: {save: async () => undefined, load: async () => undefined, discard: async () => undefined},
    signal,
    hostEnvironment,
    resources: {cpu: 1},
    tasks: NO_TASKS,
    logs,
  };
}

describe('exec kind', () => {
  it('runs in the scratch dir with input/output paths in the environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axx-exec-in-'));
    writeFileSync(join(dir, 'in.txt'), 'abc');
    const ctx = context({
      run: 'cat "$AXX_IN_0" > "$AXX_OUT_RESULT_FILE"; mkdir -p tree && echo $GREETING > tree/x; echo done',
      inputs: [join(dir, 'in.txt')],
      outputs: {'result-file': {path: 'out/r.txt', type: 'file'}, tree: {path: 'tree', type: 'dir'}},
      vars: {GREETING: 'hi'},
    });
    const outputs = await exec.run(ctx);
    expect(outputs).toEqual({'result-file': {file: join(ctx.scratchDir, 'out/r.txt')}, tree: {dir: join(ctx.scratchDir, 'tree')}});
    expect(readFileSync(join(ctx.scratchDir, 'out/r.txt'), 'utf8')).toBe('abc');
    expect(readFileSync(join(ctx.scratchDir, 'tree/x'), 'utf8')).toBe('hi\n');
    expect(ctx.logs).toEqual(['stdout: done']);
  });

  it('keys on input contents (files and directories), not on their timestamps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axx-exec-key-'));
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'a'), '1');
    writeFileSync(join(dir, 'f'), 'x');
    const params = {run: 'true', inputs: [join(dir, 'f'), [join(dir, 'd')]], outputs: {}, env: [], vars: {}};
    const before = await exec.keyExtras!(params, keyContext);
    utimesSync(join(dir, 'f'), new Date(2000, 1, 1), new Date(2000, 1, 1));
    expect(await exec.keyExtras!(params, keyContext)).toEqual(before);
    writeFileSync(join(dir, 'd', 'a'), '2');
    expect(await exec.keyExtras!(params, keyContext)).not.toEqual(before);
  });

  it('fails with the stderr tail, a missing output, an escaping path or a missing input', async () => {
    await expect(exec.run(context({run: 'echo one >&2; echo two >&2; exit 4'}))).rejects.toThrow(/exited with code 4\none\ntwo/);
    await expect(exec.run(context({outputs: {o: {path: 'o.txt', type: 'file'}}}))).rejects.toThrow(/declared output "o" was not created/);
    await expect(exec.run(context({run: 'mkdir o', outputs: {o: {path: 'o', type: 'file'}}}))).rejects.toThrow(/is not a file/);
    await expect(exec.run(context({outputs: {o: {path: '../o', type: 'file'}}}))).rejects.toThrow(/leaves the scratch directory/);
    const missing = exec.keyExtras!({run: 'true', inputs: ['/nonexistent/x'], outputs: {}, env: [], vars: {}}, keyContext);
    await expect(missing).rejects.toBeInstanceOf(StepError);
  });

  it('stops the whole command tree on abort', async () => {
    const controller = new AbortController();
    // A duration no other process uses, to find any sleep the abort left behind.
    const marker = `sleep 30.${process.pid}`;
    const running = exec.run(context({run: `${marker} & ${marker}; wait`}, controller.signal));
    setTimeout(() => controller.abort(), 200);
    await expect(running).rejects.toThrow(/interrupted/);
    expect(await processesGone(marker), 'a sleep of the command tree outlived the abort').toBe(true);
  });
});

describe('exec output', () => {
  it('keeps a last line without a newline, on stdout and in the failure message', async () => {
    const ctx = context({run: 'printf "a\\nb"; printf "oops" >&2; exit 3'});
    await expect(exec.run(ctx)).rejects.toThrow(/exited with code 3\noops/);
    const stream = (name: string): string => ctx.logs.filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2)).join('\n');
    expect([stream('stdout'), stream('stderr')]).toEqual(['a\nb', 'oops']);
  });

  it('logs output without newlines in bounded pieces', async () => {
    const ctx = context({run: 'head -c 300000 /dev/zero | tr "\\0" x'});
    await exec.run(ctx);
    const pieces = ctx.logs.flatMap((l) => l.slice('stdout: '.length).split('\n'));
    expect(pieces.join('')).toHaveLength(300_000);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(64 * 1024);
  });
});

describe('exec environment', () => {
  const params = (env: string[]): ExecParams => ({run: 'true', inputs: [], outputs: {}, env, vars: {}});
  const keyIn = (hostEnvironment: HostEnvironment): KeyContext => ({...keyContext, hostEnvironment});

  it('gives the command the basics, the declared variables and vars, nothing else of the host', async () => {
    const ctx = context({run: 'env | sort', env: ['SECRET_TOKEN', 'NOT_SET'], vars: {SEED: '7', HOME: '/fixed'}});
    await exec.run(ctx);
    const names = ctx.logs.join('\n').replace(/^stdout: /, '').split('\n').map((line) => line.split('=')[0]);
    expect(names.filter((name) => !name!.startsWith('AXX_') && name !== 'PWD' && name !== 'SHLVL' && name !== '_')).toEqual(['HOME', 'PATH', 'SECRET_TOKEN', 'SEED']);
    expect(ctx.logs.join('\n')).toContain('HOME=/fixed');
  });

  it('keys on the values of declared variables only, never holding a value', async () => {
    const before = await exec.keyExtras!(params(['SECRET_TOKEN']), keyIn(host));
    expect(JSON.stringify(before)).not.toContain('s3cret');
    expect(await exec.keyExtras!(params(['SECRET_TOKEN']), keyIn({...host, UNDECLARED: 'changed', HOME: '/elsewhere'}))).toEqual(before);
    expect(await exec.keyExtras!(params(['SECRET_TOKEN']), keyIn({...host, SECRET_TOKEN: 'rotated'}))).not.toEqual(before);
    const {SECRET_TOKEN: _unset, ...withoutToken} = host;
    expect(await exec.keyExtras!(params(['SECRET_TOKEN']), keyIn(withoutToken))).toEqual({inputs: [], environment: {SECRET_TOKEN: null}});
  });

  it('rejects the old env map (fixed values moved to vars) and axx\'s own AXX_ names', () => {
    const load = (withText: string) => loadPipeline('/p.yaml', `steps:\n  s:\n    uses: exec\n    with: {run: "true", ${withText}}\n`, {kinds: [exec]});
    const old = load('env: {A: "b"}');
    expect(old.ok).toBe(false);
    expect(old.ok || loadDiagnostics(old.error)[0]).toMatchObject({message: expect.stringMatching(/with\.env must be array, got object/), hint: expect.stringMatching(/fixed values, the map env: took before exec v2, go in vars:/)});
    expect(load('vars: {AXX_OUT_X: "y"}').ok).toBe(false);
    expect(load('env: [TOKEN], vars: {A: "b"}').ok).toBe(true);
  });
});
