import * as ort from 'onnxruntime-node';
import {describe, expect, it} from 'vitest';
import {foldConstants} from './fold.js';
import {
  consumers,
  insertAfter,
  NameGenerator,
  producers,
  removeUnused,
  replaceNode,
  replaceUses,
  setInitializer,
  sortNodes,
  topologicalOrder,
} from './graph.js';
import {DataType, type Graph, type Model, type Node} from './ir.js';
import {createSession} from './session.js';
import {floatTensor, int64Tensor} from './tensor.js';
import {modelOf} from '../../test/support/onnx-model.js';

function n(name: string, opType: string, inputs: string[], outputs: string[]): Node {
  return {name, opType, domain: '', inputs, outputs, attributes: []};
}

function graph(nodes: Node[]): Graph {
  return {
    name: 'g',
    nodes,
    initializers: [floatTensor('w', [1], [2])],
    inputs: [{name: 'x', elemType: DataType.FLOAT, shape: [1]}],
    outputs: [{name: 'y', elemType: DataType.FLOAT, shape: [1]}],
    valueInfo: [],
  };
}

const names = (nodes: Node[]) => nodes.map((node) => node.name);

describe('graph walking', () => {
  const a = n('a', 'Relu', ['x'], ['ax']);
  const b = n('b', 'Mul', ['ax', 'w'], ['bx']);
  const c = n('c', 'Add', ['ax', 'bx'], ['y']);

  it('maps producers and consumers', () => {
    const g = graph([a, b, c]);
    expect(producers(g).get('bx')).toBe(b);
    expect(producers(g).has('x')).toBe(false);
    expect(names(consumers(g).get('ax')!)).toEqual(['b', 'c']);
  });

  it('orders topologically, keeping an already sorted order', () => {
    expect(names(topologicalOrder(graph([a, b, c])))).toEqual(['a', 'b', 'c']);
    const unrelated = n('d', 'Neg', ['x'], ['dx']);
    const g = graph([c, unrelated, b, a]);
    sortNodes(g);
    expect(names(g.nodes)).toEqual(['d', 'a', 'b', 'c']);
  });

  it('reports a cycle by node', () => {
    const loop = graph([n('p', 'Relu', ['qx'], ['px']), n('q', 'Relu', ['px'], ['qx'])]);
    expect(() => topologicalOrder(loop)).toThrow(/cycle through node "p" \(Relu\)/);
  });

  it('generates names unused anywhere in the graph', () => {
    const gen = new NameGenerator(graph([a, b, c]));
    expect(gen.fresh('ax')).toBe('ax_1');
    expect(gen.fresh('ax')).toBe('ax_2');
    expect(gen.fresh('w')).toBe('w_1');
    expect(gen.fresh('new')).toBe('new');
    expect(gen.fresh('new')).toBe('new_1');
  });
});

describe('graph editing', () => {
  it('inserts a node after a value and reroutes its readers', async () => {
    const relu = n('relu', 'Relu', ['x'], ['r']);
    const g = graph([relu, n('out', 'Mul', ['r', 'w'], ['y'])]);
    const gen = new NameGenerator(g);
    const neg = gen.fresh('r_neg');
    const inserted = n(gen.fresh('neg'), 'Neg', ['r'], [neg]);
    insertAfter(g, relu, [inserted]);
    replaceUses(g, 'r', neg, new Set([inserted]));
    expect(g.nodes.map((node) => node.inputs)).toEqual([['x'], ['r'], ['r_neg', 'w']]);
    replaceNode(g, inserted, [n('abs', 'Abs', ['r'], [neg])]);
    setInitializer(g, floatTensor('w', [1], [-3]));
    expect(g.initializers).toHaveLength(1);
    using session = await createSession(modelOf(g));
    const out = await session.run({x: new ort.Tensor('float32', new Float32Array([-4]), [1])});
    expect(Array.from(out.y!.data as Float32Array)).toEqual([-0]);
  });

  it('removes dead nodes and initializers, keeping graph outputs', () => {
    const g = graph([n('live', 'Relu', ['x'], ['y']), n('dead1', 'Mul', ['x', 'w'], ['d1']), n('dead2', 'Neg', ['d1'], ['d2'])]);
    expect(removeUnused(g)).toBe(3);
    expect(names(g.nodes)).toEqual(['live']);
    expect(g.initializers).toEqual([]);
  });
});

describe('foldConstants', () => {
  it('replaces constant subgraphs by their onnxruntime-computed values', async () => {
    // y = x * (Transpose(W) reshaped via a Shape-free chain), plus a Constant node.
    const g: Graph = {
      name: 'fold',
      nodes: [
        {...n('const', 'Constant', [], ['two']), attributes: [{name: 'value', type: 'tensor', value: floatTensor('', [], [2])}]},
        {...n('tr', 'Transpose', ['W'], ['wt']), attributes: [{name: 'perm', type: 'ints', value: [1, 0]}]},
        n('rs', 'Reshape', ['wt', 'shape'], ['wr']),
        n('scale', 'Mul', ['wr', 'two'], ['ws']),
        n('use', 'Mul', ['x', 'ws'], ['y']),
        n('keep', 'Neg', ['two'], ['z']),
      ],
      initializers: [floatTensor('W', [2, 3], [1, 2, 3, 4, 5, 6]), int64Tensor('shape', [1], [6])],
      inputs: [{name: 'x', elemType: DataType.FLOAT, shape: [6]}],
      outputs: [
        {name: 'y', elemType: DataType.FLOAT, shape: [6]},
        {name: 'z', elemType: DataType.FLOAT, shape: []},
      ],
      valueInfo: [],
    };
    const model = modelOf(g);
    const x = new ort.Tensor('float32', new Float32Array([1, 1, 1, 1, 1, -1]), [6]);
    const before = await runOnce(model, x);
    expect(await foldConstants(model)).toBe(4);
    expect(names(g.nodes)).toEqual(['use', 'keep']);
    expect(g.initializers.map((t) => t.name).sort()).toEqual(['two', 'ws']);
    expect(Array.from(g.initializers.find((t) => t.name === 'ws')!.data as Float32Array)).toEqual([2, 8, 4, 10, 6, 12]);
    expect(await runOnce(model, x)).toEqual(before);
    expect(await foldConstants(model)).toBe(0);
  });
});

async function runOnce(model: Model, x: ort.Tensor): Promise<number[][]> {
  using session = await createSession(model);
  const out = await session.run({x});
  return session.outputNames.map((name) => Array.from(out[name]!.data as Float32Array));
}
