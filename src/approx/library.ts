// Multipliers by name: the vendored EvoApproxLib circuits (assets/evoapprox), aliases for the exact ones,
// the generated families (families/) and files to import (a table or a Verilog module, by path).
import {readFileSync, readdirSync, statSync} from 'node:fs';
import {extname} from 'node:path';
import {fileURLToPath} from 'node:url';
import {FamilyNameError, familyGrammar, generatedMultiplier, representativeNames} from './families/index.js';
import {SIGN_MAGNITUDE_PREFIX, signMagnitude} from './families/sign-magnitude.js';
import {importTableFile, TableImportError} from './import/table-file.js';
import {importVerilog, VerilogImportError} from './import/verilog.js';
import {makeMultiplier, TABLE_SIZE, type HardwareFigures, type Multiplier} from './multiplier.js';

const EVOAPPROX_DIR = fileURLToPath(new URL('../../assets/evoapprox/', import.meta.url));
const EVOAPPROX_CITATION =
  'V. Mrazek, R. Hrbacek, Z. Vasicek, L. Sekanina, "EvoApprox8b: Library of approximate adders and multipliers for circuit design and benchmarking of approximation methods", DATE 2017';

/** Names that stand for the library's exact circuits. */
export const EXACT_ALIASES: Readonly<Record<string, string>> = {exact8s: 'mul8s_1KV8', exact8u: 'mul8u_1JFF'};

