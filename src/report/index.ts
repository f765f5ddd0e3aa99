// The report library: section shapes and their checks, the document builder, HTML and Markdown
// renderers, the line chart, and the run comparison table behind `axx compare`. Knows nothing of
// pipelines; src/steps/report.ts and src/cli/commands/compare.ts adapt it.
export {buildReport, type ReportInput} from './build-report.js';
export type {Block, ReportDocument} from './document.js';
export {loadSection} from './load-section.js';
export {renderHtml} from './render-html.js';
export {compareRuns, comparisonCsv, comparisonText, type Comparison, type ComparisonRow, type RunSnapshot, type StepSnapshot} from './run-comparison.js';
export {renderMarkdown, type MarkdownReport} from './render-markdown.js';
export {
  checkSection,
  SectionError,
  type AccuracyMetrics,
  type FinetuneSection,
  type ManifestSection,
  type ProvenanceSection,
  type SearchSection,
  type SectionName,
  type SensitivitySection,
  type SynthesisSection,
} from './sections.js';
export {lineChartSvg, type LineChartOptions, type LineSeries} from './svg/line-chart.js';
