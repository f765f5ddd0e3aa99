// RTL for any multiplier the library resolves: the exact product -> the exact array; a generated family
// -> its generator (bit-exact to the family's table, checked by exhaustive simulation in the tests);
// anything else (EvoApprox by name, imports) -> the netlist the user gives, never a bundled one.
import {SIGN_MAGNITUDE_PREFIX} from '../../approx/families/sign-magnitude.js';
import {resolveMultiplier} from '../../approx/library.js';
import type {Multiplier} from '../../approx/multiplier.js';
import {familyRtl} from './families.js';
import {exactMultiplierRtl} from './matrix-multiplier.js';
import {moduleNameFor, type RtlModule} from './rtl.js';
import {signMagnitudeRtl} from './sign-magnitude.js';
import {userNetlistRtl} from './user-netlist.js';
import {HwError} from '../hw-error.js';

export async function multiplierRtl(
  multiplier: Multiplier,
  netlists: Readonly<Record<string, string>> = {},
  name = moduleNameFor(multiplier.name),
): Promise<RtlModule> {
  if (multiplier.provenance.source === 'wrapper' && multiplier.name.startsWith(SIGN_MAGNITUDE_PREFIX)) {
    const core = resolveMultiplier(multiplier.name.slice(SIGN_MAGNITUDE_PREFIX.length));
    // The core gets its own module name, so an array using the circuit both bare and wrapped defines each once.
    return signMagnitudeRtl(name, await multiplierRtl(core, netlists, `${name}_core`), `${core.name} on signed operands`);
  }
  const netlist = netlists[multiplier.name];
  if (netlist !== undefined) return userNetlistRtl(name, multiplier.name, multiplier.signed, netlist);
  if (isExactProduct(multiplier)) return exactMultiplierRtl(name, multiplier.signed);
  const family = multiplier.provenance.family;
  const generated = family === undefined ? undefined : familyRtl(name, multiplier.signed, family);
  if (generated !== undefined) return generated;
  throw new HwError(
    `no RTL for multiplier ${multiplier.name} (${multiplier.provenance.source}${family === undefined ? '' : `, family ${family.name}`}): ` +
      `axx generates Verilog only for its own families; give this circuit's netlist as netlists: {${multiplier.name}: path/to/${multiplier.name}.v}` +
      (multiplier.provenance.source === 'evoapprox' ? ' (EvoApprox publishes the Verilog of every circuit; axx does not bundle them)' : ''),
  );
}

/** True when the table is the exact 8x8 product of its operand kind (e.g. mul8s_1KV8, mul8u_1JFF). */
export function isExactProduct(multiplier: Pick<Multiplier, 'signed' | 'table'>): boolean {
  const {signed, table} = multiplier;
  for (let a = 0; a < 256; a++) {
    const x = signed ? (a << 24) >> 24 : a;
    for (let b = 0; b < 256; b++) {
      const y = signed ? (b << 24) >> 24 : b;
      if (table[a * 256 + b] !== x * y) return false;
    }
  }
  return true;
}
