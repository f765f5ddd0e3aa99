import {describe, expect, it} from 'vitest';
import {findCycles, topologicalOrder, withDependencies, withDependents} from './graph.js';

const deps = (entries: Record<string, string[]>) => new Map(Object.entries(entries));

describe('graph', () => {
  it('orders dependencies first, ties in input order', () => {
    expect(topologicalOrder(['d', 'c', 'b', 'a'], deps({d: ['b', 'c'], c: ['a'], b: ['a']}))).toEqual(['a', 'c', 'b', 'd']);
  });

  it('leaves nodes on cycles out of the order and reports each cycle', () => {
    const graph = deps({a: ['c'], b: ['a'], c: ['b'], d: []});
    expect(topologicalOrder(['a', 'b', 'c', 'd'], graph)).toEqual(['d']);
    expect(findCycles(['a', 'b', 'c', 'd'], graph)).toEqual([['a', 'c', 'b', 'a']]);
    expect(findCycles(['x'], deps({x: ['x']}))).toEqual([['x', 'x']]);
  });

  it('closes over dependencies and dependents', () => {
    const graph = deps({b: ['a'], c: ['b'], d: ['a']});
    expect([...withDependencies(['c'], graph)].sort()).toEqual(['a', 'b', 'c']);
    expect([...withDependents(['b'], graph)].sort()).toEqual(['b', 'c']);
  });
});
