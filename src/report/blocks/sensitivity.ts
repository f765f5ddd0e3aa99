// Per-layer sensitivity: the search library's heatmap (layers × multipliers) and the same drops as a
// table, so the Markdown rendering carries the numbers too.
import {sensitivityHeatmapSvg} from '../../approx/search/index.js';
import {percent, points, type Block} from '../document.js';
import type {SensitivitySection} from '../sections.js';

export function sensitivityBlocks(matrix: SensitivitySection): Block[] {
  const drops = new Map(matrix.cells.map((cell) => [`${cell.layer}\u0000${cell.multiplier}`, cell.drop]));
  const columns = matrix.multipliers.filter((m) => matrix.cells.some((cell) => cell.multiplier === m));
  const worst = matrix.cells.reduce<SensitivitySection['cells'][number] | undefined>((w, cell) => (w === undefined || cell.drop > w.drop ? cell : w), undefined);
  const blocks: Block[] = [
    {kind: 'heading', level: 2, text: 'Sensitivity'},
    {
      kind: 'paragraph',
      text:
        `Each layer alone on each multiplier, every other layer exact; accuracy drop from the exact baseline ${percent(matrix.baselineAccuracy)} top-1.` +
        (worst === undefined ? '' : ` Most sensitive: ${worst.layer} on ${worst.multiplier} (${points(-worst.drop)}).`),
    },
    {kind: 'figure', name: 'sensitivity', caption: 'Accuracy drop (fraction) per layer × multiplier', svg: sensitivityHeatmapSvg(matrix)},
    {
      kind: 'table',
      columns: ['layer', ...columns],
      align: ['left', ...columns.map((): 'right' => 'right')],
      rows: matrix.layers.map((layer) => [
        layer,
        ...columns.map((m) => {
          const drop = drops.get(`${layer}\u0000${m}`);
          return drop === undefined ? '–' : points(-drop);
        }),
      ]),
    },
  ];
  return blocks;
}
