// The accumulate half of a MAC (adder + register), synthesised on its own so the energy model can add
// its cost per MAC to the multiplier's.
import type {RtlModule} from './rtl.js';

export const ACCUMULATOR_MODULE = 'axx_accumulator';

export function accumulatorRtl(accWidth: number): RtlModule {
  const source = `// ${accWidth}-bit accumulator: acc <= acc + p every cycle.
module ${ACCUMULATOR_MODULE} (
  input  wire clk,
  input  wire [${accWidth - 1}:0] p,
  output reg  [${accWidth - 1}:0] acc
);
  always @(posedge clk) acc <= acc + p;
endmodule
`;
  return {name: ACCUMULATOR_MODULE, source, outWidth: accWidth, signed: true};
}
