// An 8-bit multiplier as axx models it: its exact 256×256 table plus where it came from and what it costs.
import {createHash} from 'node:crypto';

export interface HardwareFigures {
  powerMw: number | null;
  areaUm2: number | null;
  delayNs: number | null;
  technology: string | null;
}

export interface Provenance {
  source: 'evoapprox' | 'generated' | 'imported' | 'wrapper' | 'exact';
  description: string;
  citation?: string;
  /** For generated circuits: the algorithm and its parameters, enough to emit matching RTL. */
  family?: {name: string; params: Record<string, number | boolean>};
}

export interface Multiplier {
  name: string;
  /** Operand kind: two's complement (true) or unsigned. */
  signed: boolean;
  bits: 8;
  /** 65536 exact integer results; index (a & 0xff) * 256 + (b & 0xff) (raw bytes, as EvoApprox .bin files). */
  table: Int32Array;
  /** Content identity: sha256 hex of operand kind + table; a renamed copy has the same id. */
  id: string;
  provenance: Provenance;
  hardware: HardwareFigures;
}

export const TABLE_SIZE = 65536;

export const NO_HARDWARE: HardwareFigures = {powerMw: null, areaUm2: null, delayNs: null, technology: null};

export function multiplierId(signed: boolean, table: Int32Array): string {
  if (table.length !== TABLE_SIZE) throw new Error(`a multiplier table has ${TABLE_SIZE} entries, got ${table.length}`);
  const hash = createHash('sha256');
  hash.update(signed ? 'signed8\n' : 'unsigned8\n');
  hash.update(new Uint8Array(table.buffer, table.byteOffset, table.byteLength));
  return hash.digest('hex');
}

export function makeMultiplier(init: Omit<Multiplier, 'id' | 'bits'>): Multiplier {
  return {...init, bits: 8, id: multiplierId(init.signed, init.table)};
}

/** The operand value a raw byte stands for under this multiplier's operand kind. */
export function operandValue(signed: boolean, byte: number): number {
  return signed && byte >= 128 ? byte - 256 : byte;
}

/** The exact product table for the operand kind. */
export function exactTable(signed: boolean): Int32Array {
  const table = new Int32Array(TABLE_SIZE);
  for (let a = 0; a < 256; a++) {
    const va = operandValue(signed, a);
    for (let b = 0; b < 256; b++) table[a * 256 + b] = va * operandValue(signed, b);
  }
  return table;
}
