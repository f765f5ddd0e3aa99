import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {shippedVitInput, SHIPPED_VIT, vitFixture, type VitFixture} from '../../../test/support/vit-fixture.js';
import {idxSource} from '../../data/idx-source.js';
import type {SampleSource} from '../../data/sample-source.js';
import {writeSubset} from '../../data/write-subset.js';
import {decodeModel, readModelFile, writeModelOutput} from '../../onnx/codec.js';
import {runtimeIdentity} from '../../onnx/session.js';
import {decodeCorrect} from '../search/correctness.js';
import {openApproximationRuntime, RuntimeInputError} from './approximation-runtime.js';

const work = mkdtempSync(join(tmpdir(), 'axx-runtime-'));
afterAll(() => rmSync(work, {recursive: true, force: true}));
let fixture: VitFixture;
let classOrdered: string;
beforeAll(async () => {
  fixture = await vitFixture(join(work, 'fixture'), 100);
  // 600 MNIST test images sorted by class, as an image folder (one directory per class) reads.
  const source = idxSource({dataset: 'mnist', split: 'test', ...shippedVitInput(decodeModel(readFileSync(SHIPPED_VIT)))});
  const order = Int32Array.from({length: 600}, (_, i) => i).sort((a, b) => source.labels[a]! - source.labels[b]! || a - b);
  const sorted: SampleSource = {...source, labels: order.map((i) => source.labels[i]!), read: (index, out) => source.read(order[index]!, out)};
  classOrdered = join(work, 'class-ordered');
  await writeSubset(classOrdered, sorted, {});
}, 120_000);

const open = (datasetDir: string, more: Record<string, unknown> = {}) =>
  openApproximationRuntime({modelFile: fixture.model, calibrationFile: fixture.calibration, datasetDir, multipliers: ['mul8s_1L2H'], layers: ['blocks.0.mlp.fc1'], ...more});

describe('approximation runtime subsets', () => {
  it('a limit on a class-ordered dataset scores every class, not the first ones', async () => {
    const runtime = open(classOrdered, {limit: 100});
    expect(runtime.samples).toBe(100);
    expect(runtime.labelCounts.every((count) => count >= 8)).toBe(true);
    expect(runtime.labelCounts.reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('the search subset and the hold-out stages are disjoint; the draw follows the seed', async () => {
    const a = open(classOrdered, {limit: 100, dataSeed: 1, holdout: 300, holdoutStages: 3});
    const b = open(classOrdered, {limit: 100, dataSeed: 2});
    expect(a.holdout.map((stage) => stage.samples)).toEqual([100, 100, 100]);
    const scopes = new Set([a.scope.subsetId, ...a.holdout.map((stage) => stage.scope.subsetId)]);
    expect(scopes.size).toBe(4);
    expect(b.scope.subsetId).not.toBe(a.scope.subsetId);
    expect(open(classOrdered, {limit: 100, dataSeed: 1}).scope.subsetId).toBe(a.scope.subsetId);
    expect(() => open(classOrdered, {limit: 100, holdout: 501})).toThrow(RuntimeInputError);
  });

  it('reports per-image correctness that adds up to the accuracy', async () => {
    const runtime = open(fixture.dataset);
    const outcome = await runtime.evaluate({'blocks.0.mlp.fc1': 'mul8s_1L2H'}, new AbortController().signal);
    const correct = decodeCorrect(outcome.correct!, runtime.samples);
    expect(correct.reduce((a, b) => a + b, 0) / runtime.samples).toBe(outcome.accuracy);
  });
});

// A rank-90 circuit grows a ViT-Ti past protobuf's 2 GiB: such models arrive as model directories and their
// candidates reach onnxruntime with in-memory external data. Lowered limits cross both thresholds here.
describe('models past the single-buffer limit', () => {
  it('reads a model directory and scores candidates passed with external data exactly as inline ones', async () => {
    const assignment = {'blocks.0.mlp.fc1': 'mul8s_1L2H'};
    const signal = new AbortController().signal;
    const inline = await open(fixture.dataset).evaluate(assignment, signal);
    mkdirSync(join(work, 'split'));
    const asDir = writeModelOutput(join(work, 'split'), readModelFile(fixture.model), 'model', 0);
    expect(asDir).toEqual({dir: join(work, 'split', 'model')});
    const split = open(fixture.dataset, {modelFile: join(work, 'split', 'model'), inlineLimit: 0});
    expect(await split.evaluate(assignment, signal)).toEqual(inline);
    // As a task runs it: through its scratch directory, which it leaves as it found it.
    const scratchDir = join(work, 'split-scratch');
    mkdirSync(scratchDir);
    const viaScratch = open(fixture.dataset, {modelFile: join(work, 'split', 'model'), inlineLimit: 0});
    expect(await viaScratch.evaluate(assignment, signal, scratchDir)).toEqual(inline);
    expect(readdirSync(scratchDir)).toEqual([]);
  });

  it("keys the memo scope on the external data's content", async () => {
    mkdirSync(join(work, 'changed'));
    const {dir} = writeModelOutput(join(work, 'changed'), readModelFile(fixture.model), 'model', 0) as {dir: string};
    const before = open(fixture.dataset, {modelFile: dir}).scope.modelId;
    const data = join(dir, 'model.onnx.data');
    const bytes = readFileSync(data);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    writeFileSync(data, bytes);
    expect(open(fixture.dataset, {modelFile: dir}).scope.modelId).not.toBe(before);
  });
});

// Memoised accuracies outlive runs and processes, so anything that can change an accuracy must be in the
// memo scope: the onnxruntime version and execution provider included, derived from the runtime rather than
// left to a hand-bumped constant.
describe('evaluation memo scope', () => {
  it('names the onnxruntime version and execution provider', () => {
    const scope = (runtime?: {onnxruntime: string; executionProvider: string}) => open(fixture.dataset, runtime === undefined ? {} : {runtime}).scope;
    const current = scope();
    expect(scope(runtimeIdentity())).toEqual(current);
    expect(scope({...runtimeIdentity(), onnxruntime: '0.0.1'}).modelId).not.toBe(current.modelId);
    expect(scope({...runtimeIdentity(), executionProvider: 'cuda'}).modelId).not.toBe(current.modelId);
    expect(runtimeIdentity()).toEqual({onnxruntime: expect.stringMatching(/^\d+\.\d+\.\d+/), executionProvider: 'cpu'});
  });
});
