import {describe, expect, it} from 'vitest';
import {InMemoryEvaluationStore} from './memo.js';
import {runSearch} from './search.js';
import {measureSensitivity, predictedDrops} from './sensitivity.js';
import {syntheticInstance} from './synthetic.js';
import type {Assignment} from './types.js';

const instance = syntheticInstance({seed: 31});
const {problem} = instance;
const exactEverywhere = (): Assignment => Object.fromEntries(problem.layers.map((layer) => [layer.name, 'mul8s_1KV8']));

function cellEvaluator(calls: string[]) {
  return async (layer: string, multiplier: string) => {
    calls.push(`${layer}:${multiplier}`);
    const drop = problem.baselineAccuracy - instance.accuracyOf({...exactEverywhere(), [layer]: multiplier});
    // A smooth proxy roughly proportional to the drop, as logit KL would be.
    return {accuracy: problem.baselineAccuracy - drop, metrics: {kl: 3 * drop + 1e-4}};
  };
}

describe('measureSensitivity', () => {
  it('evaluates every layer × approximate candidate once, reports progress, and memoises cells', async () => {
    const calls: string[] = [];
    const progress: number[] = [];
    const store = new InMemoryEvaluationStore();
    const memo = {store, scope: {modelId: 'vit', subsetId: 'val-500'}};
    const matrix = await measureSensitivity({
      layers: problem.layers,
      multipliers: problem.multipliers,
      baselineAccuracy: problem.baselineAccuracy,
      evaluateCell: cellEvaluator(calls),
      memo,
      parallel: 3,
      onProgress: (done, total) => progress.push(done / total),
    });
    expect(matrix.cells).toHaveLength(6 * 3); // the exact circuit has no cell
    expect(calls).toHaveLength(18);
    expect(progress.at(-1)).toBe(1);
    expect(matrix.cells[0]).toMatchObject({layer: 'blocks.0.attn.qkv', multiplier: 'mul8s_1L2H'});
    for (const cell of matrix.cells) {
      expect(cell.drop).toBeCloseTo(problem.baselineAccuracy - instance.accuracyOf({...exactEverywhere(), [cell.layer]: cell.multiplier}), 12);
    }

    // Again: all from the store.
    const again = await measureSensitivity({layers: problem.layers, multipliers: problem.multipliers, baselineAccuracy: problem.baselineAccuracy, evaluateCell: cellEvaluator(calls), memo});
    expect(calls).toHaveLength(18);
    expect(again.storeHits).toBe(18);
    expect(again.cells).toEqual(matrix.cells);

    // Search shares the cells: greedy's first configuration changes one layer only.
    const searchCalls: Assignment[] = [];
    const greedy = await runSearch({...problem, evaluate: async (a, s) => (searchCalls.push(a), problem.evaluate(a, s))}, {method: 'greedy', budget: 1, seed: 1, memo});
    expect(greedy.storeHits).toBe(1);
    expect(searchCalls).toHaveLength(0);
  });

  it('turns a proxy into drops by a fitted scale, and explains a missing metric', async () => {
    const matrix = await measureSensitivity({layers: problem.layers, multipliers: problem.multipliers, baselineAccuracy: problem.baselineAccuracy, evaluateCell: cellEvaluator([])});
    const fromDrop = predictedDrops(matrix);
    const fromKl = predictedDrops(matrix, 'kl');
    for (const cell of matrix.cells) {
      expect(fromDrop[cell.layer]![cell.multiplier]).toBe(cell.drop);
      expect(fromKl[cell.layer]![cell.multiplier]).toBeCloseTo(cell.drop, 3);
    }
    expect(() => predictedDrops(matrix, 'mse')).toThrow(/has no metric "mse"; use "drop" or one of: kl/);
  });
});
