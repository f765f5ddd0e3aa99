import {describe, expect, it} from 'vitest';
import {summariseFields, summariseJson} from './json-summary.js';

describe('summariseJson', () => {
  it('keeps short values as JSON', () => {
    expect(summariseJson({a: 1, b: [1, 2]})).toBe('{"a":1,"b":[1,2]}');
  });

  it('summarises long lists, objects and strings on one short line', () => {
    const points = Array.from({length: 150}, (_, i) => ({accuracy: 0.9, relativePower: i / 150, assignment: {a: 'mul8s_1KV8', b: 'mul8s_1L2H'}}));
    const list = summariseJson(points);
    expect(list).toMatch(/^\[150 items, first \{/);
    expect(list.length).toBeLessThanOrEqual(110);
    const wide = Object.fromEntries(Array.from({length: 40}, (_, i) => [`layer${i}`, i]));
    expect(summariseJson(wide)).toMatch(/^\{layer0, layer1, .*, … \(40 keys\)\}$/);
    expect(summariseJson('x'.repeat(500))).toMatch(/… \(500 chars\)$/);
  });

  it('lists an object field per line', () => {
    const lines = summariseFields({points: Array.from({length: 300}, (_, i) => i), best: {accuracy: 0.97}, method: 'mcts'}, '    ');
    expect(lines).toEqual(['    points: [300 items, first 0]', '    best: {"accuracy":0.97}', '    method: "mcts"']);
  });
});
