// Low-rank factorisation of 8-bit multiplier tables (docs/design.md §1).
//
// A multiplier is a 256×256 integer table L[a][b] (index a*256+b, operands as raw bytes). When
// L = Σ_k u_k v_kᵀ, an approximate dot product Σ_i L[a_i][b_i] equals Σ_k Σ_i u_k[a_i]·v_k[b_i]: the
// exact op on gathered operands. Two factorisations are offered:
//
// - `factorize`: fp64 factors by Gaussian elimination with complete pivoting (a rank-revealing
//   cross approximation). On an integer table of exact rank r it stops after exactly r steps with a
//   residual of ~1e-11, so the rank it reports is the table's rank, found in milliseconds.
// - `integerFactorization`: integer-valued factors in a few groups, each with an integer divisor,
//   L = Σ_g (U_g V_gᵀ)/d_g. With integer factors every product and partial sum of an fp32 GEMM is an
//   integer, so the GEMM is *exact* while Σ|terms| ≤ 2^24; this is what makes the fp32 emulation
//   bit-exact by construction rather than by luck (see `exactFp32Bound`).
//
// Tolerance: table entries are integers and a layer sums K of them, so an entry error ε becomes up
// to K·ε in the accumulator; the default tolerance 1e-6 keeps K·ε ≪ 0.5 for any practical K.

/** Operand values per side of a table (8-bit operands). */
const TABLE_SIZE = 256;
const ENTRIES = TABLE_SIZE * TABLE_SIZE;
export const DEFAULT_TOLERANCE = 1e-6;
/** Integers up to 2^24 are exact in fp32, and so is every sum of them that stays below it. */
export const FP32_EXACT_INTEGER_LIMIT = 2 ** 24;

export interface LowRankFactors {
  rank: number;
  /** Row operand factors, row-major [256, rank]: u[a*rank + k]. */
  u: Float64Array;
  /** Column operand factors, row-major [256, rank]: v[b*rank + k]. */
  v: Float64Array;
  /** max over all entries of |L[a][b] - Σ_k u[a,k]·v[b,k]|, evaluated in fp64. */
  maxAbsError: number;
}

export interface FactorizeOptions {
  /** Stop when every residual entry is at most this (default 1e-6). */
  tolerance?: number;
  /** Give up beyond this rank (default 256: always succeeds). */
  maxRank?: number;
}

/** The smallest-rank cross factorisation reproducing every entry within `tolerance`. */
export function factorize(table: Int32Array | Float64Array, opts: FactorizeOptions = {}): LowRankFactors {
  checkTable(table);
  const tolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
  const maxRank = opts.maxRank ?? TABLE_SIZE;
  const residual = Float64Array.from(table);
  const us: Float64Array[] = [];
  const vs: Float64Array[] = [];
  for (;;) {
    const pivot = largestEntry(residual);
    if (Math.abs(residual[pivot]!) <= tolerance || us.length >= maxRank) break;
    const [u, v] = crossTerm(residual, pivot);
    subtractOuter(residual, u, v);
    us.push(u);
    vs.push(v);
  }
  const factors = {rank: us.length, u: interleave(us), v: interleave(vs)};
  return {...factors, maxAbsError: maxAbsDeviation(table, [{...factors, divisor: 1}])};
}

/** A part of an integer factorisation: the table part Σ_k U[a,k]·V[b,k] / divisor (integer-valued). */
export interface FactorGroup {
  rank: number;
  /** Integer-valued, row-major [256, rank]. */
  u: Float64Array;
  v: Float64Array;
  /** Positive integer; the group's products sum to `divisor` × (an integer table part). */
  divisor: number;
}

