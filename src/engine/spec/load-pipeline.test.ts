import {describe, expect, it} from 'vitest';
import type {StepKind} from '../step-kind.js';
import {loadDiagnostics, loadPipeline, type LoadResult} from './load-pipeline.js';
import type {ParamOverride} from './param-overrides.js';

const produce: StepKind = {
  name: 'test/produce',
  version: 1,
  description: 'makes a model file and a value',
  schema: {type: 'object', additionalProperties: false, properties: {size: {type: 'integer', default: 4}, tag: {type: 'string'}}},
  outputs: {model: {type: 'file', format: 'onnx'}, stats: {type: 'value', format: 'stats'}},
  run: async () => ({}),
};

const consume: StepKind = {
  name: 'test/consume',
  version: 1,
  description: 'reads a model or many',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      model: {type: 'string', 'x-axx-input': {type: 'file', format: 'onnx'}},
      models: {type: 'array', items: {type: 'string', 'x-axx-input': {type: 'file', format: 'onnx'}}},
      factor: {type: 'number'},
    },
  },
  outputs: {out: {type: 'value'}},
  run: async () => ({}),
};

function load(text: string, overrides: ParamOverride[] = []): LoadResult {
  return loadPipeline('/p/pipe.yaml', text, {kinds: [produce, consume], overrides});
}

function ok(result: LoadResult) {
  if (!result.ok) throw new Error(loadDiagnostics(result.error).map((d) => `${d.location?.line}:${d.location?.column} ${d.message}`).join('\n'));
  return result.value;
}

describe('loadPipeline', () => {
  it('applies schema defaults, substitutes params with their types, and names the pipeline after the file', () => {
    const p = ok(load('params: {f: 0.5}\nsteps:\n  a: {uses: test/produce}\n  b: {uses: test/consume, with: {factor: "${{ params.f }}", model: "${{ steps.a.outputs.model }}"}}\n'));
    expect(p.name).toBe('pipe');
    expect(p.instances.get('a')!.with).toEqual({size: 4});
    expect(p.instances.get('b')!.with).toEqual({factor: 0.5, model: '${{ steps.a.outputs.model }}'});
    expect(p.instances.get('b')!.upstream).toEqual(['a']);
  });

  it('expands a matrix in declaration order with readable instance names', () => {
    const p = ok(load('steps:\n  s:\n    uses: test/produce\n    matrix: {size: [8, 16], tag: [x, y]}\n    with: {size: "${{ matrix.size }}", tag: "t-${{ matrix.tag }}"}\n'));
    expect([...p.instances.keys()]).toEqual(['s[size=8,tag=x]', 's[size=8,tag=y]', 's[size=16,tag=x]', 's[size=16,tag=y]']);
    expect(p.instances.get('s[size=16,tag=y]')!.with).toEqual({size: 16, tag: 't-y'});
  });

  it('a reference to a matrix step gives all instances, or the matching one when the consumer fixes its keys', () => {
    const text = `steps:
  s: {uses: test/produce, matrix: {size: [1, 2]}, with: {size: "\${{ matrix.size }}"}}
  all: {uses: test/consume, with: {models: "\${{ steps.s.outputs.model }}"}}
  each: {uses: test/consume, matrix: {size: [2]}, with: {model: "\${{ steps.s.outputs.model }}"}}
`;
    const p = ok(load(text));
    expect(p.instances.get('all')!.upstream).toEqual(['s[size=1]', 's[size=2]']);
    expect(p.instances.get('each[size=2]')!.upstream).toEqual(['s[size=2]']);
  });

  it('checks output types, formats and lists against x-axx-input', () => {
    const result = load(`steps:
  a: {uses: test/produce}
  s: {uses: test/produce, matrix: {size: [1, 2]}, with: {size: "\${{ matrix.size }}"}}
  b: {uses: test/consume, with: {model: "\${{ steps.a.outputs.stats }}"}}
  c: {uses: test/consume, with: {model: "\${{ steps.s.outputs.model }}"}}
  d: {uses: test/consume, with: {factor: "\${{ steps.a.outputs.stats }}"}}
`);
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : loadDiagnostics(result.error).map((d) => `${d.location!.line}: ${d.message}`);
    expect(messages).toEqual([
      '4: step "b": with.model expects a file (format "onnx") but ${{ steps.a.outputs.stats }} is a value (format "stats")',
      '5: step "c": ${{ steps.s.outputs.model }} gives a list (one per instance of matrix step "s"), but with.model takes one',
    ]);
  });

  it('reports every problem at once, sorted by position', () => {
    const result = load('steps:\n  a: {uses: nope}\n  b: {uses: test/produce, with: {size: x, extra: 1}}\n  c: {uses: test/consume, needs: [zz]}\n');
    expect(result.ok ? [] : loadDiagnostics(result.error).map((d) => `${d.location!.line}:${d.location!.column}`)).toEqual(['2:13', '3:40', '3:43', '4:35']);
  });

  it('applies overrides and rejects unknown names and wrong types', () => {
    const text = 'params: {n: 1, name: a}\nsteps:\n  a: {uses: test/produce, with: {size: "${{ params.n }}"}}\n';
    expect(ok(load(text, [{name: 'n', value: 7, origin: '-p n=7'}])).instances.get('a')!.with).toEqual({size: 7});
    const bad = load(text, [
      {name: 'm', value: 7, origin: '-p m=7'},
      {name: 'n', value: 'seven', origin: '-p n=seven'},
    ]);
    expect(bad.ok ? [] : loadDiagnostics(bad.error).map((d) => d.message)).toEqual([
      '-p m=7: the pipeline has no param "m"',
      '-p n=seven: param "n" is a number (default 1), got a string',
    ]);
  });

  it('a kind schema error at a step-output reference is left to the type check', () => {
    // factor is a number; a reference is a string until run time, so no schema error here.
    const p = ok(load('steps:\n  a: {uses: test/produce}\n  b: {uses: test/consume, with: {factor: "${{ steps.a.outputs.stats }}"}}\n'));
    expect(p.instances.size).toBe(2);
  });

  it('expands a 1000-instance matrix quickly', () => {
    const values = Array.from({length: 1000}, (_, i) => i);
    const started = performance.now();
    const p = ok(load(`steps:\n  s: {uses: test/produce, matrix: {size: ${JSON.stringify(values)}}, with: {size: "\${{ matrix.size }}"}}\n  all: {uses: test/consume, with: {models: "\${{ steps.s.outputs.model }}"}}\n`));
    expect(p.instances.size).toBe(1001);
    expect(p.instances.get('all')!.upstream).toHaveLength(1000);
    expect(performance.now() - started).toBeLessThan(10_000); // loose: CI machines are busy; bench/engine.bench.ts measures it
  });
});

