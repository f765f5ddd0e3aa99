import {describe, expect, it} from 'vitest';
import {countElements, markupProblems} from '../../../test/support/markup.js';
import {lineChartSvg} from './line-chart.js';

const options = {title: 'loss <&> accuracy', xLabel: 'epoch', yLabel: 'value'};

describe('lineChartSvg', () => {
  it('draws each series as a polyline with one marker per point, ticks, axis labels and a legend', () => {
    const svg = lineChartSvg(
      [
        {name: 'train', points: [{x: 1, y: 0.5}, {x: 2, y: 0.3}, {x: 3, y: 0.2}]},
        {name: 'eval "held-out"', points: [{x: 1, y: 0.6}, {x: 3, y: 0.4}]},
      ],
      options,
    );
    expect(markupProblems(svg)).toEqual([]);
    expect(countElements(svg, 'polyline')).toBe(2);
    expect(countElements(svg, 'circle', 'point')).toBe(5);
    expect(countElements(svg, 'g', 'series')).toBe(2);
    expect(svg).toContain('loss &#60;&#38;&#62; accuracy');
    expect(svg).toContain('eval &#34;held-out&#34;');
    // x ticks cover 1..3, y ticks cover 0.2..0.6 (round values, first <= min, last >= max).
    const xTicks = [...svg.matchAll(/class="x-tick"[^>]*>([^<]*)</g)].map((m) => Number(m[1]));
    const yTicks = [...svg.matchAll(/class="y-tick"[^>]*>([^<]*)</g)].map((m) => Number(m[1]));
    expect(xTicks[0]).toBeLessThanOrEqual(1);
    expect(xTicks.at(-1)).toBeGreaterThanOrEqual(3);
    expect(yTicks[0]).toBeLessThanOrEqual(0.2);
    expect(yTicks.at(-1)).toBeGreaterThanOrEqual(0.6);
    expect(svg).toContain('>epoch</text>');
  });

  it('maps the data into the plot area: larger y is drawn higher', () => {
    const svg = lineChartSvg([{name: 's', points: [{x: 0, y: 0}, {x: 10, y: 1}]}], options);
    const [first, second] = [...svg.matchAll(/class="point" cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => ({x: Number(m[1]), y: Number(m[2])}));
    expect(second!.x).toBeGreaterThan(first!.x);
    expect(second!.y).toBeLessThan(first!.y);
  });

  it('is deterministic and survives degenerate input (one point, constant series, no series, non-finite values)', () => {
    const series = [{name: 'flat', points: [{x: 5, y: 2}, {x: 6, y: 2}, {x: 7, y: Number.NaN}]}];
    expect(lineChartSvg(series, options)).toBe(lineChartSvg(series, options));
    for (const input of [series, [{name: 'one', points: [{x: 1, y: 1}]}], []]) {
      const svg = lineChartSvg(input, options);
      expect(markupProblems(svg)).toEqual([]);
      expect(svg).not.toMatch(/NaN|Infinity/);
    }
  });

  it('leaves out markers on long series but keeps the line', () => {
    const points = Array.from({length: 500}, (_, i) => ({x: i, y: Math.sin(i / 20)}));
    const svg = lineChartSvg([{name: 'long', points}], options);
    expect(countElements(svg, 'circle', 'point')).toBe(0);
    expect(svg.match(/<polyline points="([^"]*)"/)![1]!.split(' ')).toHaveLength(500);
  });
});
