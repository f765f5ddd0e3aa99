// Error metrics of a multiplier against the exact product, with EvoApproxLib's definitions (checked
// against all 49 circuits of assets/evoapprox/metrics.csv), uniformly over all operand pairs or weighted
// by an operand distribution (activation × weight byte histograms).
import {factorize} from './lowrank.js';
import {operandValue, TABLE_SIZE, type Multiplier} from './multiplier.js';

export interface ErrorMetrics {
  /** Mean |approx − exact|. */
  mae: number;
  /** MAE as a percentage of the output range 2^16. */
  maePercent: number;
  /** Worst-case |approx − exact|. */
  wce: number;
  /** WCE as a percentage of 2^16. */
  wcePercent: number;
  /** Worst-case relative error |e| / |exact| over pairs whose exact product is non-zero, in percent. */
  wcrePercent: number;
  /** Mean relative error |e| / |exact| over pairs whose exact product is non-zero, in percent. */
  mrePercent: number;
  /** Error probability: share of operand pairs with a wrong result, in percent. */
  epPercent: number;
  /** Mean squared error. */
  mse: number;
  /** Mean signed error (approx − exact): the bias. */
  meanError: number;
  /** Standard deviation of the signed error. */
  errorStd: number;
}

/** Output range EvoApprox normalises MAE% and WCE% by (16-bit result). */
const OUTPUT_RANGE = 2 ** 16;

/**
 * Operand distribution as two 256-bin histograms over raw bytes (index = byte & 0xff, as in the table):
 * `a` for the row operand (activations), `b` for the column operand (weights). Counts need not be
 * normalised; pairs are weighted by a[i]·b[j].
 */
export interface OperandDistribution {
  a: ArrayLike<number>;
  b: ArrayLike<number>;
}

/** The metrics of `multiplier`, uniform over all 65,536 operand pairs unless `distribution` is given. */
export function errorMetrics(multiplier: Pick<Multiplier, 'signed' | 'table'>, distribution?: OperandDistribution): ErrorMetrics {
  const {signed, table} = multiplier;
  if (table.length !== TABLE_SIZE) throw new Error(`a multiplier table has ${TABLE_SIZE} entries, got ${table.length}`);
  const weightsA = normalised(distribution?.a, 'a');
  const weightsB = normalised(distribution?.b, 'b');
  let sumAbs = 0;
  let sumRel = 0;
  // Relative errors are undefined where the exact product is 0; EvoApprox averages over the other pairs.
  let nonZeroWeight = 0;
  let sumErr = 0;
  let sumSq = 0;
  let wrong = 0;
  let wce = 0;
  let wcre = 0;
  for (let a = 0; a < 256; a++) {
    const wa = weightsA[a]!;
    const va = operandValue(signed, a);
    for (let b = 0; b < 256; b++) {
      const exact = va * operandValue(signed, b);
      // The worst cases are over pairs that can occur (non-zero weight).
      const w = wa * weightsB[b]!;
      if (w === 0) continue;
      if (exact !== 0) nonZeroWeight += w;
      const error = table[a * 256 + b]! - exact;
      if (error === 0) continue;
      const abs = Math.abs(error);
      sumAbs += w * abs;
      if (exact !== 0) {
        const relative = abs / Math.abs(exact);
        sumRel += w * relative;
        if (relative > wcre) wcre = relative;
      }
      sumErr += w * error;
      sumSq += w * error * error;
      wrong += w;
      if (abs > wce) wce = abs;
    }
  }
  const variance = Math.max(0, sumSq - sumErr * sumErr);
  return {
    mae: sumAbs,
    maePercent: (100 * sumAbs) / OUTPUT_RANGE,
    wce,
    wcePercent: (100 * wce) / OUTPUT_RANGE,
    wcrePercent: 100 * wcre,
    mrePercent: nonZeroWeight === 0 ? 0 : (100 * sumRel) / nonZeroWeight,
    epPercent: 100 * wrong,
    mse: sumSq,
    meanError: sumErr,
    errorStd: Math.sqrt(variance),
  };
}

function normalised(histogram: ArrayLike<number> | undefined, which: 'a' | 'b'): Float64Array {
  if (histogram === undefined) return new Float64Array(256).fill(1 / 256);
  if (histogram.length !== 256) throw new Error(`operand histogram ${which} needs 256 bins (one per byte), got ${histogram.length}`);
  let total = 0;
  for (let i = 0; i < 256; i++) {
    const count = histogram[i]!;
    if (!Number.isFinite(count) || count < 0) throw new Error(`operand histogram ${which}: bin ${i} is ${count}; counts must be finite and ≥ 0`);
    total += count;
  }
  if (total === 0) throw new Error(`operand histogram ${which} is empty (all bins 0)`);
  return Float64Array.from({length: 256}, (_, i) => histogram[i]! / total);
}

/** What `axx multipliers`, `axx multiplier show` and the characterize step report about one circuit. */
export interface Characterization {
  name: string;
  id: string;
  signed: boolean;
  source: Multiplier['provenance']['source'];
  description: string;
  citation?: string;
  family?: NonNullable<Multiplier['provenance']['family']>;
  hardware: Multiplier['hardware'];
  /** Rank of the table (exact to 1e-6 per entry): the number of GEMMs the low-rank emulation needs. */
  rank: number;
  metrics: ErrorMetrics;
  /** The metrics under the operand distribution, when one is given. */
  weighted?: ErrorMetrics;
}

export function characterize(multiplier: Multiplier, distribution?: OperandDistribution): Characterization {
  const {provenance} = multiplier;
  return {
    name: multiplier.name,
    id: multiplier.id,
    signed: multiplier.signed,
    source: provenance.source,
    description: provenance.description,
    ...(provenance.citation === undefined ? {} : {citation: provenance.citation}),
    ...(provenance.family === undefined ? {} : {family: provenance.family}),
    hardware: multiplier.hardware,
    rank: tableRank(multiplier),
    metrics: errorMetrics(multiplier),
    ...(distribution === undefined ? {} : {weighted: errorMetrics(multiplier, distribution)}),
  };
}

const ranks = new Map<string, number>();

/** Rank of the table (factorize's default tolerance), computed once per content id. */
export function tableRank(multiplier: Pick<Multiplier, 'id' | 'table'>): number {
  let rank = ranks.get(multiplier.id);
  if (rank === undefined) {
    rank = factorize(multiplier.table).rank;
    ranks.set(multiplier.id, rank);
  }
  return rank;
}