export class UnknownMultiplierError extends Error {
  constructor(
    readonly requested: string,
    readonly suggestions: string[],
    message?: string,
  ) {
    super(
      message ??
        `unknown multiplier "${requested}"` +
          (suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?` : '.') +
          ` Run "axx multipliers" for the list; generated families: ${familyGrammar().join(', ')}; files: path.v, path.bin or file:path.`,
    );
    this.name = 'UnknownMultiplierError';
  }
}

export interface EvoApproxRecord {
  name: string;
  signed: boolean;
  /** The figures metrics.csv states, by column name (MAE%, WCE, PDK45_PWR …). */
  published: Record<string, number>;
  paretoSets: string[];
  sourceFile: string;
}

let records: Map<string, EvoApproxRecord> | undefined;
const loaded = new Map<string, Multiplier>();

/** metrics.csv of the vendored library, by circuit name. */
export function evoApproxRecords(): ReadonlyMap<string, EvoApproxRecord> {
  if (records) return records;
  const lines = readFileSync(EVOAPPROX_DIR + 'metrics.csv', 'utf8').trim().split(/\r?\n/);
  const header = (lines.shift() ?? '').split(',');
  records = new Map();
  for (const line of lines) {
    const cells = line.split(',');
    const row = Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
    const published: Record<string, number> = {};
    for (const column of header) {
      if (['name', 'operands', 'pareto_sets', 'source_file'].includes(column)) continue;
      published[column] = Number(row[column]);
    }
    const name = row['name'] ?? '';
    records.set(name, {
      name,
      signed: row['operands'] === 'signed',
      published,
      paretoSets: (row['pareto_sets'] ?? '').split(' ').filter(Boolean),
      sourceFile: row['source_file'] ?? '',
    });
  }
  return records;
}

function evoApprox(name: string): Multiplier | undefined {
  const record = evoApproxRecords().get(name);
  if (!record) return undefined;
  const bytes = readFileSync(`${EVOAPPROX_DIR}${name}.bin`);
  if (bytes.length !== TABLE_SIZE * 2) throw new Error(`${EVOAPPROX_DIR}${name}.bin: expected ${TABLE_SIZE * 2} bytes, found ${bytes.length}`);
  const table = new Int32Array(TABLE_SIZE);
  for (let i = 0; i < TABLE_SIZE; i++) table[i] = record.signed ? bytes.readInt16LE(2 * i) : bytes.readUInt16LE(2 * i);
  const exact = record.published['MAE'] === 0 && record.published['WCE'] === 0;
  const hardware: HardwareFigures = {
    powerMw: record.published['PDK45_PWR'] ?? null,
    areaUm2: record.published['PDK45_AREA'] ?? null,
    delayNs: record.published['PDK45_DELAY'] ?? null,
    technology: 'PDK45 (45 nm)',
  };
  return makeMultiplier({
    name,
    signed: record.signed,
    table,
    provenance: {
      source: exact ? 'exact' : 'evoapprox',
      description: `EvoApproxLib ${record.signed ? 'signed' : 'unsigned'} 8×8 multiplier ${name} (${record.sourceFile})`,
      citation: EVOAPPROX_CITATION,
    },
    hardware,
  });
}

/**
 * The multiplier `name` stands for: an EvoApprox circuit (`mul8s_1L2H`), an exact alias (`exact8s`,
 * `exact8u`), a generated family member (`trunc8s_k4c`, see families/index.ts), or a file — a path ending
 * in .v (Verilog, simulated with iverilog; `path.v#module` picks a module), .bin/.txt/.csv (a table), or any
 * path written `file:<path>`;
 * `sm8s_<unsigned name>` puts an unsigned circuit behind a sign-magnitude wrapper.
 * Unknown names throw UnknownMultiplierError with suggestions.
 */
export function resolveMultiplier(name: string): Multiplier {
  const canonical = EXACT_ALIASES[name] ?? name;
  const file = filePath(name);
  const key = file === undefined ? canonical : `${fileKey(file.file)}#${file.module ?? ''}`;
  const cached = loaded.get(key);
  if (cached) return cached;
  const found = file !== undefined ? importFile(file, name) : (evoApprox(canonical) ?? generatedMultiplier(canonical) ?? wrapped(canonical));
  if (!found) throw new UnknownMultiplierError(name, suggest(name, [...knownNames(), ...representativeNames()]));
  loaded.set(key, found);
  return found;
}

/** `sm8s_<unsigned circuit>`: the circuit behind a sign-magnitude wrapper. */
function wrapped(name: string): Multiplier | undefined {
  if (!name.startsWith(SIGN_MAGNITUDE_PREFIX)) return undefined;
  const core = resolveMultiplier(name.slice(SIGN_MAGNITUDE_PREFIX.length));
  if (core.signed) throw new UnknownMultiplierError(name, [], `multiplier "${name}": ${core.name} takes signed operands already; the sm8s_ wrapper needs an unsigned circuit (mul8u_*, *8u_*)`);
  return signMagnitude(core);
}

const TABLE_EXTENSIONS = ['.bin', '.txt', '.csv'];

/** The file a name refers to, and for Verilog the module after "#" (`my_mults.v#mul_a`). */
function filePath(name: string): {file: string; module?: string} | undefined {
  const path = name.startsWith('file:') ? name.slice('file:'.length) : name;
  const hash = path.lastIndexOf('#');
  const [file, module] = hash > 0 && extname(path.slice(0, hash)).toLowerCase() === '.v' ? [path.slice(0, hash), path.slice(hash + 1)] : [path];
  const extension = extname(file).toLowerCase();
  if (!name.startsWith('file:') && extension !== '.v' && !TABLE_EXTENSIONS.includes(extension)) return undefined;
  return module === undefined ? {file} : {file, module};
}

/** Files are re-imported when they change. */
function fileKey(file: string): string {
  try {
    const stat = statSync(file);
    return `file:${file}@${stat.size}:${stat.mtimeMs}`;
  } catch {
    throw new UnknownMultiplierError(file, [], `no such file "${file}" (multiplier files are resolved from the current directory)`);
  }
}

function importFile({file, module}: {file: string; module?: string}, name: string): Multiplier {
  if (extname(file).toLowerCase() !== '.v') return importTableFile(file, {name});
  return importVerilog(file, module === undefined ? {name} : {name, module});
}

/** True for the errors resolveMultiplier throws on bad input (unknown name, bad parameters, unusable file). */
export function isMultiplierInputError(error: unknown): error is Error {
  return error instanceof UnknownMultiplierError || error instanceof FamilyNameError || error instanceof TableImportError || error instanceof VerilogImportError;
}

/** Names of the built-in circuits (EvoApprox library), signed first, and the exact aliases. */
function knownNames(): string[] {
  const fromFiles = readdirSync(EVOAPPROX_DIR).filter((f) => f.endsWith('.bin')).map((f) => f.slice(0, -4));
  return [...fromFiles.sort(), ...Object.keys(EXACT_ALIASES)];
}

/** All EvoApprox circuits, then a representative set of generated ones (any valid family name resolves). */
/**
 * Content ids of named multipliers, for cache keys (a renamed or re-imported table keys the same); null where a
 * name does not resolve, which the step using it reports precisely when it runs.
 */
export function multiplierIds(names: Iterable<string>): Record<string, string | null> {
  const ids: Record<string, string | null> = {};
  for (const name of names) {
    try {
      ids[name] = resolveMultiplier(name).id;
    } catch {
      ids[name] = null;
    }
  }
  return ids;
}

export function listMultipliers(): Multiplier[] {
  return [...evoApproxRecords().keys(), ...representativeNames()].map((name) => resolveMultiplier(name));
}

/** Up to three known names closest to `name` by edit distance. */
function suggest(name: string, candidates: readonly string[]): string[] {
  const scored = candidates.map((c) => ({c, d: editDistance(name.toLowerCase(), c.toLowerCase())}));
  const limit = Math.max(2, Math.floor(name.length / 3));
  return scored.filter((s) => s.d <= limit).sort((x, y) => x.d - y.d).slice(0, 3).map((s) => s.c);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
