import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, test} from 'vitest';
import {missingTools, testTools} from '../../../test/support/hw-test-tools.js';
import {runTool} from '../run-tool.js';
import {macArrayRtl, validateTemplate} from './mac-array.js';
import {exactMultiplierRtl} from './matrix-multiplier.js';
import type {RtlModule} from './rtl.js';

const signedByte = (x: number): number => (x << 24) >> 24;

/** Drives the array with `cycles` random operand/select vectors, returns every PE's final accumulator. */
async function simulateArray(groups: RtlModule[], rows: number, cols: number, accWidth: number, vectors: {sel: number; a: number[]; b: number[]}[]): Promise<bigint[]> {
  const rtl = macArrayRtl({rows, cols, accWidth}, groups);
  const dir = await mkdtemp(join(tmpdir(), 'axx-array-test-'));
  try {
    const files = Object.keys(rtl.files);
    for (const file of files) await writeFile(join(dir, file), rtl.files[file] ?? '');
    const steps = vectors.map(({sel, a, b}) => {
      const packed = (bytes: number[]): string => bytes.map((x) => x.toString(16).padStart(2, '0')).reverse().join('');
      return `    sel = ${sel}; a = 'h${packed(a)}; b = 'h${packed(b)}; @(posedge clk); #1;`;
    });
    await writeFile(
      join(dir, 'tb.v'),
      `module tb;
  reg clk = 0, clear = 1, en = 0;
  reg [${rtl.pe.selectWidth - 1}:0] sel = 0;
  reg [${rows * 8 - 1}:0] a = 0;
  reg [${cols * 8 - 1}:0] b = 0;
  wire [${rows * cols * accWidth - 1}:0] acc;
  integer k;
  always #5 clk = ~clk;
  ${rtl.top} dut (.clk(clk), .clear(clear), .en(en), .sel(sel), .a(a), .b(b), .acc(acc));
  initial begin
    @(posedge clk); #1; clear = 0; en = 1;
${steps.join('\n')}
    for (k = 0; k < ${rows * cols}; k = k + 1) $display("ACC %0h", acc[k*${accWidth} +: ${accWidth}]);
    $finish;
  end
endmodule
`,
    );
    const vvp = join(dir, 'sim.vvp');
    await runTool(testTools.iverilog?.command ?? 'iverilog', ['-g2005', '-o', vvp, ...files.map((f) => join(dir, f)), join(dir, 'tb.v')]);
    const {stdout} = await runTool(testTools.vvp?.command ?? 'vvp', ['-n', vvp]);
    return [...stdout.matchAll(/^ACC ([0-9a-f]+)$/gm)].map((m) => BigInt(`0x${m[1]}`));
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}

describe.skipIf(missingTools('iverilog', 'vvp'))('MAC array RTL (iverilog)', () => {
  test('each PE accumulates the selected multiplier’s products, wrapping at the accumulator width', async () => {
    const groups = [exactMultiplierRtl('axx_exact8s', true), exactMultiplierRtl('axx_exact8u', false)];
    const products = [(a: number, b: number) => signedByte(a) * signedByte(b), (a: number, b: number) => a * b];
    const rows = 2;
    const cols = 3;
    const accWidth = 18; // small, so 60 products of up to 65025 wrap around
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
    const vectors = Array.from({length: 60}, (_, i) => ({
      sel: i % 5 === 0 ? 0 : 1,
      a: Array.from({length: rows}, random),
      b: Array.from({length: cols}, random),
    }));
    const expected: bigint[] = [];
    const modulus = 1n << BigInt(accWidth);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        let sum = 0n;
        for (const {sel, a, b} of vectors) sum += BigInt(products[sel]!(a[r]!, b[c]!));
        expected.push(((sum % modulus) + modulus) % modulus);
      }
    }
    expect(await simulateArray(groups, rows, cols, accWidth, vectors)).toEqual(expected);
  });
});

test('rejects templates that cannot be built', () => {
  expect(() => validateTemplate({rows: 0, cols: 4, accWidth: 24})).toThrow(/rows must be a positive integer/);
  expect(() => validateTemplate({rows: 4, cols: 4, accWidth: 12})).toThrow(/accWidth must be 16..64/);
});