/**
 * An exact factorisation with integer factors, L = Σ_g (U_g V_gᵀ)/d_g, of minimal total rank, or
 * undefined when none was found within safe integer range.
 *
 * First "integer peeling": Gaussian elimination whose pivot (i, j) is chosen so the rank-one term
 * R[:,j]·R[i,:]/R[i][j] stays integral (p divides gcd(column)·gcd(row)); for the EvoApprox circuits this
 * leaves the exact product plus tiny correction terms. Whatever rank remains (the elimination found
 * no integral pivot) becomes one group with divisor det(R[I,J]): R = R[:,J]·adj(R[I,J])·R[I,:]/det.
 */
export function integerFactorization(table: Int32Array | Float64Array, opts: {maxRank?: number} = {}): FactorGroup[] | undefined {
  checkTable(table);
  for (const x of table) if (!Number.isInteger(x)) return undefined;
  const maxRank = opts.maxRank ?? 32;
  const residual = Float64Array.from(table);
  const us: Float64Array[] = [];
  const vs: Float64Array[] = [];
  for (;;) {
    if (largestAbs(residual) === 0) break;
    if (us.length >= maxRank) return undefined;
    const term = integralCrossTerm(residual);
    if (term === undefined) break;
    subtractOuter(residual, term[0], term[1]);
    us.push(term[0]);
    vs.push(term[1]);
  }
  const groups: FactorGroup[] = [];
  if (us.length > 0) groups.push({rank: us.length, u: interleave(us), v: interleave(vs), divisor: 1});
  if (largestAbs(residual) > 0) {
    const rest = rationalRemainder(residual, maxRank - us.length);
    if (rest === undefined) return undefined;
    groups.push(rest);
  }
  return maxAbsDeviation(table, groups) === 0 ? groups : undefined;
}

/**
 * The trivial exact integer factorisation: one indicator factor per non-zero row,
 * u_r[a] = [a = r], v_r = L[r, :]. Rank up to 256, so as slow as a direct lookup, but it always exists.
 */
export function indicatorFactorization(table: Int32Array | Float64Array): FactorGroup {
  checkTable(table);
  const rows: number[] = [];
  for (let a = 0; a < TABLE_SIZE; a++) if (table.subarray(a * TABLE_SIZE, (a + 1) * TABLE_SIZE).some((x) => x !== 0)) rows.push(a);
  const rank = Math.max(rows.length, 1);
  const u = new Float64Array(TABLE_SIZE * rank);
  const v = new Float64Array(TABLE_SIZE * rank);
  rows.forEach((row, k) => {
    u[row * rank + k] = 1;
    for (let b = 0; b < TABLE_SIZE; b++) v[b * rank + k] = table[row * TABLE_SIZE + b]!;
  });
  return {rank, u, v, divisor: 1};
}

/**
 * The indicator factorisation of a table odd in its row operand, L[-a][b] = -L[a][b] (every
 * sign-magnitude circuit, bytes in two's complement; byte 0x80 has no negation and must hold a zero
 * row): u_r[r] = 1, u_r[-r] = -1, v_r = L[r, :] for each non-zero row r in 1…127 — half the rank of
 * `indicatorFactorization`. Undefined when the table is not odd.
 */
export function oddIndicatorFactorization(table: Int32Array | Float64Array): FactorGroup | undefined {
  checkTable(table);
  const half = TABLE_SIZE / 2;
  for (let b = 0; b < TABLE_SIZE; b++) if (table[b] !== 0 || table[half * TABLE_SIZE + b] !== 0) return undefined;
  const rows: number[] = [];
  for (let a = 1; a < half; a++) {
    const negated = (TABLE_SIZE - a) * TABLE_SIZE;
    for (let b = 0; b < TABLE_SIZE; b++) if (table[negated + b] !== -table[a * TABLE_SIZE + b]!) return undefined;
    if (table.subarray(a * TABLE_SIZE, (a + 1) * TABLE_SIZE).some((x) => x !== 0)) rows.push(a);
  }
  const rank = Math.max(rows.length, 1);
  const u = new Float64Array(TABLE_SIZE * rank);
  const v = new Float64Array(TABLE_SIZE * rank);
  rows.forEach((row, k) => {
    u[row * rank + k] = 1;
    u[(TABLE_SIZE - row) * rank + k] = -1;
    for (let b = 0; b < TABLE_SIZE; b++) v[b * rank + k] = table[row * TABLE_SIZE + b]!;
  });
  return {rank, u, v, divisor: 1};
}

