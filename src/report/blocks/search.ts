// The search: every evaluated configuration, the Pareto front and the chosen point (the search
// library's plot), plus the front and the best assignment as tables.
import {bestFeasible, paretoFront, type EvaluatedPoint, type SearchMethod} from '../../approx/search/index.js';
import {searchPlotSvg} from '../svg/search-plot.js';
import {decimal, percent, points, type Block} from '../document.js';
import type {ConfirmedCandidateSection, SearchConfirmation, SearchPoint, SearchSection} from '../sections.js';

/** The search answer's drop where the pipeline evaluated it on the test set: baseline top-1 − the answer's top-1, on `samples` images. */
export interface TestSetDrop {
  drop: number;
  samples: number;
  /** The accuracy labels it came from, for the text. */
  baseline: string;
  model: string;
}

/** Fills what an older or smaller producer leaves out: baseline, threshold, feasibility, front, best. */
function completeSearch(section: SearchSection): {baseline: number; maxDrop: number; points: EvaluatedPoint[]; pareto: EvaluatedPoint[]; best?: EvaluatedPoint} {
  const withDrop = section.points.find((p) => p.drop !== undefined);
  const baseline = section.baselineAccuracy ?? (withDrop !== undefined ? withDrop.accuracy + withDrop.drop! : Math.max(...section.points.map((p) => p.accuracy)));
  const flagged = section.points.filter((p) => p.feasible === true).map((p) => baseline - p.accuracy);
  const maxDrop = section.maxAccuracyDrop ?? Math.max(0, ...flagged);
  const complete = (p: SearchPoint, index: number): EvaluatedPoint => ({
    accuracy: p.accuracy,
    relativePower: p.relativePower,
    drop: p.drop ?? baseline - p.accuracy,
    feasible: p.feasible ?? baseline - p.accuracy <= maxDrop + 1e-12,
    assignment: p.assignment ?? {},
    order: index + 1,
  });
  const all = section.points.map(complete);
  const best = section.best !== undefined ? complete(section.best, -1) : bestFeasible(all);
  return {baseline, maxDrop, points: all, pareto: section.pareto?.map(complete) ?? paretoFront(all), ...(best !== undefined ? {best} : {})};
}

/** The chosen point's power: the whole model's when the search computed it, the approximated layers' beside it. */
function bestPower(wholeModel: number | undefined, layers: number): string {
  const approximated = `relative power ${decimal(layers)} in the approximated layers (${percent(1 - layers, 1)} saved)`;
  return wholeModel === undefined ? approximated : `${percent(1 - wholeModel, 1)} of the whole model's multiplier power saved (relative power ${decimal(wholeModel)}); ${approximated}`;
}

const dropText = (drop: number): string => points(-drop);
const holdoutText = (c: ConfirmedCandidateSection): string =>
  `${dropText(c.holdout.drop)} on ${c.holdout.samples} hold-out images (${dropText(c.holdout.interval.high)} … ${dropText(c.holdout.interval.low)})`;

/**
 * The answer's three drops — on the search subset, on the hold-out (with its interval) and on the test
 * set when the pipeline evaluated it — and a warning when the test set and the hold-out disagree beyond
 * the hold-out's interval, or the test-set drop passes the threshold.
 */
