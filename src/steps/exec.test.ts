import {keyContext} from '../../test/support/step-context.js';
import {processesGone} from '../../test/support/processes.js';
import {mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {StepError, type StepContext} from '../engine/step-kind.js';
import {exec, type ExecParams} from './exec.js';

function context(params: Partial<ExecParams>, signal = new AbortController().signal): StepContext<ExecParams> & {logs: string[]} {
  const logs: string[] = [];
  return {
    params: {run: 'true', inputs: [], outputs: {}, env: {}, ...params},
    scratchDir: mkdtempSync(join(tmpdir(), 'axx-exec-')),
    progress: () => undefined,
    log: (text, stream = 'stdout') => logs.push(`${stream}: ${text}`),
    metric: () => undefined,
    checkpoint: {save: async () => undefined, load: async () => undefined},
    signal,
    resources: {cpu: 1},
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
      env: {GREETING: 'hi'},
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
    const params = {run: 'true', inputs: [join(dir, 'f'), [join(dir, 'd')]], outputs: {}, env: {}};
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
    const missing = exec.keyExtras!({run: 'true', inputs: ['/nonexistent/x'], outputs: {}, env: {}}, keyContext);
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
