import {mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import type {AxxEvent} from './events.js';
import {inProcessExecutor} from './executor.js';
import {runPipeline, type RunOptions} from './run-pipeline.js';
import {loadPipeline} from './spec/load-pipeline.js';
import {StepError, type StepKind} from './step-kind.js';
import {Store} from './store/store.js';

/** A step that holds for `ms`, recording how many run at once. */
function sleeper(stats: {running: number; peak: number}): StepKind<{ms: number}> {
  return {
    name: 'test/sleep',
    version: 1,
    description: 'sleeps',
    schema: {type: 'object', properties: {ms: {type: 'integer'}}},
    outputs: {v: {type: 'value'}},
    async run(ctx) {
      stats.running++;
      stats.peak = Math.max(stats.peak, stats.running);
      await new Promise((r) => setTimeout(r, ctx.params.ms));
      stats.running--;
      return {v: {value: ctx.params.ms}};
    },
  };
}

/** Fails after saving a checkpoint unless a checkpoint exists; records what it resumed from. */
const resumable: StepKind<{n: number}> = {
  name: 'test/resumable',
  version: 1,
  description: 'checkpoints, then fails once',
  schema: {type: 'object', properties: {n: {type: 'integer'}}},
  outputs: {f: {type: 'file'}},
  async run(ctx) {
    const saved = await ctx.checkpoint.load();
    if (saved === undefined) {
      await ctx.checkpoint.save({epoch: 3}, {w: new Uint8Array([9])});
      throw new StepError('simulated crash after epoch 3', undefined, 'with.n');
    }
    ctx.metric('resumed-from', (saved.state as {epoch: number}).epoch);
    writeFileSync(join(ctx.scratchDir, 'f'), `resumed ${JSON.stringify(saved.state)} ${saved.files['w']![0]}`);
    return {f: {file: join(ctx.scratchDir, 'f')}};
  },
};

const broken: StepKind = {
  name: 'test/broken',
  version: 1,
  description: 'has a bug',
  schema: {type: 'object'},
  outputs: {},
  async run() {
    throw new TypeError('undefined is not a function');
  },
};

function setup(kinds: StepKind[], text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'axx-run-'));
  const loaded = loadPipeline(join(dir, 'p.yaml'), text, {kinds});
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
  const store = Store.open(join(dir, 'cache'));
  const events: AxxEvent[] = [];
  const options = (extra: Partial<RunOptions> = {}): RunOptions => ({
    store,
    executors: {'in-process': inProcessExecutor, 'child-process': inProcessExecutor},
    defaultExecutor: 'in-process',
    emit: (e) => events.push(e),
    hostEnvironment: {},
    signal: new AbortController().signal,
    concurrency: 4,
    budget: {cpu: 2},
    command: 'axx run p.yaml',
    retryBaseMs: 1,
    ...extra,
  });
  return {pipeline: loaded.value, store, events, options};
}

