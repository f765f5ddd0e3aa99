// Baseline vs approximate accuracy: one row per labelled evaluation, the difference to the first
// (the baseline), and per-class accuracy side by side when the classes are few enough to read.
import {decimal, integer, percent, points, type Block} from '../document.js';
import type {AccuracyMetrics} from '../sections.js';

/** Past this many classes the per-class table stops being readable (ImageNet has 1000). */
const MAX_CLASS_ROWS = 20;

export function accuracyBlocks(runs: Readonly<Record<string, AccuracyMetrics>>): Block[] {
  const entries = Object.entries(runs);
  const baseline = entries[0];
  if (baseline === undefined) return [];
  const [baselineLabel, baselineMetrics] = baseline;
  const blocks: Block[] = [
    {kind: 'heading', level: 2, text: 'Accuracy'},
    {
      kind: 'table',
      columns: ['model', 'top-1', 'top-5', 'mean loss', 'samples', `top-1 vs ${baselineLabel}`],
      align: ['left', 'right', 'right', 'right', 'right', 'right'],
      rows: entries.map(([label, m]) => [
        label,
        percent(m.top1),
        m.top5 === undefined ? '–' : percent(m.top5),
        m.meanLoss === undefined ? '–' : decimal(m.meanLoss),
        m.count === undefined ? '–' : integer(m.count),
        label === baselineLabel ? '–' : points(m.top1 - baselineMetrics.top1),
      ]),
    },
  ];
  const perClass = entries.filter(([, m]) => m.perClass !== undefined && m.perClass.length > 0);
  const classes = perClass[0]?.[1].perClass ?? [];
  if (classes.length > 0 && classes.length <= MAX_CLASS_ROWS) {
    blocks.push(
      {kind: 'heading', level: 3, text: 'Per-class top-1'},
      {
        kind: 'table',
        columns: ['class', 'samples', ...perClass.map(([label]) => label)],
        align: ['left', 'right', ...perClass.map((): 'right' => 'right')],
        rows: classes.map((c, index) => [
          c.name,
          integer(c.count),
          ...perClass.map(([, m]) => {
            const accuracy = m.perClass?.[index]?.accuracy;
            return accuracy === undefined || accuracy === null ? '–' : percent(accuracy, 1);
          }),
        ]),
      },
    );
  }
  return blocks;
}
