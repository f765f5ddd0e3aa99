// The producers' output types must fit the section shapes the report reads: if a producing step
// changes its output incompatibly, this file stops compiling (tsc) before a report breaks at run time.
// The runtime half checks that the JSON Schemas accept what the types describe (the sample input).
import {describe, expect, it} from 'vitest';
import type {Manifest} from '../approx/rewrite-manifest.js';
import type {AcceleratorReport} from '../hw/accelerator.js';
import type {EvaluateMetrics} from './evaluate.js';
import type {SearchOutput} from './search.js';
import type {SensitivityOutput} from './sensitivity.js';
import type {EpochRecord} from '../train/loop.js';
import {sampleReportInput} from '../../test/support/report-sample-input.js';
import {checkSection, type AccuracyMetrics, type FinetuneSection, type ManifestSection, type SearchSection, type SensitivitySection, type SynthesisSection} from '../report/sections.js';

type Fits<Producer extends Consumer, Consumer> = Producer;

export type ProducerShapes = [
  Fits<EvaluateMetrics, AccuracyMetrics>,
  Fits<SensitivityOutput, SensitivitySection>,
  Fits<SearchOutput, SearchSection>,
  Fits<{epochs: EpochRecord[]}, FinetuneSection>,
  Fits<AcceleratorReport, SynthesisSection>,
  Fits<Manifest, ManifestSection>,
];

describe('section schemas', () => {
  it('accept every section of the sample input', () => {
    const sample = sampleReportInput();
    for (const metrics of Object.values(sample.accuracy!)) expect(checkSection('accuracy', metrics, 'a')).toBe(metrics);
    expect(checkSection('sensitivity', sample.sensitivity, 's')).toBe(sample.sensitivity);
    expect(checkSection('search', sample.search, 's')).toBe(sample.search);
    expect(checkSection('finetune', sample.finetune, 'f')).toBe(sample.finetune);
    expect(checkSection('synthesis', sample.synthesis, 's')).toBe(sample.synthesis);
    expect(checkSection('manifest', sample.manifest, 'm')).toBe(sample.manifest);
  });
});
