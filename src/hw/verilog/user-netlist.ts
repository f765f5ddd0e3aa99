// Circuits axx does not generate (EvoApprox by name) are costed from a netlist the user points at; axx
// never bundles them. The file's module is wrapped into the standard port convention (a, b, y).
import {readFile} from 'node:fs/promises';
import {MODULE_FOOTER, multiplierHeader, type RtlModule} from './rtl.js';

interface Port {
  name: string;
  direction: 'input' | 'output';
  width: number;
}

export async function userNetlistRtl(wrapperName: string, multiplierName: string, signed: boolean, path: string): Promise<RtlModule> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`netlist for ${multiplierName}: cannot read ${path} (${(error as Error).message})`);
  }
  const moduleName = pickModule(text, multiplierName, path);
  const ports = modulePorts(text, moduleName);
  const inputs = ports.filter((port) => port.direction === 'input');
  const output = ports.find((port) => port.direction === 'output');
  if (inputs.length !== 2 || inputs.some((port) => port.width !== 8) || output === undefined || output.width < 16 || ports.length !== 3) {
    const found = ports.map((port) => `${port.direction} [${port.width}] ${port.name}`).join(', ');
    throw new Error(
      `netlist ${path}: module ${moduleName} must have two 8-bit inputs and one output of at least 16 bits (found: ${found || 'no ports'})`,
    );
  }
  const [first, second] = inputs as [Port, Port];
  const source = [
    text.trimEnd(),
    '',
    multiplierHeader(wrapperName, output.width, `${multiplierName} from ${path}, wrapped to axx's port convention`),
    `  ${moduleName} circuit (.${first.name}(a), .${second.name}(b), .${output.name}(y));`,
    MODULE_FOOTER,
  ].join('\n');
  return {name: wrapperName, source, outWidth: output.width, signed};
}

function pickModule(text: string, multiplierName: string, path: string): string {
  const names = [...text.matchAll(/\bmodule\s+([A-Za-z_][A-Za-z0-9_$]*)/g)].map((match) => match[1] as string);
  if (names.length === 0) throw new Error(`netlist ${path} contains no Verilog module`);
  if (names.includes(multiplierName)) return multiplierName;
  // A hierarchical netlist defines helpers first and the top last (EvoApprox files hold a single module).
  return names[names.length - 1] as string;
}

/** Ports of ANSI (`input [7:0] A`) or non-ANSI (`module m(A, B, O); input [7:0] A;`) modules. */
function modulePorts(text: string, moduleName: string): Port[] {
  const start = text.search(new RegExp(`\\bmodule\\s+${moduleName.replace(/\$/g, '\\$')}\\b`));
  const end = text.indexOf('endmodule', start);
  const body = text.slice(start, end < 0 ? undefined : end).replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const ports: Port[] = [];
  const declaration = /\b(input|output)\s+(?:wire\s+|reg\s+)?(?:signed\s+)?(?:\[\s*(\d+)\s*:\s*(\d+)\s*\]\s*)?([A-Za-z_][A-Za-z0-9_$]*(?:\s*,\s*(?!input|output)[A-Za-z_][A-Za-z0-9_$]*)*)/g;
  for (const match of body.matchAll(declaration)) {
    const width = match[2] === undefined ? 1 : Math.abs(Number(match[2]) - Number(match[3])) + 1;
    for (const name of (match[4] as string).split(',')) {
      ports.push({name: name.trim(), direction: match[1] as Port['direction'], width});
    }
  }
  return ports;
}
