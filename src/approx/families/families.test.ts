// Every generated family against an independent model: array edits as "exact product minus the dropped
// partial-product bits" (explicit bits, native multiplication for the exact part), DRUM on binary strings,
// Mitchell in floating point, operand reduction on values.
import {describe, expect, it} from 'vitest';
import {listMultipliers, resolveMultiplier} from '../library.js';
import {operandValue} from '../multiplier.js';

type Model = (a: number, b: number) => number;

/** First entry where the table and the model differ, or undefined. */
function firstMismatch(name: string, model: Model): string | undefined {
  const m = resolveMultiplier(name);
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      const expected = model(operandValue(m.signed, a), operandValue(m.signed, b));
      const got = m.table[a * 256 + b];
      if (got !== expected) return `${name} a=${operandValue(m.signed, a)} b=${operandValue(m.signed, b)}: table ${got}, model ${expected}`;
    }
  }
  return undefined;
}

const wrap16 = (signed: boolean, v: number): number => {
  const word = ((v % 65536) + 65536) % 65536;
  return signed && word >= 32768 ? word - 65536 : word;
};

/** Exact product minus the dropped bits; a signed bit pairing one sign bit counts as (1 − bit), as Baugh-Wooley sums it. */
function droppedBitsModel(signed: boolean, dropped: (i: number, j: number) => boolean, constant = 0): Model {
  return (va, vb) => {
    const a = va & 0xff;
    const b = vb & 0xff;
    let removed = 0;
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        if (!dropped(i, j)) continue;
        const bit = (a >> j) & (b >> i) & 1;
        const inverted = signed && (i === 7) !== (j === 7);
        removed += (inverted ? 1 - bit : bit) * 2 ** (i + j);
      }
    }
    return wrap16(signed, va * vb - removed + constant);
  };
}

const KINDS = [
  ['s', true],
  ['u', false],
] as const;

describe.each(KINDS)('array families, 8%s', (kind, signed) => {
  it.each([1, 3, 4, 6, 8])('trunc k=%i', (k) => {
    expect(firstMismatch(`trunc8${kind}_k${k}`, droppedBitsModel(signed, (i, j) => i + j < k))).toBeUndefined();
  });

  it('trunc with correction constant adds the rounded expected value of the removed bits', () => {
    // Unsigned: column c holds c+1 bits, each 1 with probability 1/4: Σ_{c<4} (c+1)·2^c/4 = 12.25.
    expect(firstMismatch(`trunc8${kind}_k4c`, droppedBitsModel(signed, (i, j) => i + j < 4, 12))).toBeUndefined();
    // k=8: 448.25 unsigned; signed, column 7's two sign-pairing bits are 1 with probability 3/4: +128.
    expect(firstMismatch(`trunc8${kind}_k8c`, droppedBitsModel(signed, (i, j) => i + j < 8, signed ? 576 : 448))).toBeUndefined();
  });

  it.each([
    [2, 6],
    [0, 4],
    [4, 8],
  ])('bam h=%i v=%i', (h, v) => {
    expect(firstMismatch(`bam8${kind}_h${h}_v${v}`, droppedBitsModel(signed, (i, j) => i < h || i + j < v))).toBeUndefined();
  });

  it.each([
    [0, 2],
    [2, 2],
    [7, 1],
  ])('perf p=%i n=%i', (p, n) => {
    expect(firstMismatch(`perf8${kind}_p${p}_n${n}`, droppedBitsModel(signed, (i) => i >= p && i < p + n))).toBeUndefined();
  });

});

it('signed truncation at k=4 is EvoApprox’s mul8s_1KX2, bit for bit (a published cross-check of the Baugh-Wooley form)', () => {
  expect(resolveMultiplier('trunc8s_k4').id).toBe(resolveMultiplier('mul8s_1KX2').id);
});

describe('operand truncation', () => {
  it.each([1, 3, 7])('k=%i: unsigned drops the rows and columns of the low bits; signed floors the values', (k) => {
    expect(firstMismatch(`otrunc8u_k${k}`, droppedBitsModel(false, (i, j) => i < k || j < k))).toBeUndefined();
    const floor = (v: number): number => Math.floor(v / 2 ** k) * 2 ** k;
    expect(firstMismatch(`otrunc8s_k${k}`, (a, b) => floor(a) * floor(b))).toBeUndefined();
  });
});

describe('operand rounding', () => {
  it('rounds half up to multiples of 2^k, saturating at the largest multiple', () => {
    const u = resolveMultiplier('oround8u_k2').table;
    expect(u[5 * 256 + 6]).toBe(4 * 8); // 5 -> 4, 6 -> 8
    expect(u[255 * 256 + 1]).toBe(252 * 0); // 255 -> 252 (saturated), 1 -> 0
    expect(u[254 * 256 + 2]).toBe(252 * 4);
    const s = resolveMultiplier('oround8s_k2').table;
    expect(s[0xfe * 256 + 0xfd]).toBe(0); // -2 -> 0, -3 -> -4
    expect(s[0xfa * 256 + 0xfd]).toBe(-4 * -4); // -6 -> -4 (half up), -3 -> -4
    expect(s[127 * 256 + 0x80]).toBe(124 * -128);
  });
});

