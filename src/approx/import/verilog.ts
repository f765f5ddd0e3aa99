// Import a multiplier from a Verilog module: its table comes from exhaustive simulation with Icarus
// Verilog (a generated testbench drives all 65,536 operand pairs; vvp prints the results).
// `importVerilog` blocks (the multiplier library resolves names synchronously); `importVerilogAsync`
// runs the simulator without blocking the event loop and stops it on abort.
import {execFile, spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
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
  const {module, ports} = chooseModule(file, readFileSync(file, 'utf8'), options);
  const dir = mkdtempSync(join(tmpdir(), 'axx-import-'));
  try {
    const {bench, compile, simulate} = simulation(dir, file, module, ports, options.tools);
    writeFileSync(bench.path, bench.text);
    runSync(file, compile);
    return multiplierOf(file, module, ports, parseRows(file, runSync(file, simulate)), options);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

export async function importVerilogAsync(file: string, options: VerilogImportOptions & {signal?: AbortSignal} = {}): Promise<Multiplier> {
  const {module, ports} = chooseModule(file, await readFile(file, 'utf8'), options);
  const dir = await mkdtemp(join(tmpdir(), 'axx-import-'));
  try {
    const {bench, compile, simulate} = simulation(dir, file, module, ports, options.tools);
    await writeFile(bench.path, bench.text);
    await runAsync(file, compile, options.signal);
    return multiplierOf(file, module, ports, parseRows(file, await runAsync(file, simulate, options.signal)), options);
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}

function multiplierOf(file: string, module: string, ports: MultiplierPorts, words: Int32Array, options: VerilogImportOptions): Multiplier {
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

interface Invocation {
  command: string;
  args: string[];
}

/** The testbench to write into `dir`, then the compile and simulate commands. */
function simulation(dir: string, file: string, module: string, ports: MultiplierPorts, tools = {iverilog: 'iverilog', vvp: 'vvp'}) {
  const bench = {path: join(dir, 'tb.v'), text: testbench(module, ports)};
  const compiled = join(dir, 'sim.vvp');
  return {
    bench,
    compile: {command: tools.iverilog, args: ['-g2012', '-o', compiled, bench.path, file]},
    simulate: {command: tools.vvp, args: ['-n', compiled]},
  };
}

const SIMULATION_LIMITS = {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000} as const;

function runSync(file: string, {command, args}: Invocation): string {
  const result = spawnSync(command, args, SIMULATION_LIMITS);
  if (result.error) throw launchError(file, command, result.error);
  if (result.status !== 0) throw exitError(file, command, result.status, result.stderr);
  return result.stdout;
}

function runAsync(file: string, {command, args}: Invocation, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, {...SIMULATION_LIMITS, ...(signal === undefined ? {} : {signal})}, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else if (signal?.aborted) reject(signal.reason);
      else if (typeof error.code === 'number') reject(exitError(file, command, error.code, stderr));
      else reject(launchError(file, command, error));
    });
  });
}

function launchError(file: string, command: string, error: Error): VerilogImportError {
  const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
  return new VerilogImportError(file, missing ? `${command} not found: Verilog import needs Icarus Verilog (apt-get install iverilog)` : `${command} failed: ${error.message}`);
}

function exitError(file: string, command: string, status: number | null, stderr: string): VerilogImportError {
  return new VerilogImportError(file, `${basename(command)} exited with ${status}:\n${stderr.trim().slice(0, 2000)}`);
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