/**
 * max over operand pairs of Σ_k |U[a,k]·V[b,k]| for one group: the largest contribution of one
 * product to the sum of absolute terms, so a K-term GEMM has Σ|terms| ≤ K × this.
 * `used` limits the operand bytes considered (e.g. narrow-range int8 never produces 0x80).
 */
export function termMagnitudeBound(group: Pick<FactorGroup, 'rank' | 'u' | 'v'>, used: (byte: number) => boolean = () => true): number {
  let worst = 0;
  for (let a = 0; a < TABLE_SIZE; a++) {
    if (!used(a)) continue;
    for (let b = 0; b < TABLE_SIZE; b++) {
      if (!used(b)) continue;
      let sum = 0;
      for (let k = 0; k < group.rank; k++) sum += Math.abs(group.u[a * group.rank + k]! * group.v[b * group.rank + k]!);
      worst = Math.max(worst, sum);
    }
  }
  return worst;
}

/**
 * Largest K for which an fp32 emulation with these integer groups is exact: every group GEMM's
 * Σ|terms| ≤ 2^24 (so each group sum is an exact integer whatever the summation order), and the
 * combination Σ_g S_g/d_g stays below 2^24 (each S_g/d_g is an integer the division hits exactly).
 */
export function exactFp32MaxK(groups: readonly FactorGroup[], used: (byte: number) => boolean = () => true): number {
  let maxK = Number.MAX_SAFE_INTEGER;
  let combined = 0;
  for (const group of groups) {
    maxK = Math.min(maxK, Math.floor(FP32_EXACT_INTEGER_LIMIT / termMagnitudeBound(group, used)));
    combined += termMagnitudeBound(group, used) / group.divisor;
    for (const x of group.u) if (Math.abs(x) > FP32_EXACT_INTEGER_LIMIT) return 0;
    for (const x of group.v) if (Math.abs(x) > FP32_EXACT_INTEGER_LIMIT) return 0;
  }
  return Math.min(maxK, Math.floor(FP32_EXACT_INTEGER_LIMIT / Math.max(combined, 1)));
}

/**
 * Worst-case |accumulator error| of an fp64 emulation with `factors` over a K-term dot product:
 * K × factorisation error + γ_n·Σ|terms| with n = K·rank + 1 products and sums (Higham's bound for any
 * summation order, unit roundoff 2^-53). Below 0.5, rounding the accumulator is bit-exact.
 */
export function fp64ErrorBound(factors: LowRankFactors, k: number, used: (byte: number) => boolean = () => true): number {
  const unitRoundoff = 2 ** -53;
  const n = k * factors.rank + 1;
  const gamma = (n * unitRoundoff) / (1 - n * unitRoundoff);
  return k * factors.maxAbsError + gamma * k * termMagnitudeBound(factors, used);
}

/** max |L - Σ_g U_g V_gᵀ/d_g| over all entries (fp64). */
export function maxAbsDeviation(table: ArrayLike<number>, groups: readonly FactorGroup[]): number {
  let worst = 0;
  for (let a = 0; a < TABLE_SIZE; a++) {
    for (let b = 0; b < TABLE_SIZE; b++) {
      let value = 0;
      for (const {rank, u, v, divisor} of groups) {
        let sum = 0;
        for (let k = 0; k < rank; k++) sum += u[a * rank + k]! * v[b * rank + k]!;
        value += sum / divisor;
      }
      worst = Math.max(worst, Math.abs(table[a * TABLE_SIZE + b]! - value));
    }
  }
  return worst;
}

