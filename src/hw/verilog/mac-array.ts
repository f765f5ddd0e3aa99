// The accelerator template: a rows × cols array of MAC processing elements. Each PE holds one instance
// of every multiplier the network uses (one per layer group) and a `sel` input chooses the group of
// the layer being run; unselected multipliers get zero operands (operand isolation), so they do not
// switch and cost only area and leakage. Operands are broadcast: `a` along a row, `b` down a column;
// each PE accumulates its own output (output-stationary).
import type {RtlModule} from './rtl.js';
import {HwError} from '../hw-error.js';

export interface ArrayTemplate {
  rows: number;
  cols: number;
  /** Accumulator width in bits (products are sign- or zero-extended to it; the sum wraps modulo 2^accWidth). */
  accWidth: number;
}

export interface MacArrayRtl {
  /** Verilog files by name: one per multiplier module, `axx_pe.v`, `axx_mac_array.v`. */
  files: Record<string, string>;
  pe: RtlModule & {selectWidth: number};
  top: string;
}

export const PE_MODULE = 'axx_pe';
export const ARRAY_MODULE = 'axx_mac_array';

/** `groups[i]` is selected by `sel == i`. */
export function macArrayRtl(template: ArrayTemplate, groups: readonly RtlModule[]): MacArrayRtl {
  validateTemplate(template);
  if (groups.length === 0) throw new HwError('MAC array: no multipliers given');
  const pe = peModule(groups, template.accWidth);
  const files: Record<string, string> = {};
  for (const group of groups) files[`${group.name}.v`] = group.source;
  files[`${PE_MODULE}.v`] = pe.source;
  files[`${ARRAY_MODULE}.v`] = arrayModule(template, pe.selectWidth);
  return {files, pe, top: ARRAY_MODULE};
}

export function validateTemplate(template: ArrayTemplate): void {
  for (const field of ['rows', 'cols', 'accWidth'] as const) {
    const value = template[field];
    if (!Number.isInteger(value) || value < 1) throw new HwError(`accelerator template: ${field} must be a positive integer, got ${value}`);
  }
  if (template.accWidth < 16 || template.accWidth > 64) {
    throw new HwError(`accelerator template: accWidth must be 16..64 bits (products are 16 bits), got ${template.accWidth}`);
  }
}

function peModule(groups: readonly RtlModule[], accWidth: number): RtlModule & {selectWidth: number} {
  const selectWidth = Math.max(1, Math.ceil(Math.log2(groups.length)));
  const single = groups.length === 1;
  const lines = [
    `// One MAC processing element with ${groups.length} multiplier(s); sel picks the active one.`,
    `module ${PE_MODULE} #(parameter ACC_W = ${accWidth}) (`,
    '  input  wire clk,',
    '  input  wire clear,',
    '  input  wire en,',
    `  input  wire [${selectWidth - 1}:0] sel,`,
    '  input  wire [7:0] a,',
    '  input  wire [7:0] b,',
    '  output reg  [ACC_W-1:0] acc',
    ');',
  ];
  groups.forEach((group, index) => {
    const active = single ? "1'b1" : `(sel == ${selectWidth}'d${index})`;
    const w = group.outWidth;
    const extension = group.signed ? `{{(ACC_W-${w}){y${index}[${w - 1}]}}, y${index}}` : `{{(ACC_W-${w}){1'b0}}, y${index}}`;
    lines.push(
      `  wire [7:0] a${index} = a & {8{${active}}};`,
      `  wire [7:0] b${index} = b & {8{${active}}};`,
      `  wire [${w - 1}:0] y${index};`,
      `  ${group.name} mul${index} (.a(a${index}), .b(b${index}), .y(y${index}));`,
      `  wire [ACC_W-1:0] p${index} = ${extension};`,
    );
  });
  // Isolated multipliers output their table entry for (0, 0), which may be non-zero: select, don't OR.
  const product = groups.reduceRight<string>(
    (rest, _group, index) => (index === groups.length - 1 ? `p${index}` : `(sel == ${selectWidth}'d${index}) ? p${index} : ${rest}`),
    '',
  );
  lines.push(
    `  wire [ACC_W-1:0] product = ${product};`,
    '  always @(posedge clk) begin',
    "    if (clear) acc <= {ACC_W{1'b0}};",
    '    else if (en) acc <= acc + product;',
    '  end',
    'endmodule',
    '',
  );
  return {name: PE_MODULE, source: lines.join('\n'), outWidth: accWidth, signed: groups.some((group) => group.signed), selectWidth};
}

function arrayModule(template: ArrayTemplate, selectWidth: number): string {
  return `// ${template.rows} x ${template.cols} MAC array: a[r] is broadcast along row r, b[c] down column c.
module ${ARRAY_MODULE} #(parameter ROWS = ${template.rows}, parameter COLS = ${template.cols}, parameter ACC_W = ${template.accWidth}) (
  input  wire clk,
  input  wire clear,
  input  wire en,
  input  wire [${selectWidth - 1}:0] sel,
  input  wire [ROWS*8-1:0] a,
  input  wire [COLS*8-1:0] b,
  output wire [ROWS*COLS*ACC_W-1:0] acc
);
  genvar r, c;
  generate
    for (r = 0; r < ROWS; r = r + 1) begin : row
      for (c = 0; c < COLS; c = c + 1) begin : col
        ${PE_MODULE} #(.ACC_W(ACC_W)) pe (
          .clk(clk), .clear(clear), .en(en), .sel(sel),
          .a(a[r*8 +: 8]), .b(b[c*8 +: 8]),
          .acc(acc[(r*COLS + c)*ACC_W +: ACC_W])
        );
      end
    end
  endgenerate
endmodule
`;
}
