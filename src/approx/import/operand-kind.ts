// Imported tables rarely say whether their operands are signed: of the readings offered (one per operand
// kind), pick the one closer to that kind's exact product. An approximate multiplier stays near its exact
// one; the wrong reading is off by about 2^15 on half of the entries.
import {exactTable, TABLE_SIZE} from '../multiplier.js';

export interface Reading {
  signed: boolean;
  table: Int32Array;
}

export function closestToExact(readings: readonly Reading[]): Reading {
  let best: {reading: Reading; distance: number} | undefined;
  for (const reading of readings) {
    const exact = exactTable(reading.signed);
    let distance = 0;
    for (let i = 0; i < TABLE_SIZE; i++) distance += Math.abs(reading.table[i]! - exact[i]!);
    if (best === undefined || distance < best.distance) best = {reading, distance};
  }
  if (best === undefined) throw new Error('closestToExact needs at least one reading');
  return best.reading;
}

/** A `bits`-wide result word read as two's complement. */
export function twosComplement(word: number, bits: number): number {
  return word >= 2 ** (bits - 1) ? word - 2 ** bits : word;
}
