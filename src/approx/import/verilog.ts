// Import a multiplier from a Verilog module: its table comes from exhaustive simulation with Icarus
// Verilog (a generated testbench drives all 65,536 operand pairs; vvp prints the results).
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {basename, extname, join} from 'node:path';
import {makeMultiplier, NO_HARDWARE, TABLE_SIZE, type Multiplier} from '../multiplier.js';
import {closestToExact, twosComplement} from './operand-kind.js';
import {multiplierPorts, parseModules, type MultiplierPorts} from './verilog-ports.js';

export interface VerilogImportOptions {
  /** Module to simulate; default: the one named like the file, else the only 8×8 multiplier module. */
  module?: string;
  /** Port names when detection fails (two 8-bit inputs and one 16..31-bit output are detected). */
  ports?: {a: string; b: string; y: string; outWidth?: number};
  /** Operand kind; default: detected (the reading closer to the exact product). */
  signed?: boolean;
  /** Multiplier name; default: the module name. */
  name?: string;
  /** Icarus Verilog executables (default: iverilog and vvp on PATH). */
  tools?: {iverilog: string; vvp: string};
}

export class VerilogImportError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'VerilogImportError';
  }
}

export function importVerilog(file: string, options: VerilogImportOptions = {}): Multiplier {
  const source = readFileSync(file, 'utf8');
  const {module, ports} = chooseModule(file, source, options);
  const words = simulate(file, module, ports, options.tools ?? {iverilog: 'iverilog', vvp: 'vvp'});
  const readings = [true, false]
    .filter((signed) => options.signed === undefined || options.signed === signed)
    .map((signed) => ({signed, table: signed ? words.map((w) => twosComplement(w, ports.outWidth)) : words}));
  const {signed, table} = closestToExact(readings);
  return makeMultiplier({
    name: options.name ?? module,
    signed,
    table,
    provenance: {
      source: 'imported',
      description: `Verilog module ${module} from ${file}, simulated exhaustively with Icarus Verilog (${signed ? 'signed' : 'unsigned'} operands)`,
    },
    hardware: NO_HARDWARE,
  });
}

function chooseModule(file: string, source: string, options: VerilogImportOptions): {module: string; ports: MultiplierPorts} {
  const modules = parseModules(source);
  if (modules.length === 0) throw new VerilogImportError(file, 'no Verilog module found (expected "module … endmodule")');
  const wanted = options.module ?? modules.find((m) => m.name === basename(file, extname(file)))?.name;
  const candidates = wanted === undefined ? modules.filter((m) => multiplierPorts(m)) : modules.filter((m) => m.name === wanted);
  const names = modules.map((m) => m.name).join(', ');
  if (candidates.length !== 1 || !candidates[0]) {
    throw new VerilogImportError(
      file,
      wanted !== undefined
        ? `no module "${wanted}" (modules: ${names})`
        : candidates.length === 0
          ? `no module with two 8-bit inputs and one 16..31-bit output (modules: ${names}); name the module (path.v#module) or give importVerilog its ports`
          : `several multiplier modules (${candidates.map((m) => m.name).join(', ')}); say which one`,
    );
  }
  const module = candidates[0];
  if (options.ports) {
    const declared = new Map(module.ports.map((p) => [p.name, p]));
    for (const port of [options.ports.a, options.ports.b, options.ports.y]) {
      if (!declared.has(port)) throw new VerilogImportError(file, `module ${module.name} has no port "${port}" (ports: ${[...declared.keys()].join(', ')})`);
    }
    const outWidth = options.ports.outWidth ?? declared.get(options.ports.y)?.width ?? 16;
    if (outWidth < 16 || outWidth > 31) throw new VerilogImportError(file, `output ${options.ports.y} is ${outWidth} bits wide; an 8×8 product needs 16..31`);
    return {module: module.name, ports: {...options.ports, outWidth}};
  }
  const ports = multiplierPorts(module);
  if (!ports) {
    const described = module.ports.map((p) => `${p.direction} [${p.width}] ${p.name}`).join(', ');
    throw new VerilogImportError(file, `module ${module.name} is not an 8×8 multiplier: needs two 8-bit inputs and one 16..31-bit output, has ${described || 'no ports'}`);
  }
  return {module: module.name, ports};
}

function testbench(module: string, ports: MultiplierPorts): string {
  return `module axx_import_tb;
  reg [7:0] a, b;
  wire [${ports.outWidth - 1}:0] y;
  integer i, j;
  ${module} dut (.${ports.a}(a), .${ports.b}(b), .${ports.y}(y));
  initial begin
    for (i = 0; i < 256; i = i + 1) begin
      $write("R");
      for (j = 0; j < 256; j = j + 1) begin
        a = i; b = j; #1;
        $write(" %0d", y);
      end
      $write("\\n");
    end
    $finish;
  end
endmodule
`;
}

function simulate(file: string, module: string, ports: MultiplierPorts, tools: {iverilog: string; vvp: string}): Int32Array {
  const dir = mkdtempSync(join(tmpdir(), 'axx-import-'));
  try {
    const bench = join(dir, 'tb.v');
    const compiled = join(dir, 'sim.vvp');
    writeFileSync(bench, testbench(module, ports));
    run(file, tools.iverilog, ['-g2012', '-o', compiled, bench, file]);
    return parseRows(file, run(file, tools.vvp, ['-n', compiled]));
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

function run(file: string, command: string, args: string[]): string {
  const result = spawnSync(command, args, {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000});
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new VerilogImportError(
      file,
      missing ? `${command} not found: Verilog import needs Icarus Verilog (apt-get install iverilog)` : `${command} failed: ${result.error.message}`,
    );
  }
  if (result.status !== 0) throw new VerilogImportError(file, `${basename(command)} exited with ${result.status}:\n${result.stderr.trim().slice(0, 2000)}`);
  return result.stdout;
}

/** Rows start with "R" so the simulator's own messages are skipped. */
function parseRows(file: string, stdout: string): Int32Array {
  const tokens = stdout.split('\n').filter((line) => line.startsWith('R')).flatMap((line) => line.slice(1).trim().split(/\s+/));
  if (tokens.length !== TABLE_SIZE) throw new VerilogImportError(file, `simulation printed ${tokens.length} results, expected ${TABLE_SIZE}`);
  const table = new Int32Array(TABLE_SIZE);
  tokens.forEach((token, i) => {
    if (!/^\d+$/.test(token)) throw new VerilogImportError(file, `output is "${token}" for a=${i >> 8}, b=${i & 255}: undriven or unknown bits (x/z)`);
    table[i] = Number(token);
  });
  return table;
}
