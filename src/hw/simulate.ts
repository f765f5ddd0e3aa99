// Exhaustive simulation of a generated module: all 65,536 operand pairs through Icarus Verilog, read
// back as a table indexed like the multiplier library's ((a & 0xff) * 256 + (b & 0xff)). The simulation
// itself is the multiplier library's Verilog import (src/approx/import/verilog.ts); this adapter feeds
// it in-memory RTL with the operand kind fixed, without blocking the event loop (abort stops it).
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {importVerilogAsync} from '../approx/import/verilog.js';
import {INSTALL_HINT, type HwTools} from './tools.js';
import type {RtlModule} from './verilog/rtl.js';
import {HwError} from './hw-error.js';

export async function simulateTable(rtl: RtlModule, tools: HwTools, signal?: AbortSignal): Promise<Int32Array> {
  if (tools.iverilog === undefined || tools.vvp === undefined) {
    throw new HwError(`cannot simulate ${rtl.name}: Icarus Verilog (iverilog, vvp) is not installed; ${INSTALL_HINT}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'axx-sim-'));
  try {
    const file = join(dir, `${rtl.name}.v`);
    await writeFile(file, rtl.source);
    const options = {module: rtl.name, ports: {a: 'a', b: 'b', y: 'y', outWidth: rtl.outWidth}, signed: rtl.signed, tools: {iverilog: tools.iverilog.command, vvp: tools.vvp.command}};
    return (await importVerilogAsync(file, {...options, ...(signal === undefined ? {} : {signal})})).table;
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}
