// Signed use of an unsigned circuit: |a|·|b| computed on the operands' magnitudes (|-128| = 128 still
// fits 8 unsigned bits) and negated when the signs differ, with one more output bit than the core so
// the sign never wraps (as the library's sm8s_ tables). Used by the value-level families' signed forms
// and by the library's `sm8s_<unsigned circuit>` wrappers (manifest operands "sign-magnitude wrapper").
import {MODULE_FOOTER, multiplierHeader, type RtlModule} from './rtl.js';

export function signMagnitudeRtl(name: string, core: RtlModule, comment: string): RtlModule {
  if (core.signed) throw new Error(`sign-magnitude wrapper: ${core.name} is already a signed circuit`);
  const source = [
    core.source,
    multiplierHeader(name, core.outWidth + 1, `${comment}, sign-magnitude wrapper around the unsigned ${core.name}`),
    '  wire [7:0] ma = a[7] ? -a : a;',
    '  wire [7:0] mb = b[7] ? -b : b;',
    `  wire [${core.outWidth - 1}:0] m;`,
    `  ${core.name} core (.a(ma), .b(mb), .y(m));`,
    "  assign y = (a[7] ^ b[7]) ? -{1'b0, m} : {1'b0, m};",
    MODULE_FOOTER,
  ].join('\n');
  return {name, source, outWidth: core.outWidth + 1, signed: true};
}
