// RTL generators for axx's generated multiplier families, keyed by `provenance.family.name` and fed
// `provenance.family.params`. Each must reproduce the library's table bit for bit; families.test.ts
// checks every one by exhaustive simulation against `resolveMultiplier(name).table`.
import {baseMatrix, matrixMultiplierRtl} from './matrix-multiplier.js';
import {MODULE_FOOTER, multiplierHeader, type RtlModule} from './rtl.js';
import {signMagnitudeRtl} from './sign-magnitude.js';
import {baughWooleyMatrix, emitMatrixSum, unsignedMatrix, type BitMatrix, type PartialProductBit} from './bit-matrix.js';

type Params = Readonly<Record<string, number | boolean>>;
type Generator = (name: string, signed: boolean, params: Params) => RtlModule;

const GENERATORS: Record<string, Generator> = {
  truncated,
  bam: brokenArray,
  perforated,
  'operand-truncation': operandTruncation,
  'operand-rounding': operandRounding,
  drum,
  mitchell,
};

/** RTL for a generated family, or undefined when axx has no generator for it. */
export function familyRtl(name: string, signed: boolean, family: {name: string; params: Params}): RtlModule | undefined {
  const generator = GENERATORS[family.name];
  return generator === undefined ? undefined : generator(name, signed, family.params);
}

export function supportedFamilies(): string[] {
  return Object.keys(GENERATORS);
}

function intParam(params: Params, key: string, family: string, fallback?: number): number {
  const value = params[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new Error(`family ${family}: parameter "${key}" must be an integer, got ${JSON.stringify(params[key])}`);
  }
  return value;
}

function editedMatrix(signed: boolean, keep: (bit: PartialProductBit) => boolean, extraConstant = 0n): BitMatrix {
  const matrix = baseMatrix(signed);
  return {...matrix, bits: matrix.bits.filter(keep), constant: matrix.constant + extraConstant};
}

/** Truncated multiplier: partial-product columns below k removed; optional correction constant added. */
function truncated(name: string, signed: boolean, params: Params): RtlModule {
  const k = intParam(params, 'k', 'truncated');
  const correction = params.correction === true ? truncationCorrection(signed, k) : 0n;
  const matrix = editedMatrix(signed, (bit) => bit.column >= k, correction);
  return matrixMultiplierRtl(name, signed, matrix, `truncated multiplier, columns < ${k} removed${correction === 0n ? '' : `, correction +${correction}`}`);
}

/**
 * Expected value of the removed bits under uniform operands, rounded: a partial-product bit is 1 with
 * probability 1/4, an inverted (Baugh-Wooley) one with 3/4.
 */
function truncationCorrection(signed: boolean, k: number): bigint {
  let expected = 0;
  for (const bit of baseMatrix(signed).bits) {
    if (bit.column < k) expected += (2 ** bit.column * (bit.expr.startsWith('~') ? 3 : 1)) / 4;
  }
  return BigInt(Math.round(expected));
}

/** Broken-array multiplier (Mahdiani et al.): rows below h and the carry-save cells right of column v omitted. */
function brokenArray(name: string, signed: boolean, params: Params): RtlModule {
  const h = intParam(params, 'h', 'bam');
  const v = intParam(params, 'v', 'bam');
  const matrix = editedMatrix(signed, (bit) => bit.i >= h && bit.column >= v);
  return matrixMultiplierRtl(name, signed, matrix, `broken-array multiplier, hbl ${h}, vbl ${v}`);
}

/** Partial-product perforation (Zervakis et al.): n consecutive partial products from row p skipped. */
function perforated(name: string, signed: boolean, params: Params): RtlModule {
  const p = intParam(params, 'p', 'perforated');
  const n = intParam(params, 'n', 'perforated');
  const matrix = editedMatrix(signed, (bit) => bit.i < p || bit.i >= p + n);
  return matrixMultiplierRtl(name, signed, matrix, `perforated multiplier, rows ${p}..${p + n - 1} skipped`);
}

/** Operand truncation: the k low bits of both operands set to 0 (two's complement: toward -inf), exact product. */
function operandTruncation(name: string, signed: boolean, params: Params): RtlModule {
  const k = intParam(params, 'k', 'operand-truncation');
  const truncate = (x: string): string => `  wire [7:0] ${x}_t = {${x}[7:${k}], ${k}'b0};`;
  return exactProductOf(name, signed, [truncate('a'), truncate('b')], 'a_t', 'b_t', `operand truncation, ${k} low operand bits set to 0`);
}

/**
 * Operand rounding: each operand rounded half-up to a multiple of 2^k, saturated at the largest multiple
 * the operand kind holds, then multiplied exactly (the rounded operands' zero low bits prune the array).
 */
