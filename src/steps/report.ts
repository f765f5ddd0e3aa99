// Step kind "report": a self-contained HTML page and a Markdown file (with its figures as SVG files)
// of a run's results. Every section is optional; each takes a producer's `value` output or the path
// of its JSON `file` output, checked against the shapes in src/report/sections.ts. The report states
// the versions and machine that computed it (part of its key, so a new version re-renders it).
import {readFileSync} from 'node:fs';
import {mkdir, writeFile} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {arch, cpus, platform, release} from 'node:os';
import {join, resolve} from 'node:path';
import {StepError, type Json, type StepKind} from '../engine/step-kind.js';
import type {ReportInput, SectionName} from '../report/index.js';

// The report library (renderers, section checks) loads when a report runs, not with the kind's schema.
type ReportLibrary = typeof import('../report/index.js');

export interface ReportParams {
  title: string;
  /** label -> an evaluate step's metrics (value or file). */
  accuracy?: Record<string, Json>;
  sensitivity?: Json;
  search?: Json;
  finetune?: Json;
  synthesis?: Json;
  manifest?: Json;
  provenance?: Json;
  /** Top-1 resolution in points the sample-size advice is given for. */
  resolution: number;
  notes?: string;
  searchTestSet?: {baseline: string; model: string};
}

const SINGLE_SECTIONS = ['sensitivity', 'search', 'finetune', 'synthesis', 'manifest', 'provenance'] as const satisfies readonly SectionName[];

const either = (what: string): Record<string, unknown> => ({
  type: ['object', 'array', 'string'],
  description: `${what}: the producing step's output reference, a JSON value, or the path of a JSON file`,
});

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    title: {type: 'string', minLength: 1, default: 'axx report'},
    accuracy: {
      type: 'object',
      minProperties: 1,
      additionalProperties: either("an evaluate step's metrics"),
      description: 'label -> evaluate metrics, e.g. {float: ..., int8: ..., approximate: ..., finetuned: ...}; the first is the baseline; a list (a matrix step) gives rows label[0], label[1] …',
    },
    sensitivity: either("the sensitivity step's matrix"),
    search: either("the search step's result"),
    finetune: either("a finetune/train step's history"),
    synthesis: either("the synthesize step's summary"),
    manifest: either("the approximate step's manifest"),
    provenance: either('{model: the load/model info, datasets: {name: a load/dataset info}, params: {...}}'),
    resolution: {type: 'number', exclusiveMinimum: 0, default: 0.5, description: 'Top-1 resolution (points) the report says how many samples are needed for.'},
    notes: {type: 'string', description: 'Free text shown under the title; blank lines separate paragraphs.'},
    searchTestSet: {
      type: 'object',
      additionalProperties: false,
      required: ['baseline', 'model'],
      properties: {baseline: {type: 'string', minLength: 1}, model: {type: 'string', minLength: 1}},
      description: "Two `accuracy` labels: the search answer's test-set drop is baseline top-1 − model top-1, shown beside its search and hold-out drops (with a warning when they disagree).",
    },
  },
};

/** Every file path among the section inputs (references resolve to absolute CAS paths; literal ones to the working directory). */
function inputFiles(params: ReportParams): string[] {
  const values = [...Object.values(params.accuracy ?? {}).flat(), ...SINGLE_SECTIONS.map((name) => params[name])];
  return values.filter((v): v is string => typeof v === 'string').map((path) => resolve(path));
}

function packageVersion(name: string): string {
  try {
    const file = name === 'axx' ? new URL('../../package.json', import.meta.url) : createRequire(import.meta.url).resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(file, 'utf8')) as {version: string}).version;
  } catch {
    return 'unknown';
  }
}

/** What computed the report: versions that can change its numbers and the machine. */
function environment(): Record<string, string> {
  const cpu = cpus();
  return {
    axx: packageVersion('axx'),
    onnxruntime: packageVersion('onnxruntime-node'),
    node: process.version,
    machine: `${platform()} ${release()} ${arch()}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`,
  };
}

