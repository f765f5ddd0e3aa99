// Circuits axx does not generate (EvoApprox by name) are costed from a netlist the user points at; axx
// never bundles them. The file's module is wrapped into the standard port convention (a, b, y); ports
// are found by the multiplier library's Verilog import parser.
import {readFile} from 'node:fs/promises';
import {multiplierPorts, parseModules, type ModuleDecl} from '../../approx/import/verilog-ports.js';
import {MODULE_FOOTER, multiplierHeader, type RtlModule} from './rtl.js';
import {HwError} from '../hw-error.js';

export async function userNetlistRtl(wrapperName: string, multiplierName: string, signed: boolean, path: string): Promise<RtlModule> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new HwError(`netlist for ${multiplierName}: cannot read ${path} (${(error as Error).message})`);
  }
  const module = pickModule(parseModules(text), multiplierName, path);
  const ports = multiplierPorts(module);
  if (ports === undefined) {
    const found = module.ports.map((port) => `${port.direction} [${port.width}] ${port.name}`).join(', ');
    throw new HwError(
      `netlist ${path}: module ${module.name} must have two 8-bit inputs and one output of 16 to 31 bits (found: ${found || 'no ports'})`,
    );
  }
  const source = [
    text.trimEnd(),
    '',
    multiplierHeader(wrapperName, ports.outWidth, `${multiplierName} from ${path}, wrapped to axx's port convention`),
    `  ${module.name} circuit (.${ports.a}(a), .${ports.b}(b), .${ports.y}(y));`,
    MODULE_FOOTER,
  ].join('\n');
  return {name: wrapperName, source, outWidth: ports.outWidth, signed};
}

function pickModule(modules: readonly ModuleDecl[], multiplierName: string, path: string): ModuleDecl {
  const named = modules.find((module) => module.name === multiplierName);
  // A hierarchical netlist defines helpers first and the top last (EvoApprox files hold a single module).
  const chosen = named ?? modules[modules.length - 1];
  if (chosen === undefined) throw new HwError(`netlist ${path} contains no Verilog module`);
  return chosen;
}
