// Exhaustive simulation of a multiplier module with Icarus Verilog: all 65,536 operand pairs, read back
// as a table indexed like the multiplier library's ((a & 0xff) * 256 + (b & 0xff)).
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {RtlModule} from './verilog/rtl.js';
import {runTool} from './run-tool.js';
import {INSTALL_HINT, type HwTools} from './tools.js';

const TABLE_SIZE = 65536;

export async function simulateTable(rtl: RtlModule, tools: HwTools, signal?: AbortSignal): Promise<Int32Array> {
  if (tools.iverilog === undefined || tools.vvp === undefined) {
    throw new Error(`cannot simulate ${rtl.name}: Icarus Verilog (iverilog, vvp) is not installed; ${INSTALL_HINT}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'axx-sim-'));
  try {
    await writeFile(join(dir, 'dut.v'), rtl.source);
    await writeFile(join(dir, 'tb.v'), exhaustiveTestbench(rtl));
    await runTool(tools.iverilog.command, ['-g2005', '-o', join(dir, 'sim.vvp'), join(dir, 'tb.v'), join(dir, 'dut.v')], {signal});
    const {stdout} = await runTool(tools.vvp.command, ['-n', join(dir, 'sim.vvp')], {signal});
    return parseTable(stdout, rtl.name);
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}

function exhaustiveTestbench(rtl: RtlModule): string {
  const w = rtl.outWidth;
  return `\`timescale 1ns/1ps
module axx_tb;
  reg [7:0] a, b;
  wire ${rtl.signed ? 'signed ' : ''}[${w - 1}:0] y;
  integer i, j;
  ${rtl.name} dut (.a(a), .b(b), .y(y));
  initial begin
    for (i = 0; i < 256; i = i + 1) begin
      $write("R");
      for (j = 0; j < 256; j = j + 1) begin
        a = i; b = j; #1;
        $write("%0d ", y);
      end
      $write("\\n");
    end
    $finish;
  end
endmodule
`;
}

function parseTable(stdout: string, moduleName: string): Int32Array {
  const table = new Int32Array(TABLE_SIZE);
  let count = 0;
  // Rows start with "R" so the simulator's own messages ($finish notice) are ignored.
  const tokens = stdout.split('\n').filter((line) => line.startsWith('R')).flatMap((line) => line.slice(1).trim().split(/\s+/));
  for (const token of tokens) {
    const value = Number(token);
    if (!Number.isInteger(value) || count >= TABLE_SIZE) {
      throw new Error(`simulation of ${moduleName} printed unexpected output near entry ${count}: "${token.slice(0, 40)}" (x/z outputs?)`);
    }
    table[count++] = value;
  }
  if (count !== TABLE_SIZE) throw new Error(`simulation of ${moduleName} printed ${count} of ${TABLE_SIZE} results`);
  return table;
}
