// Search methods and confirmation on REAL instances: the shipped MNIST ViT, a few of its layers × a few
// signed EvoApprox circuits, every configuration approximated (ONNX rewrite) and scored by onnxruntime on
// all 10,000 MNIST test images once, keeping which images it got right. Memoised (engine store in
// <os tmpdir>/axx-search-real-bench), so only the first run of an instance pays for its enumeration
// (~1 s per configuration per core). Any subset's accuracy is then read off the per-image correctness, so
// each seed draws its own stratified search subset and disjoint hold-out, as the search step does.
//
// Per instance, search-subset size (1000 and 200 images) and seed (dataSeed = searchSeed = seed):
//  1. methods: evaluations until the best point within the threshold on the search subset reaches 95 % of
//     that subset's optimal saving, charging the sensitivity cells to every method that reads the matrix;
//  2. confirmation: the default method's answer with a budget, unconfirmed vs confirmed on the hold-out
//     at confidence 0.9: how often it meets the threshold on the full test set, and what it costs.
// Run: npx tsx bench/search-real.bench.ts [instance names, default all]   (e.g. `... fc`)
import {availableParallelism, tmpdir} from 'node:os';
import {join} from 'node:path';
import {openApproximationRuntime} from '../src/approx/search-runtime/approximation-runtime.js';
import {confirm, decodeCorrect, encodeCorrect, evaluationKey, runSearch, DEFAULT_SEARCH_METHOD, SEARCH_METHODS, type Assignment, type MultiplierCandidate, type PredictedDrops, type SearchMethod} from '../src/approx/search/index.js';
import {mapConcurrent} from '../src/approx/search/pool.js';
import {openDataset} from '../src/data/dataset-reader.js';
import {disjointStratifiedSubsets} from '../src/data/dataset-view.js';
import {Store} from '../src/engine/store/store.js';
import {evaluationStore} from '../src/steps/shared/approximate-evaluation.js';
import {vitFixture} from '../test/support/vit-fixture.js';

interface Instance {
  name: string;
  layers: string[];
  circuits: string[];
  /** Points. */
  threshold: number;
}

// Small on purpose: each configuration is scored on all 10,000 test images once (~1 s on an idle core).
const INSTANCES: Instance[] = [
  {name: 'fc', layers: ['blocks.0.mlp.fc1', 'blocks.1.mlp.fc2', 'blocks.2.mlp.fc1', 'blocks.3.mlp.fc2'], circuits: ['mul8s_1L2H', 'mul8s_1L2D'], threshold: 1},
  {name: 'attn', layers: ['blocks.0.attn.qkv', 'blocks.2.attn.qkv', 'blocks.3.attn.qkv'], circuits: ['mul8s_1L2D', 'mul8s_1L1G'], threshold: 0.5},
  {name: 'mixed', layers: ['blocks.0.attn.proj', 'blocks.1.mlp.fc1', 'blocks.3.mlp.fc1'], circuits: ['mul8s_1KR8', 'mul8s_1KR3'], threshold: 2},
];
const SEEDS = Array.from({length: 8}, (_, i) => i + 1);
// Search subsets of the quickstart's size and of a small one (where one image is 0.5 point).
const SEARCH_SAMPLES = [1000, 200];
const HOLDOUT = [1500, 1500];
const CONFIDENCE = 0.9;
const CONFIRM_BUDGET = 60;
const TARGET = 0.95;
const TEST_IMAGES = 10000;

const only = process.argv.slice(2);
const dir = join(tmpdir(), 'axx-search-real-bench');
const fixture = await vitFixture(dir, TEST_IMAGES);
using store = Store.open(join(dir, 'cache'));
const memo = evaluationStore(store.memo.forKind('bench'));
const signal = new AbortController().signal;
const labels = openDataset(fixture.dataset).readLabels();
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const median = (values: readonly number[]): string => (values.length === 0 ? '-' : String([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]));
const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;