describe('hostile pipeline files', () => {
  const messages = (result: LoadResult): string => (result.ok ? 'accepted' : loadDiagnostics(result.error).map((d) => `${d.location?.line}: ${d.message}`).join('\n'));

  it('refuses a 300×300 matrix at once, naming the limit and how to raise it', () => {
    const values = (prefix: string) => `[${Array.from({length: 300}, (_, i) => `${prefix}${i}`).join(', ')}]`;
    const result = load(`steps:\n  a:\n    uses: test/produce\n    matrix:\n      x: ${values('x')}\n      y: ${values('y')}\n    with: {tag: "\${{ matrix.x }}"}\n`);
    expect(messages(result)).toMatch(/^4: step "a": the matrix expands to 90000 instances \(x: 300 × y: 300\), more than the limit of 2000/);
    expect(result.ok || loadDiagnostics(result.error)[0]!.hint).toMatch(/AXX_MAX_INSTANCES=90000/);
    // Counted, never expanded: 300^4 instances could not be built in memory, so only a count refuses them.
    const huge = load(`steps:\n  a:\n    uses: test/produce\n    matrix:\n      w: ${values('w')}\n      x: ${values('x')}\n      y: ${values('y')}\n      z: ${values('z')}\n    with: {tag: "\${{ matrix.x }}"}\n`);
    expect(messages(huge)).toMatch(/the matrix expands to 8100000000 instances/);
  });

  it('refuses an alias bomb, deep nesting and numbers that are not finite', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdef'.split('').map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcde'[i]}`).join(', ')}]`), 'steps: {}'].join('\n');
    expect(messages(load(bomb))).toMatch(/expands more than 100 aliases/);
    expect(messages(load(`params: {deep: ${'['.repeat(100)}${']'.repeat(100)}}\nsteps: {a: {uses: test/produce}}`))).toMatch(/nested more than 64 levels deep/);
    expect(messages(load('params: {big: 1e400}\nsteps: {a: {uses: test/produce}}'))).toMatch(/^1: numbers must be finite/);
    expect(messages(load('steps: {a: {uses: test/consume, with: {factor: .inf}}}'))).toMatch(/^1: numbers must be finite/);
  });
});