function checkTable(table: ArrayLike<number>): void {
  if (table.length !== ENTRIES) throw new Error(`multiplier table must have ${ENTRIES} entries (256×256), got ${table.length}`);
}

function largestEntry(m: Float64Array): number {
  let best = 0;
  let bestAbs = -1;
  for (let i = 0; i < m.length; i++) {
    const x = Math.abs(m[i]!);
    if (x > bestAbs) {
      bestAbs = x;
      best = i;
    }
  }
  return best;
}

function largestAbs(m: Float64Array): number {
  return Math.abs(m[largestEntry(m)]!);
}

/** The rank-one cross term through `pivot`: u = R[:,j], v = R[i,:]/R[i][j]. */
function crossTerm(residual: Float64Array, pivot: number): [Float64Array, Float64Array] {
  const row = Math.floor(pivot / TABLE_SIZE);
  const col = pivot % TABLE_SIZE;
  const p = residual[pivot]!;
  const u = new Float64Array(TABLE_SIZE);
  const v = new Float64Array(TABLE_SIZE);
  for (let a = 0; a < TABLE_SIZE; a++) u[a] = residual[a * TABLE_SIZE + col]!;
  for (let b = 0; b < TABLE_SIZE; b++) v[b] = residual[row * TABLE_SIZE + b]! / p;
  return [u, v];
}

function subtractOuter(residual: Float64Array, u: Float64Array, v: Float64Array): void {
  for (let a = 0; a < TABLE_SIZE; a++) {
    const ua = u[a]!;
    if (ua === 0) continue;
    const base = a * TABLE_SIZE;
    for (let b = 0; b < TABLE_SIZE; b++) residual[base + b]! -= ua * v[b]!;
  }
}

