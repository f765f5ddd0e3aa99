// The table an emulated layer actually uses: products of narrow-range int8 operands, indexed by
// raw two's-complement bytes (a & 0xff)*256 + (b & 0xff), as TransAxx indexes its LUTs.
//
// - Signed circuits (mul8s_*) are used as they are.
// - Unsigned circuits (mul8u_*) meet signed data through a sign-magnitude wrapper:
//   L[a][b] = sgn(a)·sgn(b)·Lu[|a|][|b|], i.e. the circuit multiplies magnitudes and the sign is applied
//   outside it (an XOR of the sign bits and a conditional negation in hardware).
// - Byte 0x80 (-128) never occurs in narrow-range quantisation, so its row and column are zeroed:
//   the factorisation then only has to reproduce the products that can happen.

export const NARROW_RANGE_UNUSED_BYTE = 0x80;

export const isUsedByte = (byte: number): boolean => byte !== NARROW_RANGE_UNUSED_BYTE;

/** Two's-complement value of a raw byte. */
export const signedByte = (byte: number): number => (byte < 128 ? byte : byte - 256);

/**
 * The narrow-range signed-operand table of a circuit given its own table (`signed`: indexed by raw
 * bytes; unsigned: indexed by magnitudes a*256+b).
 */
export function operandTable(table: Int32Array, signed: boolean): Int32Array {
  const out = new Int32Array(256 * 256);
  for (let ua = 0; ua < 256; ua++) {
    if (!isUsedByte(ua)) continue;
    for (let ub = 0; ub < 256; ub++) {
      if (!isUsedByte(ub)) continue;
      if (signed) {
        out[ua * 256 + ub] = table[ua * 256 + ub]!;
      } else {
        const a = signedByte(ua);
        const b = signedByte(ub);
        out[ua * 256 + ub] = Math.sign(a) * Math.sign(b) * table[Math.abs(a) * 256 + Math.abs(b)]!;
      }
    }
  }
  return out;
}
