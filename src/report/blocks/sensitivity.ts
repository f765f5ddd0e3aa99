// Per-layer sensitivity: the search library's heatmap (layers × multipliers) and the same values as a
// table, so the Markdown rendering carries the numbers too. Accuracy drops on a small subset are often
// all zero; a smoother proxy the sensitivity step measured (logit KL …) then gets its own heatmap.
import {sensitivityHeatmapSvg} from '../svg/sensitivity-heatmap.js';
import {decimal, percent, points, type Block} from '../document.js';
import type {SensitivitySection} from '../sections.js';

type Cell = SensitivitySection['cells'][number];

function matrixTable(matrix: SensitivitySection, columns: readonly string[], text: (cell: Cell) => string): Block {
  const cells = new Map(matrix.cells.map((cell) => [`${cell.layer}\u0000${cell.multiplier}`, cell]));
  return {
    kind: 'table',
    columns: ['layer', ...columns],
    align: ['left', ...columns.map((): 'right' => 'right')],
    rows: matrix.layers.map((layer) => [
      layer,
      ...columns.map((m) => {
        const cell = cells.get(`${layer}\u0000${m}`);
        return cell === undefined ? '–' : text(cell);
      }),
    ]),
  };
}

/** The first proxy metric every cell has, if any. */
function commonProxy(matrix: SensitivitySection): string | undefined {
  const first = matrix.cells[0]?.metrics;
  return Object.keys(first ?? {}).find((name) => matrix.cells.every((cell) => typeof cell.metrics?.[name] === 'number'));
}

export function sensitivityBlocks(matrix: SensitivitySection): Block[] {
  const columns = matrix.multipliers.filter((m) => matrix.cells.some((cell) => cell.multiplier === m));
  const worst = matrix.cells.reduce<Cell | undefined>((w, cell) => (w === undefined || cell.drop > w.drop ? cell : w), undefined);
  const blocks: Block[] = [
    {kind: 'heading', level: 2, text: 'Sensitivity'},
    {
      kind: 'paragraph',
      text:
        `Each layer alone on each multiplier, every other layer exact; accuracy drop from the exact baseline ${percent(matrix.baselineAccuracy)} top-1.` +
        (worst === undefined ? '' : ` Most sensitive: ${worst.layer} on ${worst.multiplier} (${points(-worst.drop)}).`),
    },
    {
      kind: 'figure',
      name: 'sensitivity',
      caption: 'Top-1 change vs the exact baseline per layer × multiplier, in points (negative = worse)',
      svg: sensitivityHeatmapSvg(matrix, {title: 'sensitivity: top-1 change, pt (negative = worse)', label: (drop) => points(-drop)}),
    },
    matrixTable(matrix, columns, (cell) => points(-cell.drop)),
  ];
  const proxy = commonProxy(matrix);
  if (proxy !== undefined) {
    blocks.push(
      {kind: 'heading', level: 3, text: `Proxy: ${proxy}`},
      {kind: 'figure', name: `sensitivity-${proxy.replace(/[^\w-]/g, '_')}`, caption: `${proxy} per layer × multiplier (against the exact model)`, svg: sensitivityHeatmapSvg(matrix, {measure: proxy})},
      matrixTable(matrix, columns, (cell) => decimal(cell.metrics![proxy]!, 3)),
    );
  }
  return blocks;
}