function operandRounding(name: string, signed: boolean, params: Params): RtlModule {
  const k = intParam(params, 'k', 'operand-rounding');
  const largest = (signed ? 128 : 256) - 2 ** k;
  const round = (x: string): string[] => [
    `  wire signed [9:0] ${x}_wide = ${signed ? `{{2{${x}[7]}}, ${x}}` : `{2'b00, ${x}}`};`,
    `  wire signed [9:0] ${x}_up = ((${x}_wide + 10'sd${2 ** (k - 1)}) >>> ${k}) <<< ${k};`,
    `  wire [7:0] ${x}_r = (${x}_up > 10'sd${largest}) ? 8'd${largest} : ${x}_up[7:0];`,
  ];
  return exactProductOf(name, signed, [...round('a'), ...round('b')], 'a_r', 'b_r', `operand rounding to multiples of ${2 ** k}, exact product`);
}

/** The exact array applied to reduced operands (whose constant-zero low bits prune the array in synthesis). */
function exactProductOf(name: string, signed: boolean, reduce: string[], a: string, b: string, comment: string): RtlModule {
  const matrix = signed ? baughWooleyMatrix(a, b) : unsignedMatrix(a, b);
  const source = [multiplierHeader(name, 16, comment), ...reduce, emitMatrixSum(matrix, 'y'), MODULE_FOOTER].join('\n');
  return {name, source, outWidth: 16, signed};
}

/** Value-level families are unsigned algorithms; their signed forms wrap the core in sign-magnitude. */
function withSignMagnitude(name: string, signed: boolean, core: (coreName: string) => RtlModule, comment: string): RtlModule {
  return signed ? signMagnitudeRtl(name, core(`${name}_magnitude`), comment) : core(name);
}

/** Verilog function: position of the leading one of an 8-bit value (0 for 0). */
const LEADING_ONE = `  function [2:0] leading_one;
    input [7:0] x;
    integer i;
    begin
      leading_one = 3'd0;
      for (i = 0; i < 8; i = i + 1) if (x[i]) leading_one = i;
    end
  endfunction`;

/**
 * DRUM-k (Hashemi et al., ICCAD 2015): each operand keeps the k bits from its leading one, with the
 * lowest kept bit forced to 1 (unbiasing); the k×k product is shifted back. Operands below 2^k are exact.
 */
function drum(name: string, signed: boolean, params: Params): RtlModule {
  const k = intParam(params, 'k', 'drum');
  const core = (coreName: string): RtlModule => {
    const operand = (x: string): string[] => [
      `  wire [2:0] t${x} = leading_one(${x});`,
      `  wire big${x} = t${x} >= 3'd${k};`,
      `  wire [2:0] s${x} = big${x} ? t${x} - 3'd${k - 1} : 3'd0;`,
      `  wire [7:0] f${x} = big${x} ? ((${x} >> s${x}) | 8'd1) : ${x};`,
    ];
    const source = [
      multiplierHeader(coreName, 16, `DRUM-${k} unsigned core`),
      LEADING_ONE,
      ...operand('a'),
      ...operand('b'),
      `  wire [15:0] p = f${'a'}[${k - 1}:0] * f${'b'}[${k - 1}:0];`,
      "  assign y = p << ({1'b0, sa} + {1'b0, sb});",
      MODULE_FOOTER,
    ].join('\n');
    return {name: coreName, source, outWidth: 16, signed: false};
  };
  return withSignMagnitude(name, signed, core, `DRUM-${k}`);
}

/**
 * Mitchell's logarithmic multiplier (1962): log2 x ≈ t + f with t the leading-one position and f the
 * bits below it as a fraction (7 fractional bits); the antilog of the sum is taken the same way and the
 * result truncated to an integer.
 */
function mitchell(name: string, signed: boolean): RtlModule {
  const core = (coreName: string): RtlModule => {
    const source = [
      multiplierHeader(coreName, 16, 'Mitchell logarithmic multiplier, unsigned core'),
      LEADING_ONE,
      '  wire [2:0] ta = leading_one(a);',
      '  wire [2:0] tb = leading_one(b);',
      "  wire [6:0] fa = (a << (3'd7 - ta));",
      "  wire [6:0] fb = (b << (3'd7 - tb));",
      '  wire [7:0] fs = fa + fb;',
      '  wire [3:0] t = ta + tb;',
      // fs < 1.0: 2^t (1 + fs); otherwise 2^(t+1) fs, both with 7 fractional bits truncated away.
      "  wire [22:0] wide = fs[7] ? ({15'd0, fs} << (t + 4'd1)) : ({15'd0, 1'b1, fs[6:0]} << t);",
      "  assign y = (a == 8'd0 || b == 8'd0) ? 16'd0 : wide[22:7];",
      MODULE_FOOTER,
    ].join('\n');
    return {name: coreName, source, outWidth: 16, signed: false};
  };
  return withSignMagnitude(name, signed, core, 'Mitchell');
}
