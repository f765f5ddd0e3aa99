import {describe, expect, it} from 'vitest';
import {measureSensitivity, runSearch, type Assignment} from '../../approx/search/index.js';
import {syntheticInstance} from '../../approx/search/synthetic.js';
import {niceTicks} from './primitives.js';
import {searchPlotSvg} from './search-plot.js';
import {sensitivityHeatmapSvg} from './sensitivity-heatmap.js';

const instance = syntheticInstance({seed: 31});
const {problem} = instance;
const exactEverywhere = (): Assignment => Object.fromEntries(problem.layers.map((layer) => [layer.name, 'mul8s_1KV8']));
const evaluateCell = async (layer: string, multiplier: string) => {
  const drop = problem.baselineAccuracy - instance.accuracyOf({...exactEverywhere(), [layer]: multiplier});
  return {accuracy: problem.baselineAccuracy - drop, metrics: {kl: 3 * drop + 1e-4}};
};

describe('SVG output', () => {
  it('plots every point, the front, the threshold and the best point', async () => {
    const result = await runSearch(problem, {method: 'mcts', budget: 30, seed: 3});
    const svg = searchPlotSvg(result, {baselineAccuracy: problem.baselineAccuracy, maxAccuracyDrop: problem.maxAccuracyDrop});
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/class="point"/g)).toHaveLength(30);
    expect(svg.match(/<polyline class="pareto" points="([^"]+)"/)![1]!.split(' ')).toHaveLength(result.pareto.length);
    expect(svg).toContain('class="threshold"');
    expect(svg).toContain('class="best"');
    expect(svg).toContain('relative power');
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it('draws one heatmap cell per measured cell', async () => {
    const matrix = await measureSensitivity({layers: problem.layers, multipliers: problem.multipliers, baselineAccuracy: problem.baselineAccuracy, evaluateCell});
    const svg = sensitivityHeatmapSvg(matrix, {measure: 'kl'});
    expect(svg.match(/class="cell"/g)).toHaveLength(18);
    expect(svg).toContain('blocks.1.attn.proj');
    expect(svg).not.toMatch(/NaN|undefined/);
    expect(() => sensitivityHeatmapSvg(matrix, {measure: 'mse'})).toThrow(/no metric "mse"/);
  });
});

describe('niceTicks', () => {
  it('covers the range with round steps', () => {
    expect(niceTicks(0.57, 1)).toEqual([0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(niceTicks(0.9213, 0.97)).toEqual([0.92, 0.93, 0.94, 0.95, 0.96, 0.97]);
    expect(niceTicks(2, 2)).toEqual([2]);
  });
});
