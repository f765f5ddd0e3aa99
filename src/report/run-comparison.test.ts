import {describe, expect, it} from 'vitest';
import {compareRuns, comparisonCsv, comparisonText, type RunSnapshot} from './run-comparison.js';

function run(id: string, params: Record<string, unknown>, metrics: {name: string; value: number; x: number | null}[], extraStep = false): RunSnapshot {
  return {
    id,
    name: 'quickstart',
    status: 'passed',
    startedAt: Date.UTC(2026, 0, 1, 12, 0, 0),
    params: {budget: params['budget'] as number},
    endedAt: Date.UTC(2026, 0, 1, 12, 0, 30),
    steps: [
      {instance: 'search', kind: 'search', state: 'ran', params: params as never, metrics},
      ...(extraStep ? [{instance: 'report', kind: 'report', state: 'ran', params: {title: 'a, "quoted" title'}, metrics: []}] : []),
    ],
  };
}

describe('compareRuns', () => {
  const a = run('aaaa1111', {budget: 64, method: 'mcts', reward: {alpha: 1}, layers: ['qkv', 'fc1']}, [
    {name: 'loss', value: 0.5, x: 1},
    {name: 'loss', value: 0.25, x: 2},
    {name: 'best', value: 0.7, x: null},
  ]);
  const b = run('bbbb2222', {budget: 128, method: 'mcts', reward: {alpha: 1}, layers: ['qkv']}, [{name: 'loss', value: 0.2, x: 1}], true);
  const comparison = compareRuns([a, b]);
  const row = (key: string) => comparison.rows.find((r) => r.key === key);

  it('puts flattened params and the final value of each metric side by side, marking differences', () => {
    expect(row('search.budget')).toEqual({kind: 'param', key: 'search.budget', values: [64, 128], differs: true});
    // Pipeline params come first.
    expect(comparison.rows.find((r) => r.kind === 'param')).toEqual({kind: 'param', key: 'params.budget', values: [64, 128], differs: true});
    expect(row('search.method')).toMatchObject({values: ['mcts', 'mcts'], differs: false});
    expect(row('search.reward.alpha')).toMatchObject({values: [1, 1], differs: false});
    expect(row('search.layers[1]')).toMatchObject({values: ['fc1', null], differs: true});
    expect(row('search.loss')).toEqual({kind: 'metric', key: 'search.loss', values: [0.25, 0.2], differs: true});
    expect(row('search.best')).toMatchObject({values: [0.7, null]});
    // A step only the second run has still gets its rows.
    expect(row('report.title')).toMatchObject({values: [null, 'a, "quoted" title']});
    expect(row('report.state')).toMatchObject({kind: 'run', values: [null, 'ran']});
    expect(row('seconds')).toMatchObject({values: [30, 30], differs: false});
  });

  it('renders an aligned text table with one column per run', () => {
    const lines = comparisonText(comparison).split('\n');
    expect(lines[0]).toMatch(/^\s+aaaa1111\s+bbbb2222$/);
    expect(lines.find((l) => l.includes('param search.budget'))).toMatch(/^\* param search\.budget\s+64\s+128$/);
    expect(lines.find((l) => l.includes('param search.method'))).toMatch(/^ {2}param search\.method\s+mcts\s+mcts$/);
    expect(lines.find((l) => l.includes('metric search.best'))).toMatch(/0\.7\s+–$/);
    // Right-aligned value columns: every line ends at the same column.
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  it('writes RFC 4180 CSV (quoted commas and quotes, empty for missing)', () => {
    const csv = comparisonCsv(comparison);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('kind,key,differs,aaaa1111,bbbb2222');
    expect(lines).toContain('param,search.budget,true,64,128');
    expect(lines).toContain('param,report.title,true,,"a, ""quoted"" title"');
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  it('marks nothing as differing for a single run', () => {
    const single = compareRuns([a]);
    expect(single.rows.every((r) => !r.differs)).toBe(true);
    expect(comparisonText(single)).not.toContain('*');
  });});

describe('compareRuns with evaluations', () => {
  it('shows each top-1 with its 95% Wilson interval and sample count', () => {
    const evaluated = (id: string, top1: number): RunSnapshot => ({
      id,
      name: 'q',
      status: 'passed',
      startedAt: 0,
      endedAt: 1000,
      steps: [{instance: 'eval', kind: 'evaluate', state: 'ran', params: {}, metrics: [{name: 'top1', value: top1, x: null}], accuracy: {top1, count: 1000}}],
    });
    const comparison = compareRuns([evaluated('a', 0.98), evaluated('b', 0.97)]);
    expect(comparison.rows.find((r) => r.key === 'eval.top1 95% interval')).toEqual({
      kind: 'metric',
      key: 'eval.top1 95% interval',
      values: ['96.93–98.70% (n=1000)', '95.75–97.89% (n=1000)'],
      differs: true,
    });
  });
});