/** DRUM on binary strings: keep k leading bits, set the last kept one, shift back. */
function drumOperand(x: number, k: number): number {
  const bits = x.toString(2);
  if (bits.length <= k) return x;
  const kept = bits.slice(0, k - 1) + '1';
  return parseInt(kept, 2) * 2 ** (bits.length - k);
}

/** Mitchell in floating point: log2 x ≈ t + (x / 2^t − 1), antilog 2^⌊L⌋·(1 + frac L). */
function mitchellModel(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  const log = (x: number): number => {
    const t = Math.floor(Math.log2(x));
    return t + (x / 2 ** t - 1);
  };
  const sum = log(a) + log(b);
  const t = Math.floor(sum);
  return Math.floor(2 ** t * (1 + (sum - t)));
}

const signMagnitude =
  (core: Model): Model =>
  (a, b) =>
    wrap16(true, Math.sign(a) * Math.sign(b) * core(Math.abs(a), Math.abs(b)));

describe('value-level families', () => {
  it.each([2, 3, 4, 6, 7])('drum k=%i, unsigned and sign-magnitude signed', (k) => {
    const core: Model = (a, b) => drumOperand(a, k) * drumOperand(b, k);
    expect(firstMismatch(`drum8u_k${k}`, core)).toBeUndefined();
    expect(firstMismatch(`drum8s_k${k}`, signMagnitude(core))).toBeUndefined();
  });

  it('drum matches the DRUM paper’s operand reduction on an example', () => {
    expect(drumOperand(0b10110110, 4)).toBe(0b1011 * 16); // 1011|0110 -> 101(1) shifted by 4
    expect(resolveMultiplier('drum8u_k4').table[0b10110110 * 256 + 9]).toBe(0b1011 * 16 * 9);
  });

  it('mitchell, unsigned and sign-magnitude signed', () => {
    expect(firstMismatch('mitchell8u', mitchellModel)).toBeUndefined();
    expect(firstMismatch('mitchell8s', signMagnitude(mitchellModel))).toBeUndefined();
    expect(resolveMultiplier('mitchell8u').table[192 * 256 + 192]).toBe(32768); // exact 36864: Mitchell's worst case
  });
});

describe('generated names', () => {
  it('carry family and parameters for RTL generation, and a citation', () => {
    const m = resolveMultiplier('bam8s_h2_v6');
    expect(m.provenance).toMatchObject({source: 'generated', family: {name: 'bam', params: {h: 2, v: 6}}});
    expect(m.provenance.citation).toMatch(/Mahdiani/);
    expect(resolveMultiplier('trunc8u_k4c').provenance.family).toEqual({name: 'truncated', params: {k: 4, correction: true}});
    expect(resolveMultiplier('drum8s_k4').provenance.description).toMatch(/sign-magnitude/);
  });

  it('are listed in both operand kinds for every RTL-backed family', () => {
    const generated = listMultipliers().filter((m) => m.provenance.source === 'generated');
    const kinds = new Set(generated.map((m) => `${m.provenance.family?.name}/${m.signed}`));
    expect(kinds).toEqual(new Set(['truncated', 'bam', 'perforated', 'drum', 'mitchell'].flatMap((f) => [`${f}/true`, `${f}/false`])));
  });

  it.each([
    ['trunc8s_k9', /k must be between 1 and 8, got 9/],
    ['bam8u_h2', /expected bam8<s\|u>_h<int>_v<int>, e\.g\. bam8u_h2_v6/],
    ['perf8u_p6_n3', /n must be between 1 and 2, got 3/],
    ['drum8u_k4c', /expected drum8<s\|u>_k<int>/],
    ['mitchell8u_k2', /expected mitchell8<s\|u>/],
  ])('%s is rejected with the grammar or range', (name, message) => {
    expect(() => resolveMultiplier(name)).toThrow(message);
  });
});

describe('sign-magnitude wrapper (sm8s_<unsigned circuit>)', () => {
  it('multiplies magnitudes with the unsigned circuit and applies the sign outside', () => {
    const core = resolveMultiplier('mul8u_2AC');
    expect(firstMismatch('sm8s_mul8u_2AC', (a, b) => Math.sign(a) * Math.sign(b) * core.table[Math.abs(a) * 256 + Math.abs(b)]!)).toBeUndefined();
    const m = resolveMultiplier('sm8s_mul8u_2AC');
    expect(m).toMatchObject({signed: true, provenance: {source: 'wrapper', description: expect.stringMatching(/^sign-magnitude wrapper around the unsigned mul8u_2AC/)}});
    expect(m.hardware).toMatchObject({powerMw: core.hardware.powerMw, technology: 'PDK45 (45 nm), unsigned core only'});
  });

  it('is what the signed DRUM and Mitchell variants are, and is exact around the exact circuit', () => {
    expect(resolveMultiplier('sm8s_drum8u_k4').id).toBe(resolveMultiplier('drum8s_k4').id);
    expect(resolveMultiplier('sm8s_mitchell8u').id).toBe(resolveMultiplier('mitchell8s').id);
    expect(resolveMultiplier('sm8s_exact8u').id).toBe(resolveMultiplier('exact8s').id);
  });

  it('refuses signed cores', () => {
    expect(() => resolveMultiplier('sm8s_mul8s_1L2H')).toThrow(/mul8s_1L2H takes signed operands already/);
    expect(() => resolveMultiplier('sm8s_nope')).toThrow(/unknown multiplier "nope"/);
  });
});
