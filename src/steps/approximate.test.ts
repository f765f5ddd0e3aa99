// calibrate → approximate on the shipped ViT, through the step kinds as the engine calls them.
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import * as ort from 'onnxruntime-node';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {parseCalibration} from '../approx/calibration-format.js';
import {INTEGER_OPERANDS_METADATA_KEY, type Manifest} from '../approx/rewrite-manifest.js';
import {idxSource} from '../data/idx-source.js';
import {openDataset} from '../data/dataset-reader.js';
import {writeSubset} from '../data/write-subset.js';
import {StepError, type StepKind} from '../engine/step-kind.js';
import {modelFileOf, readModelFile, writeModelOutput} from '../onnx/codec.js';
import {DataType} from '../onnx/ir.js';
import {createSession} from '../onnx/session.js';
import {readStraightThrough} from '../train/straight-through.js';
import {approximateKind, makeApproximateKind} from './approximate.js';
import {evaluateKind, integerOperandsWarning, recordedMetadata, type EvaluateMetrics} from './evaluate.js';
import {calibrateKind} from './calibrate.js';
import {stepContext, keyContext} from '../../test/support/step-context.js';

const model = fileURLToPath(new URL('../../assets/models/vit-mnist.onnx', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'axx-approximate-'));
const images = join(work, 'mnist');
afterAll(() => rmSync(work, {recursive: true, force: true}));
// MNIST as load/dataset prepares it by default, which the shipped ViT was trained on.
beforeAll(() => writeSubset(images, idxSource({dataset: 'mnist', split: 'test'}), {limit: 512}));

function params<P>(kind: StepKind<P>, given: Record<string, unknown>): P {
  const validate = new Ajv2020.default({strict: false, useDefaults: true}).compile(kind.schema);
  const copy = structuredClone(given);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as P;
}

function context<P>(p: P) {
  const ctx = stepContext(p, {scratchRoot: work, cpu: 2});
  return {ctx, logs: ctx.logs};
}

async function calibrationFile(): Promise<string> {
  const {ctx} = context(params(calibrateKind, {model, dataset: images, batches: 2, batchSize: 64}));
  const out = await calibrateKind.run(ctx);
  return (out.calibration as {file: string}).file;
}