describe('runPipeline', () => {
  it('resource tokens keep heavy steps apart even with free queue slots', async () => {
    const stats = {running: 0, peak: 0};
    const heavy = setup([sleeper(stats)], 'steps:\n  a: {uses: test/sleep, resources: {cpu: 2}, with: {ms: 60}}\n  b: {uses: test/sleep, resources: {cpu: 2}, with: {ms: 61}}\n  c: {uses: test/sleep, resources: {cpu: 8}, with: {ms: 62}}\n');
    expect((await runPipeline(heavy.pipeline, heavy.options())).reason).toBe('passed');
    expect(stats.peak).toBe(1);
    const light = setup([sleeper(stats)], 'steps:\n  a: {uses: test/sleep, with: {ms: 60}}\n  b: {uses: test/sleep, with: {ms: 61}}\n');
    stats.peak = 0;
    await runPipeline(light.pipeline, light.options());
    expect(stats.peak).toBe(2);
  });

  it('emits the event sequence of a run, then of a cached re-run', async () => {
    const stats = {running: 0, peak: 0};
    const t = setup([sleeper(stats)], 'steps:\n  a: {uses: test/sleep, with: {ms: 1}}\n  b: {uses: test/sleep, needs: [a], with: {ms: 2}}\n');
    await runPipeline(t.pipeline, t.options());
    const first = t.events.map((e) => `${e.type}${'step' in e ? ` ${e.step.instance}` : ''}${e.type === 'step-end' ? ` ${e.outcome}` : ''}`);
    expect(first).toEqual(['run-start', 'step-queued a', 'step-start a', 'step-end a ran', 'step-queued b', 'step-start b', 'step-end b ran', 'run-end']);
    t.events.length = 0;
    const again = await runPipeline(t.pipeline, t.options());
    expect(again.counts).toEqual({ran: 0, cached: 2, failed: 0, skipped: 0, interrupted: 0});
    expect(again.results.get('b')!.outputs['v']).toMatchObject({type: 'value', value: 2});
  });

  it('a step resumes from its checkpoint after a failure; the slot is deleted on success', async () => {
    const t = setup([resumable], 'steps:\n  r: {uses: test/resumable, with: {n: 1}}\n');
    const failed = await runPipeline(t.pipeline, t.options());
    expect(failed.reason).toBe('failed');
    const failure = t.events.find((e) => e.type === 'failure');
    expect(failure).toMatchObject({failure: {reason: 'step-failed', message: 'simulated crash after epoch 3', diagnostic: {location: {line: 2, column: 39}}}});
    const passed = await runPipeline(t.pipeline, t.options());
    expect(passed.reason).toBe('passed');
    const path = t.store.cas.pathOf(passed.results.get('r')!.outputs['f'] as {type: 'file'; digest: string});
    expect((await import('node:fs')).readFileSync(path, 'utf8')).toBe('resumed {"epoch":3} 9');
    expect(t.store.db.prepare('SELECT COUNT(*) AS n FROM checkpoints').get()).toEqual({n: 0});
  });

  it('retries use the same checkpoint slot', async () => {
    const t = setup([resumable], 'steps:\n  r: {uses: test/resumable, retries: 1, with: {n: 2}}\n');
    const summary = await runPipeline(t.pipeline, t.options());
    expect(summary.reason).toBe('passed');
    expect(t.events.filter((e) => e.type === 'step-retry')).toHaveLength(1);
  });

  it('picks the executor: step executor: > --executor > the kind\'s preference > the default', async () => {
    const used: string[] = [];
    const recording = (name: string) => ({name, execute: async () => (used.push(name), {})});
    const kind = (name: string, executor?: 'child-process'): StepKind => ({name, version: 1, description: '', schema: {type: 'object'}, outputs: {}, ...(executor ? {executor} : {}), run: async () => ({})});
    const t = setup([kind('test/plain'), kind('test/native', 'child-process')], 'steps:\n  a: {uses: test/plain}\n  b: {uses: test/native}\n  c: {uses: test/native, executor: in-process, with: {n: 1}}\n');
    const executors = {'in-process': recording('in-process'), 'child-process': recording('child-process')};
    await runPipeline(t.pipeline, t.options({executors, concurrency: 1}));
    expect(used).toEqual(['in-process', 'child-process', 'in-process']);
    used.length = 0;
    await runPipeline(t.pipeline, t.options({executors, concurrency: 1, force: new Set(['a', 'b', 'c']), executorOverride: 'in-process'}));
    expect(used).toEqual(['in-process', 'in-process', 'in-process']);
  });

  it('two instances with the same key in one run compute it once', async () => {
    const stats = {running: 0, peak: 0};
    const t = setup([sleeper(stats)], 'steps:\n  a: {uses: test/sleep, with: {ms: 100}}\n  b: {uses: test/sleep, with: {ms: 100}}\n');
    const summary = await runPipeline(t.pipeline, t.options({leasePollMs: 10}));
    expect(summary.counts).toMatchObject({ran: 1, cached: 1});
    expect(stats.peak).toBe(1);
  });

  it('a value output that does not fit the parameter taking it fails that step, located', async () => {
    const stats = {running: 0, peak: 0};
    const fits = setup([sleeper(stats)], 'steps:\n  a: {uses: test/sleep, with: {ms: 1}}\n  b: {uses: test/sleep, with: {ms: "${{ steps.a.outputs.v }}"}}\n');
    expect((await runPipeline(fits.pipeline, fits.options())).reason).toBe('passed');
    const wrong = setup([sleeper(stats)], 'steps:\n  a: {uses: test/sleep, with: {ms: 1}}\n  b: {uses: test/sleep, with: {ms: "x${{ steps.a.outputs.v }}"}}\n');
    expect((await runPipeline(wrong.pipeline, wrong.options())).reason).toBe('failed');
    expect(wrong.events.find((e) => e.type === 'failure')).toMatchObject({failure: {reason: 'step-failed', message: expect.stringContaining('with.ms must be integer after resolving references (got "x1")'), diagnostic: {location: {line: 3}}}});
  });

  it("a 'path' output is stored as the file or directory the step returns, and reaches a 'path' input as such", async () => {
    // As a model is passed on: one file when small, a directory with its external data when large.
    const producer: StepKind<{big: boolean}> = {
      name: 'test/model',
      version: 1,
      description: 'a file or a directory',
      schema: {type: 'object', properties: {big: {type: 'boolean'}}},
      outputs: {model: {type: 'path', format: 'onnx'}},
      async run(ctx) {
        if (!ctx.params.big) {
          writeFileSync(join(ctx.scratchDir, 'model.onnx'), 'small');
          return {model: {file: join(ctx.scratchDir, 'model.onnx')}};
        }
        const dir = join(ctx.scratchDir, 'model');
        mkdirSync(dir);
        writeFileSync(join(dir, 'model.onnx'), 'graph');
        writeFileSync(join(dir, 'model.onnx.data'), 'weights');
        return {model: {dir}};
      },
    };
    const seen: Record<string, string> = {};
    const consumer = (input: 'path' | 'file'): StepKind<{model: string}> => ({
      name: `test/consume-${input}`,
      version: 1,
      description: 'records what it got',
      schema: {type: 'object', properties: {model: {type: 'string', 'x-axx-input': {type: input, format: 'onnx'}}}},
      outputs: {},
      async run(ctx) {
        seen[ctx.params.model] = statSync(ctx.params.model).isDirectory() ? readdirSync(ctx.params.model).sort().join(',') : 'file';
        return {};
      },
    });
    const kinds = [producer, consumer('path'), consumer('file')];
    const t = setup(kinds, 'steps:\n  s: {uses: test/model, with: {big: false}}\n  b: {uses: test/model, with: {big: true}}\n  cs: {uses: test/consume-path, with: {model: "${{ steps.s.outputs.model }}"}}\n  cb: {uses: test/consume-path, with: {model: "${{ steps.b.outputs.model }}"}}\n');
    expect((await runPipeline(t.pipeline, t.options())).reason).toBe('passed');
    expect(Object.values(seen).sort()).toEqual(['file', 'model.onnx,model.onnx.data']);

    const loaded = loadPipeline(join(tmpdir(), 'p.yaml'), 'steps:\n  b: {uses: test/model, with: {big: true}}\n  c: {uses: test/consume-file, with: {model: "${{ steps.b.outputs.model }}"}}\n', {kinds});
    expect(loaded.ok).toBe(false);
    expect(JSON.stringify(loaded)).toContain('expects a file (format \\"onnx\\") but ${{ steps.b.outputs.model }} is a file or dir (format \\"onnx\\")');
  });

  it('an exception that is not a StepError is an internal failure with the stack', async () => {
    const t = setup([broken], 'steps:\n  b: {uses: test/broken}\n');
    expect((await runPipeline(t.pipeline, t.options())).reason).toBe('failed');
    const failure = t.events.find((e) => e.type === 'failure');
    expect(failure).toMatchObject({failure: {reason: 'internal', step: {instance: 'b'}}});
    expect(JSON.stringify(failure)).toContain('TypeError: undefined is not a function');
  });
});
