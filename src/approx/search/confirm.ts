// Confirmation of search answers on images the search never saw. A search scores many configurations on
// one subset and keeps the cheapest that looks within the threshold there, so its answer tends to sit on
// the threshold by luck of that subset (winner's curse). Candidates from the search's front are scored
// again on hold-out stages, paired with the exact model on the same images, and the answer is the
// cheapest candidate whose drop is within the threshold at the requested confidence. Stages are looked
// at one after another, so clear cases stop early and close ones get more images (sequential testing);
// the error rate is split over every look at every candidate (Bonferroni), so the chance that the
// answer's true drop exceeds the threshold stays below 1 − confidence.
import {dropVerdict, normalQuantile, type DropVerdict, type Interval, type PairedDrop} from '../../util/statistics.js';
import {pairedAgainst} from './correctness.js';
import type {Assignment, EvaluatedPoint, EvaluationOutcome} from './types.js';

/** A disjoint set of hold-out images; `evaluate` must report per-image correctness. */
export interface HoldoutStage {
  samples: number;
  evaluate(assignment: Assignment, signal: AbortSignal): Promise<EvaluationOutcome>;
}

export interface ConfirmationOptions {
  /** Largest accepted drop, accuracy units. */
  maxAccuracyDrop: number;
  /** Wanted probability that the answer's true drop is within `maxAccuracyDrop − margin`, e.g. 0.9. */
  confidence: number;
  /** A safety margin subtracted from the threshold, accuracy units (default 0). */
  margin?: number;
  /** Candidates scored at most (default 4); the error rate is split over them. */
  maxCandidates?: number;
  /** The all-exact configuration: the baseline every candidate is paired with. */
  baseline: Assignment;
  signal?: AbortSignal;
}

export interface ConfirmedCandidate {
  assignment: Assignment;
  relativePower: number;
  /** Drop on the search subset. */
  searchDrop: number;
  /** Paired with the baseline on the hold-out images scored (the stages looked at). */
  holdout: PairedDrop & {interval: Interval};
  /** `within`: confirmed; `beyond`: its drop exceeds the threshold; `undecided`: the hold-out could not tell. */
  verdict: DropVerdict;
  stages: number;
}

export interface Confirmation {
  confidence: number;
  margin: number;
  maxAccuracyDrop: number;
  /** One-sided error rate of each look (1 − confidence over candidates × stages). */
  alphaPerLook: number;
  /** In the order scored (power ascending). */
  candidates: ConfirmedCandidate[];
  /** The cheapest confirmed candidate. */
  answer?: ConfirmedCandidate;
  /** Without an answer: the candidate whose upper bound came closest to the threshold. */
  closest?: ConfirmedCandidate;
  /** Hold-out stage evaluations (baseline included) and the images they scored. */
  evaluations: number;
  images: number;
}

/**
 * The configurations within the threshold on the search subset, cheapest first, keeping those whose
 * search drop would pass on the hold-out if it repeated there (or, when none would, those with the
 * lowest search drops). Dominated points count too: on the search subset they lost by noise as often
 * as not. Choosing on the search subset costs no error rate: the hold-out is independent of it.
 */
export function confirmationCandidates(points: readonly EvaluatedPoint[], options: {maxAccuracyDrop: number; margin: number; holdoutSamples: number; alphaPerLook: number; maxCandidates: number}): EvaluatedPoint[] {
  const feasible = points.filter((p) => p.feasible).sort((a, b) => a.relativePower - b.relativePower || a.drop - b.drop);
  const z = normalQuantile(1 - options.alphaPerLook);
  // A discordance of twice the drop plus 1 %, typical of approximate multipliers, sets the hold-out's resolution.
  const promising = feasible.filter((p) => p.drop + z * Math.sqrt((2 * Math.max(p.drop, 0) + 0.01) / options.holdoutSamples) <= options.maxAccuracyDrop - options.margin);
  const chosen = promising.length > 0 ? promising : [...feasible].sort((a, b) => a.drop - b.drop || a.relativePower - b.relativePower);
  return chosen.slice(0, options.maxCandidates).sort((a, b) => a.relativePower - b.relativePower);
}

export async function confirm(points: readonly EvaluatedPoint[], stages: readonly HoldoutStage[], options: ConfirmationOptions): Promise<Confirmation> {
  if (stages.length === 0) throw new RangeError('confirm: no hold-out stages');
  if (!(options.confidence > 0.5 && options.confidence < 1)) throw new RangeError(`confirm: confidence must be in (0.5, 1), got ${options.confidence}`);
  const signal = options.signal ?? new AbortController().signal;
  const margin = options.margin ?? 0;
  const maxCandidates = options.maxCandidates ?? 4;
  const alphaPerLook = (1 - options.confidence) / (maxCandidates * stages.length);
  const limit = options.maxAccuracyDrop - margin;
  const holdoutSamples = stages.reduce((sum, stage) => sum + stage.samples, 0);
  const candidates = confirmationCandidates(points, {maxAccuracyDrop: options.maxAccuracyDrop, margin, holdoutSamples, alphaPerLook, maxCandidates});

  let evaluations = 0;
  let images = 0;
  const baselineStages: (string | undefined)[] = [];
  const scored = async (assignment: Assignment, stage: number): Promise<string> => {
    const outcome = await stages[stage]!.evaluate(assignment, signal);
    evaluations++;
    images += stages[stage]!.samples;
    if (outcome.correct === undefined) throw new TypeError('confirm: hold-out evaluations must report per-image correctness');
    return outcome.correct;
  };

  const confirmed: ConfirmedCandidate[] = [];
  for (const candidate of candidates) {
    let onlyBaseline = 0;
    let onlyCandidate = 0;
    let samples = 0;
    let look: ReturnType<typeof dropVerdict> | undefined;
    let stage = 0;
    for (; stage < stages.length && look?.verdict !== 'within' && look?.verdict !== 'beyond'; stage++) {
      baselineStages[stage] ??= await scored(options.baseline, stage);
      const paired = pairedAgainst(baselineStages[stage]!, await scored(candidate.assignment, stage), stages[stage]!.samples);
      onlyBaseline += paired.onlyBaselineCorrect;
      onlyCandidate += paired.onlyCandidateCorrect;
      samples += paired.samples;
      look = dropVerdict({samples, onlyBaselineCorrect: onlyBaseline, onlyCandidateCorrect: onlyCandidate, drop: (onlyBaseline - onlyCandidate) / samples}, limit, alphaPerLook);
    }
    const entry: ConfirmedCandidate = {
      assignment: {...candidate.assignment},
      relativePower: candidate.relativePower,
      searchDrop: candidate.drop,
      holdout: {samples, onlyBaselineCorrect: onlyBaseline, onlyCandidateCorrect: onlyCandidate, drop: (onlyBaseline - onlyCandidate) / samples, interval: look!.bounds},
      verdict: look!.verdict,
      stages: stage,
    };
    confirmed.push(entry);
    if (entry.verdict === 'within') break;
  }
  const answer = confirmed.find((c) => c.verdict === 'within');
  const result: Confirmation = {confidence: options.confidence, margin, maxAccuracyDrop: options.maxAccuracyDrop, alphaPerLook, candidates: confirmed, evaluations, images};
  if (answer !== undefined) result.answer = answer;
  else if (confirmed.length > 0) result.closest = confirmed.reduce((a, b) => (b.holdout.interval.high < a.holdout.interval.high ? b : a));
  return result;
}
