import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {inProcessExecutor} from '../executor.js';
import {runPipeline} from '../run-pipeline.js';
import {loadPipeline} from '../spec/load-pipeline.js';
import type {StepKind} from '../step-kind.js';
import {compareRuns} from './run-compare.js';
import {Store} from './store.js';

const scorer: StepKind<{x: number}> = {
  name: 'test/score',
  version: 1,
  description: 'reports a metric',
  schema: {type: 'object', properties: {x: {type: 'number'}}},
  outputs: {},
  async run(ctx) {
    ctx.metric('acc', 0.5, 0);
    ctx.metric('acc', ctx.params.x / 10, 1);
    return {};
  },
};

describe('compareRuns', () => {
  it('shows the differing params and final metrics, taking cached steps\' metrics from the run that computed them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axx-compare-'));
    using store = Store.open(join(dir, 'cache'));
    const text = 'params: {x: 1, fixed: a}\nsteps:\n  s: {uses: test/score, with: {x: "${{ params.x }}"}}\n';
    const runWith = async (x: number): Promise<void> => {
      const loaded = loadPipeline(join(dir, 'p.yaml'), text, {kinds: [scorer], overrides: [{name: 'x', value: x, origin: '-p'}]});
      if (!loaded.ok) throw new Error('invalid');
      const options = {store, executors: {'in-process': inProcessExecutor, 'child-process': inProcessExecutor}, defaultExecutor: 'in-process' as const};
      await runPipeline(loaded.value, {...options, emit: () => undefined, signal: new AbortController().signal, concurrency: 1, budget: {cpu: 1}, command: 'axx run p.yaml'});
    };
    await runWith(7);
    await runWith(9);
    await runWith(7); // cached
    const table = compareRuns(store, store.runs.list(10));
    expect(table.params).toEqual(['x']);
    expect(table.metrics).toEqual(['s.acc']);
    expect(table.rows.map((r) => [r.params['x'], r.metrics['s.acc']])).toEqual([
      [7, 0.7],
      [9, 0.9],
      [7, 0.7],
    ]);
  });
});
