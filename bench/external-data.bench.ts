// A model past protobuf's 2 GiB limit through a pipeline's path (docs/scale.md "Models past 2 GiB"): a ViT-Ti/16
// (scripts/fixtures/make_vit_tiny.py, 224 px, 1000 classes) approximated with the rank-90 unsigned circuit
// mul8u_12N4 is written as the approximate step writes it (writeModelOutput: model.onnx + model.onnx.data),
// loaded by onnxruntime from that directory and evaluated as the evaluate step does (evaluateModel on the
// model file), against the float model on the same images. Reports the size on disk, each stage's time and the
// peak RSS. It times the three ways onnxruntime gets the model, interleaved over AXX_BENCH_ROUNDS rounds (default
// 2): from the model directory (the evaluate step), from the IR model written to a scratch directory (the search
// runtime's way, createSession's scratchDir) and from the IR model with in-memory external data (createSession
// without one), each alone and with its first evaluation (onnxruntime maps a directory's data files, so their
// pages are first read there), and checks that all three give the same logits. AXX_BENCH_STAGES=1 also times the
// in-memory load stage by stage, and onnxruntime's loads with graph optimisation or prepacking off. Sizes: AXX_BENCH_IMAGES (default 4; about 30 s per image on one core), AXX_BENCH_MULTIPLIER
// (default mul8u_12N4), AXX_BENCH_LAYERS (a glob; default every Linear layer), AXX_BENCH_PATHS (emulation paths the
// rewrite may choose, comma-separated; default all: mul8u_12N4 then takes the int8 lookup path, 1.3 GiB; with
// AXX_BENCH_PATHS=lowrank-fp64, the rank-90 path, the MLP layers alone pass 2 GiB).
// Run: npx tsx bench/external-data.bench.ts
import {execFileSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs';
import {cpus, loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import * as ort from 'onnxruntime-node';
import {makeImagenetFolder} from '../scripts/fixtures/imagenet-folder.js';
import {runCalibration} from '../src/approx/calibration-run.js';
import type {EmulationPath} from '../src/approx/emulate/plan.js';
import {resolveMultiplier} from '../src/approx/library.js';
import {approximateModel} from '../src/approx/rewrite.js';
import {openDataset} from '../src/data/dataset-reader.js';
import {imageFolderSource, TIMM_EVAL_TRANSFORM} from '../src/data/image-folder.js';
import {writeSubset} from '../src/data/write-subset.js';
import {evaluateModel} from '../src/infer/evaluate-model.js';
import {encodeModelSplit, MODEL_FILE_NAME, modelFileOf, readModelFile, writeModelOutput} from '../src/onnx/codec.js';
import type {Model} from '../src/onnx/ir.js';
import {MAX_MESSAGE_BYTES} from '../src/onnx/protobuf.js';
import {createSession, type ModelSession} from '../src/onnx/session.js';

const IMAGES = Number(process.env['AXX_BENCH_IMAGES'] ?? 4);
const MULTIPLIER = process.env['AXX_BENCH_MULTIPLIER'] ?? 'mul8u_12N4';
const LAYERS = process.env['AXX_BENCH_LAYERS'];
const PATHS = process.env['AXX_BENCH_PATHS']?.split(',') as EmulationPath[] | undefined;
const LINEAR_LAYERS = ['**/attn/qkv/**', '**/attn/proj/**', '**/mlp/fc1/**', '**/mlp/fc2/**'];
const THREADS = 2;
const ROUNDS = Number(process.env['AXX_BENCH_ROUNDS'] ?? 2);
const STAGES = process.env['AXX_BENCH_STAGES'] === '1';
const LOADS = ['directory', 'scratch', 'memory'] as const;
type Load = (typeof LOADS)[number];

const work = mkdtempSync(join(tmpdir(), 'axx-bench-external-'));
const root = join(import.meta.dirname, '..');
const peakRssGiB = () => process.resourceUsage().maxRSS / 2 ** 20;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sameValues = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);
const sizeOf = (path: string): number =>
  statSync(path).isDirectory() ? readdirSync(path).reduce((sum, f) => sum + statSync(join(path, f)).size, 0) : statSync(path).size;

/**
 * createSession's in-memory way taken apart: encoding, one buffer per data file, onnxruntime's load; then
 * onnxruntime's loads from the directory and from memory with graph optimisation off, and with prepacking off.
 * The options are createSession's, spelled out to vary them.
 */
async function loadStages(model: Model, modelFile: string): Promise<string> {
  const options: ort.InferenceSession.SessionOptions = {executionProviders: ['cpu'], intraOpNumThreads: THREADS, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3};
  const [split, encodeMs] = await timed(() => encodeModelSplit(model, `${MODEL_FILE_NAME}.data`, 0));
  const [externalData, buffersMs] = await timed(() => split.externalData.map((file) => ({path: file.location, data: Buffer.concat(file.chunks, file.byteLength)})));
  const load = async (variant: ort.InferenceSession.SessionOptions, fromMemory: boolean): Promise<number> => {
    const [session, ms] = await timed(() => (fromMemory ? ort.InferenceSession.create(split.model, {...options, ...variant, externalData}) : ort.InferenceSession.create(modelFile, {...options, ...variant})));
    await session.release();
    return ms;
  };
  const createMs = await load({}, true);
  const unoptimised = {graphOptimizationLevel: 'disabled'} as const;
  const unpacked = {extra: {session: {disable_prepacking: '1'}}};
  const [unoptimisedDirectory, unoptimisedMemory, unpackedDirectory, unpackedMemory] = [await load(unoptimised, false), await load(unoptimised, true), await load(unpacked, false), await load(unpacked, true)];
  return (
    `in-memory load by stage: encodeModelSplit ${seconds(encodeMs)}, one buffer per data file ${seconds(buffersMs)}, InferenceSession.create with externalData ${seconds(createMs)}; ` +
    `graph optimisation off: directory ${seconds(unoptimisedDirectory)}, memory ${seconds(unoptimisedMemory)}; prepacking off: directory ${seconds(unpackedDirectory)}, memory ${seconds(unpackedMemory)}`
  );
}

async function timed<T>(run: () => Promise<T> | T): Promise<[T, number]> {
  const started = performance.now();
  const value = await run();
  return [value, performance.now() - started];
}

try {
  const floatFile = join(work, 'vit_tiny.onnx');
  execFileSync('/usr/bin/python3', [join(root, 'scripts', 'fixtures', 'make_vit_tiny.py'), floatFile], {stdio: 'pipe'});
  const folder = join(work, 'imagenet');
  await makeImagenetFolder(folder, {classes: Math.min(20, IMAGES), trainPerClass: 0, valPerClass: Math.ceil(IMAGES / 20)});
  const transform = {...TIMM_EVAL_TRANSFORM, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]};
  await writeSubset(join(work, 'val-u8'), imageFolderSource(join(folder, 'val'), transform, {concurrency: THREADS}), {limit: IMAGES});
  const dataset = openDataset(join(work, 'val-u8'));

  const float = readModelFile(floatFile);
  const calibration = await runCalibration(float, () => dataset.batches(IMAGES), {batches: 1, createSession, threads: THREADS});
  const layers = LAYERS === undefined ? LINEAR_LAYERS : [LAYERS];
  const logitsOf = async (session: ModelSession): Promise<[Float32Array, number]> => {
    const rows: Float32Array[] = [];
    const [, ms] = await timed(() => evaluateModel(session, dataset, {batchSize: 1, onLogits: ({logits}) => void rows.push(logits.slice())}));
    return [Float32Array.from(rows.flatMap((row) => Array.from(row))), ms];
  };
  // In a function so that the IR model is unreachable afterwards: onnxruntime's copy is then the only one left.
  const approximateToDirectory = async () => {
    const [{model, manifest}, approximateMs] = await timed(() => approximateModel(float, {calibration, resolveMultiplier, layers, default: MULTIPLIER, ...(PATHS ? {emulationPaths: PATHS} : {})}));
    const [output, writeMs] = await timed(() => writeModelOutput(work, model, 'approximated'));
    if (!('dir' in output)) throw new Error(`expected a model directory past the single-file limit, got ${JSON.stringify(output)}`);
    const scratchDir = join(work, 'scratch');
    mkdirSync(scratchDir);
    const open = (load: Load): Promise<ModelSession> =>
      load === 'directory'
        ? createSession(modelFileOf(output.dir), {intraOpNumThreads: THREADS})
        : createSession(model, {intraOpNumThreads: THREADS, ...(load === 'scratch' ? {scratchDir} : {})});
    // Interleaved, so a change in the machine's load hits every way alike; each way's logits from its first session.
    const loadMs: Record<Load, number[]> = {directory: [], scratch: [], memory: []};
    const firstEvaluationMs: Record<Load, number[]> = {directory: [], scratch: [], memory: []};
    const loadLogits = {} as Record<Load, Float32Array>;
    for (let round = 0; round < ROUNDS; round++) {
      for (const load of LOADS) {
        const [session, ms] = await timed(() => open(load));
        const [logits, evaluateMs] = await logitsOf(session);
        loadMs[load].push(ms);
        firstEvaluationMs[load].push(ms + evaluateMs);
        loadLogits[load] ??= logits;
        await session.release();
      }
    }
    if (readdirSync(scratchDir).length > 0) throw new Error(`released sessions left files in ${scratchDir}: ${readdirSync(scratchDir).join(', ')}`);
    const stages = STAGES ? await loadStages(model, modelFileOf(output.dir)) : undefined;
    const paths = [...new Set(manifest.layers.map((l) => `${l.path} rank ${l.rank}`))].join(', ');
    return {dir: output.dir, approximateMs, writeMs, loadMs, firstEvaluationMs, loadLogits, stages, paths, layerCount: manifest.layers.length};
  };
  const high = await approximateToDirectory();
  const files = readdirSync(high.dir).sort();
  const bytes = sizeOf(high.dir);
  const modelFile = modelFileOf(high.dir);

  // The pipeline's way: the evaluate step hands onnxruntime the model file, which finds its data beside it.
  const session = await createSession(modelFile, {intraOpNumThreads: THREADS});
  using floatSession = await createSession(floatFile, {intraOpNumThreads: THREADS});
  await logitsOf(floatSession); // warm-up
  const [, floatMs] = await logitsOf(floatSession);
  const [logits, highMs] = await logitsOf(session);
  await session.release();
  const identical = LOADS.every((load) => sameValues(logits, high.loadLogits[load]));
  const best = (times: Record<Load, number[]>) => Object.fromEntries(LOADS.map((way) => [way, Math.min(...times[way])])) as Record<Load, number>;
  const ways = (times: Record<Load, number[]>) => {
    const b = best(times);
    return `from the model directory ${seconds(b.directory)}; from the IR model written to a scratch directory ${seconds(b.scratch)} = ${(b.scratch / b.directory).toFixed(1)}×, handed over in memory ${seconds(b.memory)} = ${(b.memory / b.directory).toFixed(1)}× the directory's (all: ${LOADS.map((way) => `${way} ${times[way].map(seconds).join(', ')}`).join('; ')})`;
  };

  console.log(`external-data bench: ViT-Ti/16 (224 px, 1000 classes), ${MULTIPLIER} on ${LAYERS ?? 'every Linear layer'} (${high.layerCount} layers: ${high.paths}), ${IMAGES} images, ${THREADS} threads; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
  console.log(
    `  size: ${(bytes / 2 ** 30).toFixed(2)} GiB as ${files.join(' + ')} (model.onnx ${(statSync(modelFile).size / 2 ** 20).toFixed(1)} MiB; float model ${(sizeOf(floatFile) / 2 ** 20).toFixed(0)} MiB); ${bytes > MAX_MESSAGE_BYTES ? 'past' : 'below'} protobuf's 2 GiB limit for one file`,
  );
  console.log(`  approximate ${seconds(high.approximateMs)}, write the model directory ${seconds(high.writeMs)}`);
  console.log(`  onnxruntime session (best of ${ROUNDS}, interleaved): ${ways(high.loadMs)}`);
  console.log(`  session + its first evaluation of ${IMAGES} images: ${ways(high.firstEvaluationMs)}`);
  if (high.stages !== undefined) console.log(`  ${high.stages}`);
  console.log(`  evaluate (batch 1): float ${seconds(floatMs / IMAGES)} per image, approximated ${seconds(highMs / IMAGES)} per image = ${(highMs / floatMs).toFixed(0)}× the float time; logits from the directory, the scratch directory and memory ${identical ? 'identical' : 'DIFFER'}`);
  console.log(`  peak RSS ${peakRssGiB().toFixed(1)} GiB`);
} finally {
  rmSync(work, {recursive: true, force: true});
}
