// EvoApprox tables straight from the shared data directory, for tests and benchmarks that must not
// wait for (or depend on) the multiplier library's resolution rules.
import {readFileSync, readdirSync} from 'node:fs';
import {join} from 'node:path';

export const EVOAPPROX_DIR = '/work/shared/data/evoapprox';

export interface RawCircuit {
  name: string;
  signed: boolean;
  /** 65536 entries, index a*256+b (raw bytes for signed circuits, magnitudes for unsigned). */
  table: Int32Array;
}

export function evoApproxNames(dir = EVOAPPROX_DIR): string[] {
  return readdirSync(dir)
    .filter((file) => /^mul8[su]_\w+\.bin$/.test(file))
    .map((file) => file.slice(0, -'.bin'.length))
    .sort();
}

export function readEvoApproxCircuit(name: string, dir = EVOAPPROX_DIR): RawCircuit {
  const bytes = readFileSync(join(dir, `${name}.bin`));
  const signed = name.startsWith('mul8s_');
  const table = new Int32Array(65536);
  for (let i = 0; i < table.length; i++) table[i] = signed ? bytes.readInt16LE(2 * i) : bytes.readUInt16LE(2 * i);
  return {name, signed, table};
}