function confirmationBlocks(confirmation: SearchConfirmation, testSet: TestSetDrop | undefined): Block[] {
  const confidence = percent(confirmation.confidence, 0);
  const threshold = confirmation.maxAccuracyDrop - (confirmation.margin ?? 0);
  const answer = confirmation.answer;
  const lines: string[] = [];
  if (answer !== undefined) {
    lines.push(`Confirmed answer (its drop is within ${decimal(100 * threshold)} pt at the confidence the search was asked for; hold-out interval at ${confidence}): ${dropText(answer.searchDrop)} on the search images, ${holdoutText(answer)}.`);
  } else {
    const closest = confirmation.closest;
    lines.push(`No configuration meets the threshold at the requested confidence on the hold-out${closest === undefined ? '' : `; the closest: ${dropText(closest.searchDrop)} on the search images, ${holdoutText(closest)}`}.`);
  }
  if (testSet !== undefined && answer !== undefined) {
    lines.push(`On the test set (${testSet.baseline} vs ${testSet.model}, ${testSet.samples} images): ${dropText(testSet.drop)}.`);
    const outside = testSet.drop > answer.holdout.interval.high || testSet.drop < answer.holdout.interval.low;
    if (testSet.drop > threshold) lines.push(`Warning: the test-set drop exceeds the threshold of ${decimal(100 * threshold)} pt.`);
    else if (outside) lines.push('Warning: the test-set drop lies outside the hold-out interval: the two disagree beyond sampling noise.');
  }
  return [
    {kind: 'heading', level: 3, text: 'Confirmation on held-out images'},
    {kind: 'paragraph', text: lines.join(' ')},
    {
      kind: 'table',
      columns: ['relative power (approximated layers)', 'search drop', 'hold-out drop', `${confidence} interval`, 'images', 'verdict'],
      align: ['right', 'right', 'right', 'right', 'right', 'left'],
      rows: confirmation.candidates.map((c) => [
        decimal(c.relativePower),
        dropText(c.searchDrop),
        dropText(c.holdout.drop),
        `${dropText(c.holdout.interval.high)} … ${dropText(c.holdout.interval.low)}`,
        String(c.holdout.samples),
        c.verdict,
      ]),
    },
  ];
}

export function searchBlocks(section: SearchSection, testSet?: TestSetDrop): Block[] {
  const search = completeSearch(section);
  const method = section.method ?? 'search';
  // The plot reads `method` only for its default title, which is given here: any producer's name will do.
  const svg = searchPlotSvg({method: method as SearchMethod, points: search.points, pareto: search.pareto, best: search.best}, {
    baselineAccuracy: search.baseline,
    maxAccuracyDrop: search.maxDrop,
    title: `${method}: ${search.points.length} configurations evaluated`,
  });
  const blocks: Block[] = [
    {kind: 'heading', level: 2, text: 'Search'},
    {
      kind: 'paragraph',
      text:
        `${method}: ${search.points.length} configurations${section.samples !== undefined ? ` (each on ${section.samples} samples)` : ''}, ` +
        `${search.points.filter((p) => p.feasible).length} within the accuracy threshold ` +
        `(baseline ${percent(search.baseline)} − ${decimal(100 * search.maxDrop)} pt). ` +
        (search.best === undefined
          ? 'No configuration met the threshold.'
          : `Best: ${bestPower(section.best?.wholeModelRelativePower, search.best.relativePower)} at ${percent(search.best.accuracy)} top-1 (${points(-search.best.drop)}).`) +
        (section.powerModel !== undefined ? ` Power model: ${section.powerModel}.` : ''),
    },
    {kind: 'figure', name: 'search', caption: 'Accuracy vs relative multiplier power of every evaluated configuration; Pareto front and best point', svg},
    {kind: 'heading', level: 3, text: 'Pareto front'},
    {
      kind: 'table',
      columns: ['relative power (approximated layers)', 'top-1', 'vs baseline', 'within threshold'],
      align: ['right', 'right', 'right', 'left'],
      rows: search.pareto.map((p) => [decimal(p.relativePower), percent(p.accuracy), points(-p.drop), p.feasible ? 'yes' : 'no']),
    },
  ];
  if (section.confirmation !== undefined) blocks.push(...confirmationBlocks(section.confirmation, testSet));
  const assignment = Object.entries(search.best?.assignment ?? {});
  if (assignment.length > 0) {
    blocks.push({kind: 'heading', level: 3, text: 'Best assignment'}, {kind: 'table', columns: ['layer', 'multiplier'], rows: assignment});
  }
  return blocks;
}
