// Accuracy with its sampling noise: one row per labelled evaluation with its sample count and 95 % Wilson
// interval, the difference to the first (the baseline) in points, McNemar's exact test for each pair of
// consecutive models scored on the same samples, the sample size a finer resolution needs, per-class
// accuracy and the confusion matrices when the classes are few enough to read.
import {mcnemarExact, samplesForHalfWidth, wilsonInterval, type McNemarResult} from '../../util/statistics.js';
import {decimal, integer, percent, points, type Block} from '../document.js';
import type {AccuracyMetrics, CorrectnessBits} from '../sections.js';

/** Past this many classes the per-class table and confusion matrices stop being readable (ImageNet has 1000). */
const MAX_CLASS_ROWS = 20;

/** Significance level of the paired tests' verdict column. */
const ALPHA = 0.05;

/** The 95 % interval of a top-1 accuracy, when the sample count is known. */
export function top1Interval(m: AccuracyMetrics): {low: number; high: number} | undefined {
  if (m.count === undefined || m.count === 0) return undefined;
  return wilsonInterval(Math.round(m.top1 * m.count), m.count);
}

export function intervalText(m: AccuracyMetrics): string {
  const interval = top1Interval(m);
  return interval === undefined ? '–' : `${percent(interval.low)} – ${percent(interval.high)}`;
}

function decodeBits(bits: CorrectnessBits): Uint8Array {
  return Buffer.from(bits.bits, 'base64');
}

/** McNemar's exact test of two evaluations of the same samples; undefined when they were not scored on the same samples. */
export function pairedTest(first: AccuracyMetrics, second: AccuracyMetrics): McNemarResult | undefined {
  const [a, b] = [first.correct, second.correct];
  if (a === undefined || b === undefined || a.samples !== b.samples || a.count !== b.count) return undefined;
  const [x, y] = [decodeBits(a), decodeBits(b)];
  let onlyFirst = 0;
  let onlySecond = 0;
  for (let i = 0; i < a.count; i++) {
    const [p, q] = [(x[i >> 3]! >> (i & 7)) & 1, (y[i >> 3]! >> (i & 7)) & 1];
    if (p > q) onlyFirst++;
    else if (q > p) onlySecond++;
  }
  return mcnemarExact(onlyFirst, onlySecond);
}

export function pValueText(p: number): string {
  return p < 0.0001 ? '< 0.0001' : decimal(p, 2);
}

function pairedBlocks(entries: readonly [string, AccuracyMetrics][]): Block[] {
  const pairs = entries.slice(1).map((entry, i): [[string, AccuracyMetrics], [string, AccuracyMetrics]] => [entries[i]!, entry]);
  if (pairs.length === 0) return [];
  const rows = pairs.map(([[labelA, a], [labelB, b]]) => {
    const test = pairedTest(a, b);
    const change = points(b.top1 - a.top1);
    if (test === undefined) return [`${labelA} → ${labelB}`, change, '–', '–', '–', 'not paired (different or unrecorded samples)'];
    const verdict = test.pValue < ALPHA ? `different (p < ${ALPHA})` : `not distinguishable at p < ${ALPHA}`;
    return [`${labelA} → ${labelB}`, change, integer(test.onlyFirstCorrect), integer(test.onlySecondCorrect), pValueText(test.pValue), verdict];
  });
  return [
    {kind: 'heading', level: 3, text: 'Paired comparisons'},
    {
      kind: 'paragraph',
      text:
        "McNemar's exact test on the samples one model classifies correctly and the other does not (both scored on the same samples): " +
        'the p-value is the chance of a split at least this uneven if both models were equally accurate.',
    },
    {
      kind: 'table',
      columns: ['comparison', 'top-1 change', 'only first correct', 'only second correct', 'p-value', 'verdict'],
      align: ['left', 'right', 'right', 'right', 'right', 'left'],
      rows,
    },
  ];
}

/** The interval half-width at the baseline's size and accuracy, and the samples `resolution` (a fraction) needs. */
function sampleSizeBlock(baseline: AccuracyMetrics, resolution: number): Block[] {
  const interval = top1Interval(baseline);
  if (interval === undefined || baseline.count === undefined) return [];
  const half = (interval.high - interval.low) / 2;
  const needed = samplesForHalfWidth(baseline.top1, resolution);
  return [
    {
      kind: 'paragraph',
      text:
        `Sampling noise: on ${integer(baseline.count)} samples a top-1 near ${percent(baseline.top1, 1)} is known to about ±${decimal(100 * half, 2)} pt (95 %). ` +
        `Resolving ±${decimal(100 * resolution, 2)} pt needs about ${integer(needed)} samples` +
        (needed > baseline.count ? '' : ' (this evaluation has enough)') +
        '. Differences between models on the same samples are judged by the paired test, which is more sensitive than comparing intervals.',
    },
  ];
}

function confusionBlocks(entries: readonly [string, AccuracyMetrics][]): Block[] {
  const blocks: Block[] = [];
  for (const [label, m] of entries) {
    const confusion = m.confusion;
    if (confusion === undefined || confusion === null || confusion.length === 0 || confusion.length > MAX_CLASS_ROWS) continue;
    const outputs = confusion[0]!.length;
    if (outputs > MAX_CLASS_ROWS) continue;
    const names = (m.perClass ?? []).map((c) => c.name);
    const name = (c: number): string => names[c] ?? String(c);
    blocks.push(
      {kind: 'heading', level: 3, text: `Confusion matrix: ${label}`},
      {
        kind: 'table',
        columns: ['true \\ predicted', ...Array.from({length: outputs}, (_, c) => name(c))],
        align: ['left', ...Array.from({length: outputs}, (): 'right' => 'right')],
        rows: confusion.map((row, c) => [name(c), ...row.map((n) => integer(n))]),
      },
    );
  }
  return blocks;
}

/** `resolution`: the top-1 resolution (a fraction) the sample-size advice is given for. */
export function accuracyBlocks(runs: Readonly<Record<string, AccuracyMetrics>>, resolution = 0.005): Block[] {
  const entries = Object.entries(runs);
  const baseline = entries[0];
  if (baseline === undefined) return [];
  const [baselineLabel, baselineMetrics] = baseline;
  const blocks: Block[] = [
    {kind: 'heading', level: 2, text: 'Accuracy'},
    {
      kind: 'table',
      columns: ['model', 'top-1', '95% interval', 'samples', 'top-5', 'mean loss', `top-1 vs ${baselineLabel}`],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
      rows: entries.map(([label, m]) => [
        label,
        percent(m.top1),
        intervalText(m),
        m.count === undefined ? '–' : integer(m.count),
        m.top5 === undefined ? '–' : percent(m.top5),
        m.meanLoss === undefined ? '–' : decimal(m.meanLoss),
        label === baselineLabel ? '–' : points(m.top1 - baselineMetrics.top1),
      ]),
    },
    ...sampleSizeBlock(baselineMetrics, resolution),
    ...pairedBlocks(entries),
  ];
  const warnings = entries.flatMap(([label, m]) => (m.warnings ?? []).map((w) => `${label}: ${w}`));
  if (warnings.length > 0) blocks.push({kind: 'heading', level: 3, text: 'Warnings'}, {kind: 'list', items: warnings});
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
  blocks.push(...confusionBlocks(entries));
  return blocks;
}
