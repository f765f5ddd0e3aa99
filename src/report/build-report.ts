// A run's report from whichever sections it has: every section is optional, and the headline numbers
// are picked from what is there (accuracy of the first and last labelled evaluation with its interval and
// paired test, the whole model's power saving beside the approximated layers', best search point).
import {accuracyBlocks, intervalText, pairedTest, pValueText} from './blocks/accuracy.js';
import {finetuneBlocks} from './blocks/finetune.js';
import {manifestBlocks} from './blocks/manifest.js';
import {provenanceBlocks} from './blocks/provenance.js';
import {searchBlocks, type TestSetDrop} from './blocks/search.js';
import {sensitivityBlocks} from './blocks/sensitivity.js';
import {synthesisBlocks, wholeModelOf} from './blocks/synthesis.js';
import {decimal, percent, points, type Block, type ReportDocument} from './document.js';
import type {AccuracyMetrics, FinetuneSection, ManifestSection, ProvenanceSection, SearchSection, SensitivitySection, SynthesisSection} from './sections.js';

export interface ReportInput {
  title: string;
  /** label -> evaluation metrics; the first entry is the baseline the others are compared with. */
  accuracy?: Record<string, AccuracyMetrics>;
  sensitivity?: SensitivitySection;
  search?: SearchSection;
  finetune?: FinetuneSection;
  synthesis?: SynthesisSection;
  manifest?: ManifestSection;
  provenance?: ProvenanceSection;
  /** Versions and machine that computed the report (label -> text), shown under Provenance. */
  environment?: Record<string, string>;
  /** Top-1 resolution (a fraction) the sample-size advice is given for; default 0.005 (half a point). */
  resolution?: number;
  /** Accuracy labels whose top-1 difference is the search answer's drop on the test set (shown with the confirmation). */
  searchTestSet?: {baseline: string; model: string};
  /** Free text shown first; paragraphs separated by blank lines. */
  notes?: string;
}

function headline(input: ReportInput): ReportDocument['summary'] {
  const summary: ReportDocument['summary'] = [];
  const runs = Object.entries(input.accuracy ?? {});
  const first = runs[0];
  const last = runs.at(-1);
  if (first !== undefined) summary.push({label: `${first[0]} top-1 (95% interval)`, value: `${percent(first[1].top1)} (${intervalText(first[1])})`});
  if (first !== undefined && last !== undefined && last !== first) {
    const test = pairedTest(first[1], last[1]);
    const p = test === undefined ? '' : `, McNemar p ${test.pValue < 0.0001 ? '' : '= '}${pValueText(test.pValue)}`;
    summary.push({label: `${last[0]} top-1 vs ${first[0]}`, value: `${percent(last[1].top1)} (${points(last[1].top1 - first[1].top1)}${p})`});
  }
  const whole = input.synthesis === undefined ? undefined : wholeModelOf(input.synthesis, input.manifest);
  if (input.synthesis !== undefined) {
    if (whole !== undefined) summary.push({label: `power saving, whole model (${input.synthesis.costModel.name})`, value: `${whole.savingPercent.toFixed(1)}%`});
    summary.push({label: 'power saving, approximated layers only', value: `${input.synthesis.savingPercent.toFixed(1)}%`});
  } else if (input.search?.best?.wholeModelRelativePower !== undefined) {
    summary.push({label: 'relative multiplier power, whole model', value: decimal(input.search.best.wholeModelRelativePower)});
  } else if (input.search?.best !== undefined) {
    summary.push({label: 'relative multiplier power, approximated layers only', value: decimal(input.search.best.relativePower)});
  }
  if (input.manifest !== undefined) summary.push({label: 'approximated layers', value: String(input.manifest.layers.length)});
  return summary;
}

function searchTestSet(input: ReportInput): TestSetDrop | undefined {
  const labels = input.searchTestSet;
  const baseline = labels && input.accuracy?.[labels.baseline];
  const model = labels && input.accuracy?.[labels.model];
  if (labels === undefined || baseline === undefined || model?.count === undefined) return undefined;
  return {drop: baseline.top1 - model.top1, samples: model.count, baseline: labels.baseline, model: labels.model};
}

export function buildReport(input: ReportInput): ReportDocument {
  const blocks: Block[] = [];
  for (const text of (input.notes ?? '').split(/\n\s*\n/).map((p) => p.trim())) if (text !== '') blocks.push({kind: 'paragraph', text});
  if (input.accuracy !== undefined) blocks.push(...accuracyBlocks(input.accuracy, input.resolution));
  if (input.sensitivity !== undefined) blocks.push(...sensitivityBlocks(input.sensitivity));
  if (input.search !== undefined) blocks.push(...searchBlocks(input.search, searchTestSet(input)));
  if (input.finetune !== undefined) blocks.push(...finetuneBlocks(input.finetune));
  if (input.synthesis !== undefined) blocks.push(...synthesisBlocks(input.synthesis, input.manifest));
  if (input.manifest !== undefined) blocks.push(...manifestBlocks(input.manifest));
  if (input.provenance !== undefined || input.environment !== undefined) blocks.push(...provenanceBlocks(input.provenance ?? {}, input.environment ?? {}));
  return {title: input.title, summary: headline(input), blocks};
}