function gcd(x: number, y: number): number {
  let a = Math.abs(x);
  let b = Math.abs(y);
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** An integral rank-one cross term of the integer residual, largest pivot first, or undefined. */
function integralCrossTerm(residual: Float64Array): [Float64Array, Float64Array] | undefined {
  const rowGcd = new Float64Array(TABLE_SIZE);
  const colGcd = new Float64Array(TABLE_SIZE);
  for (let a = 0; a < TABLE_SIZE; a++) {
    for (let b = 0; b < TABLE_SIZE; b++) {
      const x = residual[a * TABLE_SIZE + b]!;
      rowGcd[a] = gcd(rowGcd[a]!, x);
      colGcd[b] = gcd(colGcd[b]!, x);
    }
  }
  const candidates: number[] = [];
  for (let i = 0; i < ENTRIES; i++) if (residual[i] !== 0) candidates.push(i);
  candidates.sort((x, y) => Math.abs(residual[y]!) - Math.abs(residual[x]!));
  for (const pivot of candidates) {
    const row = Math.floor(pivot / TABLE_SIZE);
    const col = pivot % TABLE_SIZE;
    const p = residual[pivot]!;
    const scale = (colGcd[col]! * rowGcd[row]!) / p;
    if (!Number.isInteger(scale)) continue;
    // R[:,j]·R[i,:]/p = (R[:,j]/g_col · scale) ⊗ (R[i,:]/g_row): both integer vectors.
    const u = new Float64Array(TABLE_SIZE);
    const v = new Float64Array(TABLE_SIZE);
    for (let a = 0; a < TABLE_SIZE; a++) u[a] = (residual[a * TABLE_SIZE + col]! / colGcd[col]!) * scale;
    for (let b = 0; b < TABLE_SIZE; b++) v[b] = residual[row * TABLE_SIZE + b]! / rowGcd[row]!;
    return [u, v];
  }
  return undefined;
}

/**
 * R = R[:,J]·(adj(R[I,J])·R[I,:])/det(R[I,J]) for pivot rows I / columns J from complete pivoting:
 * integer factors and one divisor, reduced by their common gcd. Undefined beyond `maxRank` or
 * when the integers leave the exactly representable range.
 */
function rationalRemainder(residual: Float64Array, maxRank: number): FactorGroup | undefined {
  const cross = factorize(residual, {tolerance: 0.5, maxRank: maxRank + 1});
  if (cross.rank > maxRank || cross.rank === 0) return undefined;
  const rank = cross.rank;
  const {rows, cols} = pivotsOf(residual, rank);
  const core = rows.flatMap((i) => cols.map((j) => residual[i * TABLE_SIZE + j]!));
  const det = determinant(core, rank);
  if (det === 0 || Math.abs(det) > 2 ** 40) return undefined;
  const inverse = invert(core, rank);
  const u = new Float64Array(TABLE_SIZE * rank);
  const v = new Float64Array(TABLE_SIZE * rank);
  for (let a = 0; a < TABLE_SIZE; a++) for (let k = 0; k < rank; k++) u[a * rank + k] = residual[a * TABLE_SIZE + cols[k]!]!;
  for (let b = 0; b < TABLE_SIZE; b++) {
    for (let k = 0; k < rank; k++) {
      let sum = 0;
      for (let m = 0; m < rank; m++) sum += inverse[k * rank + m]! * residual[rows[m]! * TABLE_SIZE + b]!;
      v[b * rank + k] = Math.round(sum * Math.abs(det));
    }
  }
  let common = Math.abs(det);
  for (const x of v) common = gcd(common, x);
  for (let i = 0; i < v.length; i++) v[i]! /= common;
  return {rank, u, v, divisor: Math.abs(det) / common};
}

function pivotsOf(matrix: Float64Array, rank: number): {rows: number[]; cols: number[]} {
  const residual = Float64Array.from(matrix);
  const rows: number[] = [];
  const cols: number[] = [];
  for (let k = 0; k < rank; k++) {
    const pivot = largestEntry(residual);
    rows.push(Math.floor(pivot / TABLE_SIZE));
    cols.push(pivot % TABLE_SIZE);
    const [u, v] = crossTerm(residual, pivot);
    subtractOuter(residual, u, v);
  }
  return {rows, cols};
}

function determinant(m: readonly number[], n: number): number {
  const a = [...m];
  let det = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[p * n + c]!)) p = r;
    if (a[p * n + c] === 0) return 0;
    if (p !== c) {
      for (let k = 0; k < n; k++) [a[c * n + k], a[p * n + k]] = [a[p * n + k]!, a[c * n + k]!];
      det = -det;
    }
    det *= a[c * n + c]!;
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c]! / a[c * n + c]!;
      for (let k = c; k < n; k++) a[r * n + k]! -= f * a[c * n + k]!;
    }
  }
  return Math.round(det);
}

function invert(m: readonly number[], n: number): Float64Array {
  const a = Float64Array.from(m);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[p * n + c]!)) p = r;
    for (let k = 0; k < n; k++) {
      [a[c * n + k], a[p * n + k]] = [a[p * n + k]!, a[c * n + k]!];
      [inv[c * n + k], inv[p * n + k]] = [inv[p * n + k]!, inv[c * n + k]!];
    }
    const d = a[c * n + c]!;
    for (let k = 0; k < n; k++) {
      a[c * n + k]! /= d;
      inv[c * n + k]! /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c]!;
      for (let k = 0; k < n; k++) {
        a[r * n + k]! -= f * a[c * n + k]!;
        inv[r * n + k]! -= f * inv[c * n + k]!;
      }
    }
  }
  return inv;
}

/** Columns → row-major [256, rank]. */
function interleave(columns: readonly Float64Array[]): Float64Array {
  const rank = columns.length;
  const out = new Float64Array(TABLE_SIZE * rank);
  columns.forEach((column, k) => {
    for (let i = 0; i < TABLE_SIZE; i++) out[i * rank + k] = column[i]!;
  });
  return out;
}
