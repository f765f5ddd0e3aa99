// The search: every evaluated configuration, the Pareto front and the chosen point (the search
// library's plot), plus the front and the best assignment as tables.
import {bestFeasible, paretoFront, type EvaluatedPoint, type SearchMethod} from '../../approx/search/index.js';
import {searchPlotSvg} from '../svg/search-plot.js';
import {decimal, percent, points, type Block} from '../document.js';
import type {SearchPoint, SearchSection} from '../sections.js';

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

export function searchBlocks(section: SearchSection): Block[] {
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
  const assignment = Object.entries(search.best?.assignment ?? {});
  if (assignment.length > 0) {
    blocks.push({kind: 'heading', level: 3, text: 'Best assignment'}, {kind: 'table', columns: ['layer', 'multiplier'], rows: assignment});
  }
  return blocks;
}
