import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import {afterAll, describe, expect, it} from 'vitest';
import {StepError, type Json, type OutputValue} from '../engine/step-kind.js';
import {sampleReportInput} from '../../test/support/report-sample-input.js';
import {reportKind, type ReportParams} from './report.js';
import {synthesizeKind, type SynthesizeParams} from './synthesize.js';
import {stepContext, keyContext} from '../../test/support/step-context.js';

const work = mkdtempSync(join(tmpdir(), 'axx-report-step-'));
afterAll(() => rmSync(work, {recursive: true, force: true}));

const ajv = new Ajv2020.default({strict: false, useDefaults: true});

function context<P>(schema: Record<string, unknown>, withParams: Record<string, unknown>) {
  const params = structuredClone(withParams);
  const validate = ajv.compile(schema);
  if (!validate(params)) throw new Error(JSON.stringify(validate.errors));
  return stepContext(params as P, {scratchRoot: work});
}

const fileOf = (output: OutputValue | undefined): string => (output as {file: string}).file;
const dirOf = (output: OutputValue | undefined): string => (output as {dir: string}).dir;

/** A JSON file, as a `file` output of another step would arrive. */
function jsonFile(name: string, value: unknown): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe('report step', () => {
  const sample = sampleReportInput();

  it('takes each section as a value or as a JSON file and writes HTML, Markdown and its figures', async () => {
    const ctx = context<ReportParams>(reportKind.schema, {
      title: sample.title,
      accuracy: {float: sample.accuracy!.float as unknown as Json, approximate: jsonFile('approximate-metrics.json', sample.accuracy!.approximate)},
      sensitivity: jsonFile('sensitivity.json', sample.sensitivity),
      search: sample.search as unknown as Json,
      finetune: jsonFile('history.json', sample.finetune),
      synthesis: sample.synthesis as unknown as Json,
      manifest: sample.manifest as unknown as Json,
    });
    const outputs = await reportKind.run(ctx);
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(reportKind.outputs).sort());
    const html = readFileSync(fileOf(outputs.html), 'utf8');
    const markdown = readFileSync(fileOf(outputs.markdown), 'utf8');
    expect(html).toContain('<h2>Sensitivity</h2>');
    expect(html).toContain('<h2>Finetuning</h2>');
    expect(markdown).toContain('| approximate |');
    expect(readdirSync(dirOf(outputs.figures)).sort()).toEqual(['finetune-accuracy.svg', 'finetune-loss.svg', 'search.svg', 'sensitivity-logitKl.svg', 'sensitivity.svg']);
    expect(ctx.logs.join('\n')).toContain('accuracy, sensitivity, search, finetune, synthesis, manifest; 5 figures');
  });

  it("shows the synthesize step's real summary", async () => {
    const synth = context<SynthesizeParams>(synthesizeKind.schema, {
      manifest: {layers: [{layer: 'fc1', macs: 3000, multiplier: 'mul8s_1L2H'}, {layer: 'fc2', macs: 1000, multiplier: 'mul8s_1KV8'}]},
      figures: 'tabulated',
    });
    const summary = ((await synthesizeKind.run(synth)).summary as {value: Json}).value;
    const ctx = context<ReportParams>(reportKind.schema, {synthesis: summary});
    const markdown = readFileSync(fileOf((await reportKind.run(ctx)).markdown), 'utf8');
    expect(markdown).toContain('# axx report');
    expect(markdown).toMatch(/\| fc1 \| mul8s_1L2H \| 3\u2009000 \| 75\.0% \| 0\.70/);
    expect(markdown).toContain(`| power saving, approximated layers only | ${(summary as {savingPercent: number}).savingPercent.toFixed(1)}% (relative power`);
  });

  it('points at the parameter, the file and the field when an input has the wrong shape', async () => {
    const bad = jsonFile('bad-metrics.json', {top5: 0.99});
    const ctx = context<ReportParams>(reportKind.schema, {accuracy: {int8: bad}});
    const error = await reportKind.run(ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).param).toBe('with.accuracy.int8');
    expect((error as StepError).message).toBe(`with.accuracy.int8 (file ${bad}): the value has no "top1"`);
    expect((error as StepError).hint).toContain("evaluate step's metrics");
  });

  it("turns a matrix evaluate step's list into one row per instance, and refuses a list for a single section", async () => {
    const ctx = context<ReportParams>(reportKind.schema, {accuracy: {exact: {top1: 0.9}, approx: [{top1: 0.8}, jsonFile('second.json', {top1: 0.7})]}});
    const markdown = readFileSync(fileOf((await reportKind.run(ctx)).markdown), 'utf8');
    expect(markdown).toContain('| approx[0] | 80.00% |');
    expect(markdown).toContain('| approx[1] | 70.00% |');
    const list = context<ReportParams>(reportKind.schema, {search: [sample.search as unknown as Json, sample.search as unknown as Json]});
    await expect(reportKind.run(list)).rejects.toThrow('with.search: got a list of 2 values, expected one search output');
  });

  it('keys literal input files by content', async () => {
    const path = jsonFile('keyed.json', {top1: 0.5});
    const before = await reportKind.keyExtras!({title: 't', accuracy: {a: path}, resolution: 0.5}, keyContext);
    writeFileSync(path, JSON.stringify({top1: 0.6}));
    const after = await reportKind.keyExtras!({title: 't', accuracy: {a: path}, resolution: 0.5}, keyContext);
    expect(after).not.toEqual(before);
    expect(await reportKind.keyExtras!({title: 't', accuracy: {a: {top1: 0.5}}, resolution: 0.5}, keyContext)).toMatchObject({inputs: []});
  });
});