/** Turns a section mismatch into a StepError pointing at the parameter. */
function section<N extends SectionName>({loadSection, SectionError}: ReportLibrary, name: N, input: unknown, param: string) {
  try {
    return loadSection(name, input, param);
  } catch (error) {
    if (error instanceof SectionError) throw new StepError(error.message, error.hint, param);
    throw error;
  }
}

export const reportKind: StepKind<ReportParams> = {
  name: 'report',
  version: 3,
  description:
    'A self-contained HTML report and a Markdown report (SVG figures) of accuracy (intervals, paired tests, confusion matrices), sensitivity, search, finetuning, accelerator cost (whole model and approximated layers), approximated layers and provenance',
  schema,
  outputs: {
    html: {type: 'file', format: 'html', description: 'one self-contained page: inline CSS and SVG, viewable offline'},
    markdown: {type: 'file', format: 'markdown', description: 'the same numbers as Markdown; figures referenced as figures/<name>.svg'},
    figures: {type: 'dir', format: 'svg', description: "the Markdown report's figures, one SVG file each"},
  },
  async keyExtras(params, key) {
    // Literal paths name files outside the store: the report follows their content.
    const digests: Record<string, string> = {};
    for (const file of inputFiles(params)) {
      digests[file] = await key.digest(file).then(
        ({digest}) => digest,
        () => 'missing',
      );
    }
    // The environment the report states is part of what it shows.
    return {inputs: Object.values(digests).sort(), environment: environment()};
  },
  async run(ctx) {
    const {params} = ctx;
    const report = await import('../report/index.js');
    const input: ReportInput = {title: params.title, resolution: params.resolution / 100, environment: environment()};
    if (params.accuracy !== undefined) {
      // A matrix evaluate step's outputs arrive as a list (matrix order): one row each, label[i].
      const entries = Object.entries(params.accuracy).flatMap(([label, value]) =>
        Array.isArray(value) ? value.map((item, i): [string, Json] => [`${label}[${i}]`, item]) : [[label, value] as [string, Json]],
      );
      input.accuracy = Object.fromEntries(entries.map(([label, value]) => [label, section(report, 'accuracy', value, `with.accuracy.${label}`)]));
    }
    if (params.sensitivity !== undefined) input.sensitivity = section(report, 'sensitivity', params.sensitivity, 'with.sensitivity');
    if (params.search !== undefined) input.search = section(report, 'search', params.search, 'with.search');
    if (params.finetune !== undefined) input.finetune = section(report, 'finetune', params.finetune, 'with.finetune');
    if (params.synthesis !== undefined) input.synthesis = section(report, 'synthesis', params.synthesis, 'with.synthesis');
    if (params.manifest !== undefined) input.manifest = section(report, 'manifest', params.manifest, 'with.manifest');
    if (params.provenance !== undefined) input.provenance = section(report, 'provenance', params.provenance, 'with.provenance');
    if (params.notes !== undefined) input.notes = params.notes;
    if (params.searchTestSet !== undefined) {
      for (const [role, label] of Object.entries(params.searchTestSet)) {
        if (params.accuracy?.[label] === undefined) throw new StepError(`searchTestSet.${role} "${label}" is not an accuracy label`, `use one of: ${Object.keys(params.accuracy ?? {}).join(', ') || '(no accuracy given)'}`, `with.searchTestSet.${role}`);
      }
      input.searchTestSet = params.searchTestSet;
    }

    const doc = report.buildReport(input);
    const html = join(ctx.scratchDir, 'report.html');
    const markdown = join(ctx.scratchDir, 'report.md');
    const figures = join(ctx.scratchDir, 'figures');
    const md = report.renderMarkdown(doc);
    await writeFile(html, report.renderHtml(doc));
    await writeFile(markdown, md.markdown);
    await mkdir(figures);
    for (const [file, svg] of Object.entries(md.figures)) await writeFile(join(figures, file), svg);
    const shown = ['accuracy', ...SINGLE_SECTIONS].filter((name) => params[name as keyof ReportParams] !== undefined);
    ctx.log(`report "${params.title}": ${shown.length > 0 ? shown.join(', ') : 'no sections'}; ${Object.keys(md.figures).length} figures`);
    return {html: {file: html}, markdown: {file: markdown}, figures: {dir: figures}};
  },
};