for (const instance of INSTANCES.filter((i) => only.length === 0 || only.includes(i.name))) {
  const runtime = openApproximationRuntime({modelFile: fixture.model, calibrationFile: fixture.calibration, datasetDir: fixture.dataset, multipliers: instance.circuits, layers: instance.layers, batchSize: 250});
  const exactPower = runtime.exact.hardware.powerMw!;
  const multipliers: MultiplierCandidate[] = runtime.multipliers.map((m) => ({name: m.name, id: m.id, relativePower: m.hardware.powerMw! / exactPower, exact: m.id === runtime.exact.id}));
  const layers = runtime.layers;
  const totalMacs = layers.reduce((sum, l) => sum + l.macs, 0);
  const byName = new Map(multipliers.map((m) => [m.name, m]));
  const power = (a: Assignment): number => layers.reduce((sum, l) => sum + (l.macs / totalMacs) * byName.get(a[l.name]!)!.relativePower, 0);

  // Enumerate every configuration on the whole test set (memoised: re-runs only read SQLite).
  const configs: Assignment[] = [];
  const visit = (prefix: string[]): void => {
    if (prefix.length === layers.length) configs.push(Object.fromEntries(layers.map((l, i) => [l.name, prefix[i]!])));
    else for (const m of multipliers) visit([...prefix, m.name]);
  };
  visit([]);
  const started = performance.now();
  let fresh = 0;
  const correct = await mapConcurrent(configs, Math.max(1, availableParallelism()), async (assignment) => {
    const key = evaluationKey(runtime.scope, assignment, multipliers);
    let outcome = await memo.get(key);
    if (outcome === undefined) {
      outcome = await runtime.evaluate(assignment, signal);
      await memo.set(key, outcome);
      if (++fresh % 16 === 0) console.log(`  ${instance.name}: enumerated ${fresh} new configurations (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
    return decodeCorrect(outcome.correct!, TEST_IMAGES);
  });
  const id = (a: Assignment): string => layers.map((l) => a[l.name]).join(',');
  const index = new Map(configs.map((a, i) => [id(a), i]));
  const allExact = Object.fromEntries(layers.map((l) => [l.name, runtime.exact.name]));
  const accuracyOn = (config: number, images: Int32Array | undefined): number => {
    const bits = correct[config]!;
    if (images === undefined) return bits.reduce((a, b) => a + b, 0) / bits.length;
    let sum = 0;
    for (const i of images) sum += bits[i]!;
    return sum / images.length;
  };
  const exactIndex = index.get(id(allExact))!;
  const fullBaseline = accuracyOn(exactIndex, undefined);
  const fullDrop = (a: Assignment): number => fullBaseline - accuracyOn(index.get(id(a))!, undefined);
  const maxAccuracyDrop = instance.threshold / 100 + 1e-9;
  const fullOptimum = Math.max(...configs.filter((a) => fullDrop(a) <= maxAccuracyDrop).map((a) => 1 - power(a)));
  console.log(
    `search-real ${instance.name}: ${layers.length} layers × ${multipliers.length} circuits = ${configs.length} REAL configurations on ${TEST_IMAGES} MNIST test images ` +
      `(${fresh} evaluated now in ${((performance.now() - started) / 1000).toFixed(0)} s, the rest from the memo); threshold ${instance.threshold} point(s); ` +
      `full test set: baseline ${(100 * fullBaseline).toFixed(2)}%, optimal saving ${pct(fullOptimum)}`,
  );
  const cells = layers.length * (multipliers.length - 1);
  for (const searchSamples of SEARCH_SAMPLES) {
    const methodRuns = new Map<SearchMethod, {needed: number[]; misses: number}>(SEARCH_METHODS.map((m) => [m, {needed: [], misses: 0}]));
    const confirmation = {unconfirmedMeets: 0, confirmedMeets: 0, noAnswer: 0, savingUnconfirmed: [] as number[], savingConfirmed: [] as number[], evaluations: [] as number[], images: [] as number[]};
    for (const seed of SEEDS) {
      const [searchImages, ...stages] = disjointStratifiedSubsets(labels, 10, [searchSamples, ...HOLDOUT], seed);
      const accuracy = configs.map((_, c) => accuracyOn(c, searchImages));
      const baseline = accuracy[exactIndex]!;
      const drops: PredictedDrops = {};
      for (const l of layers) for (const m of multipliers) if (!m.exact) (drops[l.name] ??= {})[m.name] = baseline - accuracy[index.get(id({...allExact, [l.name]: m.name}))!]!;
      const problem = {layers, multipliers, baselineAccuracy: baseline, maxAccuracyDrop, sensitivity: drops, evaluate: async (a: Assignment) => ({accuracy: accuracy[index.get(id(a))!]!}), relativePower: power};
      const optimum = Math.max(...configs.filter((_, c) => baseline - accuracy[c]! <= maxAccuracyDrop).map((a) => 1 - power(a)));

      for (const method of SEARCH_METHODS) {
        const charged = method === 'random' || method === 'genetic' ? 0 : cells;
        const result = await runSearch(problem, {method, budget: configs.length, seed});
        const reached = result.points.find((p) => p.feasible && 1 - p.relativePower >= TARGET * optimum - 1e-12)?.order;
        const tally = methodRuns.get(method)!;
        if (reached === undefined) tally.misses++;
        else tally.needed.push(reached + charged);
      }

      const result = await runSearch(problem, {method: DEFAULT_SEARCH_METHOD, budget: CONFIRM_BUDGET, seed});
      if (result.best === undefined) continue;
      const holdout = stages.map((images) => ({
        samples: images!.length,
        evaluate: async (a: Assignment) => {
          const bits = correct[index.get(id(a))!]!;
          return {accuracy: accuracyOn(index.get(id(a))!, images), correct: encodeCorrect(Array.from(images!, (i) => bits[i]!))};
        },
      }));
      const confirmed = await confirm(result.points, holdout, {maxAccuracyDrop, confidence: CONFIDENCE, baseline: allExact});
      if (fullDrop(result.best.assignment) <= maxAccuracyDrop) confirmation.unconfirmedMeets++;
      confirmation.savingUnconfirmed.push((1 - result.best.relativePower) / fullOptimum);
      confirmation.evaluations.push(confirmed.evaluations);
      confirmation.images.push(confirmed.images);
      // No answer keeps every layer exact: within the threshold, with no saving.
      const answer = confirmed.answer?.assignment ?? allExact;
      if (confirmed.answer === undefined) confirmation.noAnswer++;
      if (fullDrop(answer) <= maxAccuracyDrop) confirmation.confirmedMeets++;
      confirmation.savingConfirmed.push((1 - power(answer)) / fullOptimum);
    }
    console.log(`  search subset of ${searchSamples} images:`);
    for (const [method, tally] of methodRuns) {
      console.log(`    ${method.padEnd(8)} 95 % of the optimum: mean ${mean(tally.needed).toFixed(1)}, median ${median(tally.needed)} evaluations (sensitivity cells charged: ${method === 'random' || method === 'genetic' ? 0 : cells}), misses ${tally.misses}/${SEEDS.length}`);
    }
    const runs = confirmation.savingConfirmed.length;
    console.log(
      `    confirmation (${DEFAULT_SEARCH_METHOD}, budget ${CONFIRM_BUDGET}, hold-out ${HOLDOUT.join(' + ')}, confidence ${CONFIDENCE}): ` +
        `meets the threshold on the full test set: unconfirmed ${confirmation.unconfirmedMeets}/${runs}, confirmed ${confirmation.confirmedMeets}/${runs} (${confirmation.noAnswer} without an answer); ` +
        `saving / full-set optimum: unconfirmed ${pct(mean(confirmation.savingUnconfirmed))}, confirmed ${pct(mean(confirmation.savingConfirmed))}; ` +
        `cost: ${mean(confirmation.evaluations).toFixed(1)} hold-out evaluations, ${(mean(confirmation.images) / searchSamples).toFixed(1)} search-evaluation equivalents`,
    );
  }
}