describe('calibrate + approximate steps', () => {
  let calibration: string;
  beforeAll(async () => {
    calibration = await calibrationFile();
  });

  it('calibrate writes a calibration file covering every layer', () => {
    const parsed = parseCalibration(JSON.parse(readFileSync(calibration, 'utf8')), calibration);
    expect(parsed.samples).toBe(128);
    expect(parsed.percentile).toBe(99.99);
    expect(parsed.layers.length).toBe(26);
  });

  it('approximate writes a runnable model with straight-through regions and a manifest', async () => {
    const {ctx, logs} = context(params(approximateKind, {model, calibration, assign: {'blocks.*.mlp.*': 'mul8s_1KX2'}, default: 'mul8s_1L2H'}));
    const out = await approximateKind.run(ctx);
    const manifest = (out.manifest as {value: unknown}).value as Manifest;
    expect(manifest.layers.map((l) => l.multiplier.name).filter((n) => n === 'mul8s_1KX2')).toHaveLength(8);
    expect(manifest.layers.every((l) => l.node !== 'head')).toBe(true);
    expect(manifest.macs.approximated).toBeLessThan(manifest.macs.total);
    expect(logs.join('\n')).toMatch(/approximated 17 layers/);
    const file = (out.model as {file: string}).file;
    expect(readStraightThrough(readModelFile(file)).map((r) => r.output)).toEqual(manifest.layers.map((l) => l.output));

    using session = await createSession(file, {intraOpNumThreads: 2});
    const [batch] = openDataset(images).batches(256);
    if (!batch) throw new Error('empty dataset');
    const logits = (await session.run({input: new ort.Tensor('float32', batch.x.slice(), [256, 1, 28, 28])})).logits!.data as Float32Array;
    let correct = 0;
    for (let i = 0; i < 256; i++) {
      const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
      if (row.indexOf(Math.max(...row)) === batch.y[i]) correct++;
    }
    expect(correct / 256).toBeGreaterThan(0.95);
  });

  // A rank-90 circuit takes a ViT-Ti past 2 GiB; a lowered limit sends the small ViT down the same path.
  it('outputs a model directory past its single-file limit, which evaluate and approximate read as they read a file', async () => {
    const given = {model, calibration, default: 'mul8s_1L2H'};
    const asFile = (await approximateKind.run(context(params(approximateKind, given)).ctx)).model as {file: string};
    const limit = statSync(asFile.file).size - 1;
    const {ctx, logs} = context(params(approximateKind, given));
    const out = await makeApproximateKind({singleFileLimit: limit}).run(ctx);
    const dir = (out.model as {dir: string}).dir;
    expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'model.onnx.data']);
    expect(statSync(join(dir, 'model.onnx')).size).toBeLessThan(limit / 10);
    expect(logs.join('\n')).toMatch(/approximated 17 layers/);

    const top1 = async (modelPath: string) => {
      const evaluation = evaluateKind.run(context(params(evaluateKind, {model: modelPath, dataset: images, batchSize: 128, threads: 2})).ctx);
      return ((await evaluation).metrics as unknown as {value: EvaluateMetrics}).value.top1;
    };
    expect(await top1(dir)).toBe(await top1(asFile.file));

    // A float model that arrives as a directory (a large load/model output) is read like a file.
    const floatDir = join(work, 'float-dir');
    mkdirSync(floatDir);
    const floatOutput = writeModelOutput(floatDir, readModelFile(model), 'model', 0) as {dir: string};
    const fromDir = (await approximateKind.run(context(params(approximateKind, {...given, model: floatOutput.dir})).ctx)).model as {file: string};
    expect(readFileSync(fromDir.file)).toEqual(readFileSync(asFile.file));
    expect(modelFileOf(floatOutput.dir)).toBe(join(floatOutput.dir, 'model.onnx'));
  });

  // onnxruntime's CUDA provider has MatMulInteger for int8 × int8 only; its CPU provider runs both, so the CPU checks equality.
  it('target cuda writes int8 MatMulInteger operands, records them, and evaluates to the same logits', async () => {
    const given = {model, calibration, assign: {'blocks.*.mlp.*': 'mul8u_1446'}, default: 'mul8s_1L2H'};
    const cpu = await approximateKind.run(context(params(approximateKind, given)).ctx);
    const {ctx, logs} = context(params(approximateKind, {...given, target: 'cuda'}));
    const cuda = await approximateKind.run(ctx);
    expect(logs.join('\n')).toMatch(/approximated 17 layers for cuda/);
    const manifests = [cpu, cuda].map((out) => (out.manifest as {value: unknown}).value as Manifest);
    expect(manifests.map((m) => m.integerOperands)).toEqual(['uint8', 'int8']);
    expect(manifests[1]!.layers.map((l) => l.path)).toEqual(manifests[0]!.layers.map((l) => l.path));
    const files = [cpu, cuda].map((out) => (out.model as {file: string}).file);
    expect(files.map((file) => readModelFile(file).metadataProps.find((p) => p.key === INTEGER_OPERANDS_METADATA_KEY)?.value)).toEqual(['uint8', 'int8']);
    const integerInputs = (file: string) => {
      const m = readModelFile(file);
      const initializer = new Map(m.graph.initializers.map((t) => [t.name, t.dataType]));
      // the zero points (inputs 2 and 3) are initializers of the operands' element type
      return m.graph.nodes.filter((n) => n.opType === 'MatMulInteger').map((n) => [initializer.get(n.inputs[2]!), initializer.get(n.inputs[3]!)]);
    };
    expect(new Set(integerInputs(files[0]!).flat())).toEqual(new Set([DataType.UINT8]));
    expect(new Set(integerInputs(files[1]!).flat())).toEqual(new Set([DataType.INT8]));
    const [batch] = openDataset(images).batches(128);
    if (!batch) throw new Error('empty dataset');
    const logits = async (file: string) => {
      using session = await createSession(file, {intraOpNumThreads: 2});
      return Array.from((await session.run({input: new ort.Tensor('float32', batch.x.slice(), [128, 1, 28, 28])})).logits!.data as Float32Array);
    };
    expect(await logits(files[1]!)).toEqual(await logits(files[0]!));
    // A CPU model on a GPU falls back to the CPU for those layers; a CUDA model on the CPU is slow: evaluate says so.
    const [cpuMetadata, cudaMetadata] = files.map((file) => recordedMetadata(file));
    const gpu = {kind: 'cuda', index: 0} as const;
    expect(integerOperandsWarning(gpu, cpuMetadata!)).toMatch(/uint8 operands.*target: cuda/);
    expect(integerOperandsWarning({kind: 'cpu'}, cudaMetadata!)).toMatch(/approximated for cuda.*target: cpu/);
    expect(integerOperandsWarning(gpu, cudaMetadata!)).toBeUndefined();
    expect(integerOperandsWarning({kind: 'cpu'}, cpuMetadata!)).toBeUndefined();
    expect(integerOperandsWarning({kind: 'cpu'}, recordedMetadata(model))).toBeUndefined();
    const evaluation = await evaluateKind.run(context(params(evaluateKind, {model: files[1], dataset: images, batchSize: 128, threads: 2, limit: 128})).ctx);
    expect(((evaluation.metrics as unknown as {value: EvaluateMetrics}).value).warnings).toEqual([expect.stringMatching(/approximated for cuda/)]);
  });

  it('keys the cache on multiplier identities', async () => {
    expect(await approximateKind.keyExtras!(params(approximateKind, {model, calibration, default: 'mul8s_1L2H', assign: {'**fc1': 'mul8s_1KV8'}}), keyContext)).toEqual({
      multipliers: {mul8s_1KV8: expect.any(String), mul8s_1L2H: expect.any(String)},
    });
  });

  it('reports bad selections and multipliers as step errors naming the parameter', async () => {
    const failure = async (given: Record<string, unknown>) => {
      const {ctx} = context(params(approximateKind, {model, calibration, ...given}));
      return approximateKind.run(ctx).then(
        () => undefined,
        (error: unknown) => error,
      );
    };
    const unknownLayer = await failure({layers: ['blocks.*.mlp.fc3'], default: 'mul8s_1L2H'});
    expect(unknownLayer).toBeInstanceOf(StepError);
    expect(unknownLayer).toMatchObject({param: 'with.layers', message: expect.stringMatching(/matches no approximable layer/)});
    const unknownMultiplier = await failure({default: 'mul8s_NOPE'});
    expect(unknownMultiplier).toMatchObject({param: 'with.default', message: expect.stringMatching(/unknown multiplier "mul8s_NOPE"/)});
    const wrongCalibration = await failure({calibration: model, default: 'mul8s_1L2H'});
    expect(wrongCalibration).toMatchObject({param: 'with.calibration'});
  });
});
