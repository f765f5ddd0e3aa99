// Import a multiplier from a table file: 65,536 results indexed (a & 0xff) * 256 + (b & 0xff), either
// binary little-endian words (uint16/int16, as EvoApprox and TFApprox .bin files, or int32) or text
// (integers separated by whitespace or commas).
import {readFileSync} from 'node:fs';
import {basename, extname} from 'node:path';
import {makeMultiplier, NO_HARDWARE, TABLE_SIZE, type Multiplier} from '../multiplier.js';
import {closestToExact, twosComplement, type Reading} from './operand-kind.js';

export type TableWordType = 'uint16' | 'int16' | 'int32' | 'text';

export interface TableImportOptions {
  /** Operand kind; default: detected (the reading closer to the exact product). */
  signed?: boolean;
  /** Word type; default: detected from the file size (2 or 4 bytes per entry) or text content. */
  type?: TableWordType;
  /** Multiplier name; default: the file name without extension. */
  name?: string;
}

export class TableImportError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'TableImportError';
  }
}

export function importTableFile(file: string, options: TableImportOptions = {}): Multiplier {
  const bytes = readFileSync(file);
  const type = options.type ?? detectType(file, bytes);
  const readings = readingsOf(file, bytes, type, options.type !== undefined).filter((r) => options.signed === undefined || r.signed === options.signed);
  if (readings.length === 0) throw new TableImportError(file, `type ${type} holds ${options.signed ? 'unsigned' : 'signed'} results; drop the type or the operand kind`);
  const {signed, table} = closestToExact(readings);
  return makeMultiplier({
    name: options.name ?? basename(file, extname(file)),
    signed,
    table,
    provenance: {source: 'imported', description: `table imported from ${file} (${type}, ${signed ? 'signed' : 'unsigned'} operands)`},
    hardware: NO_HARDWARE,
  });
}

function detectType(file: string, bytes: Buffer): TableWordType {
  if (looksLikeText(bytes)) return 'text';
  if (bytes.length === TABLE_SIZE * 2) return 'uint16'; // or int16: without an explicit type, both readings compete
  if (bytes.length === TABLE_SIZE * 4) return 'int32';
  throw new TableImportError(
    file,
    `${bytes.length} bytes is not a 256×256 table: expected ${TABLE_SIZE * 2} (16-bit words) or ${TABLE_SIZE * 4} (int32) bytes, or text with ${TABLE_SIZE} integers`,
  );
}

function looksLikeText(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 4096);
  return head.length > 0 && head.every((byte) => byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127));
}

function readingsOf(file: string, bytes: Buffer, type: TableWordType, explicit: boolean): Reading[] {
  if (type === 'text') {
    const values = parseText(file, bytes.toString('utf8'));
    return [true, false].map((signed) => ({signed, table: values}));
  }
  const wordBytes = type === 'int32' ? 4 : 2;
  if (bytes.length !== TABLE_SIZE * wordBytes) {
    throw new TableImportError(file, `${type} table needs ${TABLE_SIZE * wordBytes} bytes (256×256 × ${wordBytes}), found ${bytes.length}`);
  }
  if (type === 'int32') {
    const table = new Int32Array(TABLE_SIZE);
    for (let i = 0; i < TABLE_SIZE; i++) table[i] = bytes.readInt32LE(4 * i);
    return [true, false].map((signed) => ({signed, table}));
  }
  const words = Int32Array.from({length: TABLE_SIZE}, (_, i) => bytes.readUInt16LE(2 * i));
  const asSigned = words.map((w) => twosComplement(w, 16));
  // An explicit int16/uint16 fixes the reading; a detected 16-bit file offers both.
  if (type === 'int16' || !explicit) return [{signed: true, table: asSigned}, ...(explicit ? [] : [{signed: false, table: words}])];
  return [{signed: false, table: words}];
}

function parseText(file: string, text: string): Int32Array {
  const table = new Int32Array(TABLE_SIZE);
  let count = 0;
  const lines = text.split('\n');
  for (let line = 0; line < lines.length; line++) {
    for (const token of (lines[line] ?? '').split(/[\s,;]+/).filter(Boolean)) {
      if (!/^[+-]?\d+$/.test(token)) throw new TableImportError(file, `line ${line + 1}: entry "${token.slice(0, 30)}" is not an integer`);
      if (count >= TABLE_SIZE) throw new TableImportError(file, `more than ${TABLE_SIZE} entries (line ${line + 1}); a table is 256×256`);
      table[count++] = Number(token);
    }
  }
  if (count !== TABLE_SIZE) throw new TableImportError(file, `${count} entries; a 256×256 table has ${TABLE_SIZE}`);
  return table;
}
