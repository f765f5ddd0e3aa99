// A run's report from whichever sections it has: every section is optional, and the headline numbers
// are picked from what is there (accuracy of the first and last labelled evaluation, best search
// point, accelerator saving).
import {accuracyBlocks} from './blocks/accuracy.js';
import {finetuneBlocks} from './blocks/finetune.js';
import {manifestBlocks} from './blocks/manifest.js';
import {searchBlocks} from './blocks/search.js';
import {sensitivityBlocks} from './blocks/sensitivity.js';
import {synthesisBlocks} from './blocks/synthesis.js';
import {decimal, percent, points, type Block, type ReportDocument} from './document.js';
import type {AccuracyMetrics, FinetuneSection, ManifestSection, SearchSection, SensitivitySection, SynthesisSection} from './sections.js';

export interface ReportInput {
  title: string;
  /** label -> evaluation metrics; the first entry is the baseline the others are compared with. */
  accuracy?: Record<string, AccuracyMetrics>;
  sensitivity?: SensitivitySection;
  search?: SearchSection;
  finetune?: FinetuneSection;
  synthesis?: SynthesisSection;
  manifest?: ManifestSection;
  /** Free text shown first; paragraphs separated by blank lines. */
  notes?: string;
}

function headline(input: ReportInput): ReportDocument['summary'] {
  const summary: ReportDocument['summary'] = [];
  const runs = Object.entries(input.accuracy ?? {});
  const first = runs[0];
  const last = runs.at(-1);
  if (first !== undefined) summary.push({label: `${first[0]} top-1`, value: percent(first[1].top1)});
  if (first !== undefined && last !== undefined && last !== first) {
    summary.push({label: `${last[0]} top-1`, value: `${percent(last[1].top1)} (${points(last[1].top1 - first[1].top1)})`});
  }
  if (input.synthesis !== undefined) summary.push({label: `power saving (${input.synthesis.costModel.name})`, value: `${input.synthesis.savingPercent.toFixed(1)}%`});
  else if (input.search?.best !== undefined) summary.push({label: 'relative multiplier power', value: decimal(input.search.best.relativePower)});
  if (input.manifest !== undefined) summary.push({label: 'approximated layers', value: String(input.manifest.layers.length)});
  return summary;
}

export function buildReport(input: ReportInput): ReportDocument {
  const blocks: Block[] = [];
  for (const text of (input.notes ?? '').split(/\n\s*\n/).map((p) => p.trim())) if (text !== '') blocks.push({kind: 'paragraph', text});
  if (input.accuracy !== undefined) blocks.push(...accuracyBlocks(input.accuracy));
  if (input.sensitivity !== undefined) blocks.push(...sensitivityBlocks(input.sensitivity));
  if (input.search !== undefined) blocks.push(...searchBlocks(input.search));
  if (input.finetune !== undefined) blocks.push(...finetuneBlocks(input.finetune));
  if (input.synthesis !== undefined) blocks.push(...synthesisBlocks(input.synthesis));
  if (input.manifest !== undefined) blocks.push(...manifestBlocks(input.manifest));
  return {title: input.title, summary: headline(input), blocks};
}
