import {describe, expect, it} from 'vitest';
import {countVarints, ProtoReader, ProtoWriter} from './protobuf.js';

describe('protobuf varints', () => {
  const values = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -2, -(2 ** 31), -(2 ** 32) - 5, -(2 ** 53 - 1)];

  it('round-trips signed 64-bit integers, negatives as ten-byte varints', () => {
    const w = new ProtoWriter();
    for (const v of values) w.int64(v);
    const bytes = w.finish();
    const r = new ProtoReader(bytes);
    expect(values.map(() => r.int64())).toEqual(values);
    expect(r.done).toBe(true);
    expect(countVarints(bytes, 0, bytes.length)).toBe(values.length);
    expect(Array.from(new ProtoWriter().int64(-1).finish())).toEqual([255, 255, 255, 255, 255, 255, 255, 255, 255, 1]);
  });

  it('exposes 64-bit values as unsigned halves', () => {
    const r = new ProtoReader(new ProtoWriter().varint64(0xdeadbeef, 0xfffffffe).finish());
    r.varint64();
    expect([r.lo, r.hi]).toEqual([0xdeadbeef, 0xfffffffe]);
  });

  it('rejects unsafe integers and truncated input', () => {
    expect(() => new ProtoWriter().int64(2 ** 60)).toThrow(/not a safe integer/);
    expect(() => new ProtoReader(new Uint8Array([0x80, 0x80])).int64()).toThrow(/truncated/);
    expect(() => new ProtoReader(new Uint8Array([0x0a, 5, 1])).span()).toThrow(/truncated/);
  });

  it('keeps large byte fields by reference until finish()', () => {
    const big = new Uint8Array(5000).map((_, i) => i & 0xff);
    const bytes = new ProtoWriter().bytesField(1, big).bytesField(2, big.subarray(0, 3)).finish();
    const r = new ProtoReader(bytes);
    expect(r.tag()).toEqual({field: 1, wire: 2});
    expect(r.bytesView()).toEqual(big);
    expect(r.tag()).toEqual({field: 2, wire: 2});
    expect(Array.from(r.bytesView())).toEqual([0, 1, 2]);
  });
});
