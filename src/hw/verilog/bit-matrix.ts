// A multiplier as a matrix of partial-product bits summed column-wise. Truncation, broken arrays,
// perforation and correction constants are all edits of this matrix (drop bits, add a constant), so one
// emitter gives every such family the same adder structure and their synthesised costs stay comparable.

export interface PartialProductBit {
  /** Weight 2^column. */
  column: number;
  /** A one-bit Verilog expression over the operand ports `a` and `b`. */
  expr: string;
  /** Which operand bits produced it (row = b bit, col = a bit), so families can select by position. */
  i: number;
  j: number;
}

export interface BitMatrix {
  bits: PartialProductBit[];
  /** Added to the sum (e.g. Baugh-Wooley's sign constants, a truncation correction); taken mod 2^width. */
  constant: bigint;
  /** Result width; the sum is taken modulo 2^width. */
  width: number;
}

/** Unsigned 8x8: pp(i,j) = a[j] & b[i] at column i+j. `a`/`b` name the operand vectors. */
export function unsignedMatrix(a = 'a', b = 'b'): BitMatrix {
  const bits: PartialProductBit[] = [];
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) bits.push({column: i + j, expr: `(${a}[${j}] & ${b}[${i}])`, i, j});
  }
  return {bits, constant: 0n, width: 16};
}

/**
 * Signed 8x8 in Baugh-Wooley form: the bits pairing one sign bit with one magnitude bit are inverted and
 * 2^8 + 2^15 is added; the 16-bit sum is the two's-complement product.
 */
export function baughWooleyMatrix(a = 'a', b = 'b'): BitMatrix {
  const bits: PartialProductBit[] = [];
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) {
      const inverted = (i === 7) !== (j === 7);
      bits.push({column: i + j, expr: inverted ? `~(${a}[${j}] & ${b}[${i}])` : `(${a}[${j}] & ${b}[${i}])`, i, j});
    }
  }
  return {bits, constant: (1n << 8n) + (1n << 15n), width: 16};
}

/** Verilog statements assigning the matrix sum to `target` (a wire of `matrix.width` bits). */
export function emitMatrixSum(matrix: BitMatrix, target: string): string {
  const rows = packRows(matrix.bits);
  const width = matrix.width;
  const lines = rows.map((row, r) => {
    const slots: string[] = [];
    for (let column = width - 1; column >= 0; column--) slots.push(row.get(column) ?? "1'b0");
    return `  wire [${width - 1}:0] pp_row${r} = {${slots.join(', ')}};`;
  });
  const constant = ((matrix.constant % (1n << BigInt(width))) + (1n << BigInt(width))) % (1n << BigInt(width));
  const terms = rows.map((_, r) => `pp_row${r}`);
  if (constant !== 0n || terms.length === 0) terms.push(`${width}'d${constant}`);
  lines.push(`  assign ${target} = ${terms.join(' + ')};`);
  return lines.join('\n');
}

/** Greedy packing: each row holds at most one bit per column, filling the lowest row that has room. */
function packRows(bits: readonly PartialProductBit[]): Map<number, string>[] {
  const rows: Map<number, string>[] = [];
  for (const bit of bits) {
    let row = rows.find((candidate) => !candidate.has(bit.column));
    if (row === undefined) {
      row = new Map();
      rows.push(row);
    }
    row.set(bit.column, bit.expr);
  }
  return rows;
}
