// Signed use of an unsigned circuit: the sign-magnitude wrapper multiplies magnitudes with the unsigned
// circuit and applies the sign outside it (XOR of the sign bits, conditional negation):
// L[a][b] = sgn(a)·sgn(b)·Lu[|a|][|b|]. The result is not wrapped to 16 bits (a sign and a 16-bit
// magnitude), which is how src/approx/emulate/operand-table.ts uses unsigned circuits on signed data.
import {makeMultiplier, operandValue, TABLE_SIZE, type Multiplier} from '../multiplier.js';

/** Name prefix: `sm8s_mul8u_2AC` is mul8u_2AC behind the wrapper. */
export const SIGN_MAGNITUDE_PREFIX = 'sm8s_';

function signMagnitudeTable(unsignedTable: Int32Array): Int32Array {
  const table = new Int32Array(TABLE_SIZE);
  for (let a = 0; a < 256; a++) {
    const va = operandValue(true, a);
    for (let b = 0; b < 256; b++) {
      const vb = operandValue(true, b);
      table[a * 256 + b] = Math.sign(va) * Math.sign(vb) * unsignedTable[Math.abs(va) * 256 + Math.abs(vb)]!;
    }
  }
  return table;
}

export function signMagnitude(core: Multiplier): Multiplier {
  if (core.signed) throw new Error(`${core.name} already takes signed operands; the sign-magnitude wrapper is for unsigned circuits`);
  const {hardware} = core;
  return makeMultiplier({
    name: SIGN_MAGNITUDE_PREFIX + core.name,
    signed: true,
    table: signMagnitudeTable(core.table),
    provenance: {
      source: 'wrapper',
      description: `sign-magnitude wrapper around the unsigned ${core.name}: sgn(a)·sgn(b)·${core.name}(|a|, |b|) (${core.provenance.description})`,
      ...(core.provenance.citation === undefined ? {} : {citation: core.provenance.citation}),
    },
    // The core's figures; the wrapper's sign logic (XOR, two conditional negations) is not included.
    hardware: hardware.technology === null ? hardware : {...hardware, technology: `${hardware.technology}, unsigned core only`},
  });
}
