// Just enough Verilog parsing to find a combinational 8×8 multiplier: module names and their port
// declarations, ANSI (`module m(input [7:0] a, …)`) or not (`module m(a, b, y); input [7:0] a; …`).

export interface PortDecl {
  name: string;
  direction: 'input' | 'output';
  width: number;
}

export interface ModuleDecl {
  name: string;
  ports: PortDecl[];
}

export function parseModules(source: string): ModuleDecl[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, ' ');
  const modules: ModuleDecl[] = [];
  for (const match of text.matchAll(/\bmodule\s+([A-Za-z_][\w$]*)([\s\S]*?)\bendmodule\b/g)) {
    modules.push({name: match[1] ?? '', ports: portDeclarations(match[2] ?? '')});
  }
  return modules;
}

function portDeclarations(body: string): PortDecl[] {
  const ports: PortDecl[] = [];
  // A declaration runs from `input`/`output` to the next `;`, `)` or direction keyword.
  const declaration = /\b(input|output)\b((?:\s+(?:wire|reg|logic|signed|unsigned))*)\s*(?:\[\s*(\d+)\s*:\s*(\d+)\s*\])?\s*([^;)]*?)(?=;|\)|\binput\b|\boutput\b)/g;
  for (const match of body.matchAll(declaration)) {
    const width = match[3] === undefined ? 1 : Math.abs(Number(match[3]) - Number(match[4])) + 1;
    const names = (match[5] ?? '').split(',').map((n) => n.trim()).filter((n) => /^[A-Za-z_][\w$]*$/.test(n));
    for (const name of names) ports.push({name, direction: match[1] as 'input' | 'output', width});
  }
  return ports;
}

export interface MultiplierPorts {
  a: string;
  b: string;
  y: string;
  outWidth: number;
}

/** The ports of an 8×8 multiplier: exactly two 8-bit inputs (a, b in declaration order) and one output. */
export function multiplierPorts(module: ModuleDecl): MultiplierPorts | undefined {
  const inputs = module.ports.filter((p) => p.direction === 'input');
  const outputs = module.ports.filter((p) => p.direction === 'output');
  const [a, b] = inputs;
  const [y] = outputs;
  if (inputs.length !== 2 || outputs.length !== 1 || !a || !b || !y || a.width !== 8 || b.width !== 8 || y.width < 16 || y.width > 31) return undefined;
  return {a: a.name, b: b.name, y: y.name, outWidth: y.width};
}
