import {describe, expect, it} from 'vitest';
import type {Json} from '../step-kind.js';
import {referenceSites, substitute, type Reference} from './references.js';

const values: Record<string, Json> = {n: 3, list: [1, 2], obj: {a: 1}, s: 'text'};
const resolve = (ref: Reference): Json | undefined => (ref.scope === 'params' ? values[ref.name] : undefined);

describe('references', () => {
  it('a whole-string reference keeps the value type', () => {
    expect(substitute('${{ params.n }}', resolve)).toBe(3);
    expect(substitute('${{params.list}}', resolve)).toEqual([1, 2]);
    expect(substitute({x: ['${{ params.obj }}']}, resolve)).toEqual({x: [{a: 1}]});
  });

  it('references inside a longer string interpolate as text (JSON for lists and objects)', () => {
    expect(substitute('n=${{ params.n }} l=${{ params.list }} s=${{ params.s }}', resolve)).toBe('n=3 l=[1,2] s=text');
  });

  it('unresolved references stay as written', () => {
    expect(substitute('${{ steps.a.outputs.b }}', resolve)).toBe('${{ steps.a.outputs.b }}');
    expect(substitute('x ${{ matrix.k }}', resolve)).toBe('x ${{ matrix.k }}');
  });

  it('finds every reference with its path and whether it is whole', () => {
    const sites = referenceSites({a: ['${{ steps.s.outputs.o }}'], b: 'x ${{ params.n }} ${{ bad }}'});
    expect(sites.map((s) => ({path: s.path, ok: s.expression.ok, whole: s.whole}))).toEqual([
      {path: ['a', 0], ok: true, whole: true},
      {path: ['b'], ok: true, whole: false},
      {path: ['b'], ok: false, whole: false},
    ]);
  });
});
