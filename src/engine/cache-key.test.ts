import {describe, expect, it} from 'vitest';
import {cacheKey, KEY_SCHEMA_VERSION, keyChanges, type KeyParts} from './cache-key.js';
import {canonicalJson} from './canonical-json.js';

const base: KeyParts = {
  schema: KEY_SCHEMA_VERSION,
  kind: 'exec',
  kindVersion: 1,
  params: {run: 'make', env: {B: '2', A: '1'}},
  inputs: {'${{ steps.a.outputs.o }}': 'aa'},
  extras: null,
  environment: {onnxruntime: '1.30.0'},
};

describe('cache key', () => {
  it('canonical JSON sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({b: [{y: 1, x: 2}], a: undefined, c: 'é'})).toBe('{"b":[{"x":2,"y":1}],"c":"é"}');
    expect(() => canonicalJson({n: Number.NaN})).toThrow(/non-finite/);
  });

  it('does not depend on key order, and changes with any part', () => {
    const reordered: KeyParts = {...base, params: {env: {A: '1', B: '2'}, run: 'make'}};
    expect(cacheKey(reordered)).toBe(cacheKey(base));
    expect(cacheKey({...base, kindVersion: 2})).not.toBe(cacheKey(base));
    expect(cacheKey({...base, inputs: {'${{ steps.a.outputs.o }}': 'bb'}})).not.toBe(cacheKey(base));
    expect(cacheKey({...base, environment: {onnxruntime: '1.31.0'}})).not.toBe(cacheKey(base));
  });

  it('explains what changed', () => {
    expect(keyChanges(base, base)).toEqual([]);
    expect(keyChanges(base, {...base, kindVersion: 2, params: {run: 'make all', env: {A: '1', B: '2'}}})).toEqual(['exec implementation v1 → v2', 'with.run: "make" → "make all"']);
    expect(keyChanges(base, {...base, inputs: {'${{ steps.a.outputs.o }}': 'cc', '${{ steps.b.outputs.o }}': 'dd'}})).toEqual([
      'input ${{ steps.a.outputs.o }} content changed',
      'new input ${{ steps.b.outputs.o }}',
    ]);
    expect(keyChanges(base, {...base, environment: {onnxruntime: '1.31.0'}})).toEqual(['environment.onnxruntime: "1.30.0" → "1.31.0"']);
    // Extras hold digests of what the kind read (a declared variable's value among them): named, never shown.
    const extras = (token: string | null): KeyParts => ({...base, extras: {inputs: [], environment: {TOKEN: token, HOME: 'h'}}});
    expect(keyChanges(extras('d1'), extras('d2'))).toEqual(['extras.environment.TOKEN changed']);
  });
});
