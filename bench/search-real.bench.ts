// Search methods on a REAL instance: the shipped MNIST ViT, 6 of its layers × 4 signed EvoApprox circuits
// (exact mul8s_1KV8, 1L2H, 1L2D, 1KR3) = 4096 configurations, every one approximated (ONNX rewrite) and
// evaluated with onnxruntime on the first SAMPLES MNIST test images. Evaluations go through the engine
// memo in <os tmpdir>/axx-search-real-bench, so only the first run pays for the enumeration.
// From the enumeration: the true optimum (largest power saving within THRESHOLD points); then MCTS,
// random, greedy and genetic run over the same (memoised, hence exact) evaluations, several seeds each,
// and we count the evaluations each needed before its best feasible point reached 95 % of the optimum.
// Run: npx tsx bench/search-real.bench.ts [samples [threshold points]]
import {availableParallelism, tmpdir} from 'node:os';
import {join} from 'node:path';
import {openApproximationRuntime} from '../src/approx/search-runtime/approximation-runtime.js';
import {vitFixture} from '../test/support/vit-fixture.js';
import {evaluationKey, runSearch, type Assignment, type EvaluationOutcome, type MultiplierCandidate, type PredictedDrops, type SearchMethod} from '../src/approx/search/index.js';
import {mapConcurrent} from '../src/approx/search/pool.js';
import {Store} from '../src/engine/store/store.js';
import {evaluationStore} from '../src/steps/shared/approximate-evaluation.js';

const SAMPLES = Number(process.argv[2] ?? 200);
const THRESHOLD_POINTS = Number(process.argv[3] ?? 1);
const LAYERS = ['blocks.0.attn.qkv', 'blocks.0.mlp.fc1', 'blocks.0.mlp.fc2', 'blocks.3.attn.qkv', 'blocks.3.mlp.fc1', 'blocks.3.mlp.fc2'];
const CIRCUITS = ['mul8s_1L2H', 'mul8s_1L2D', 'mul8s_1KR3'];
const SEEDS = Array.from({length: 8}, (_, i) => i + 1);
const METHODS: SearchMethod[] = ['mcts', 'random', 'greedy', 'genetic'];
const TARGET = 0.95;

const dir = join(tmpdir(), 'axx-search-real-bench');
const fixture = await vitFixture(dir, SAMPLES);
using store = Store.open(join(dir, 'cache'));
const memo = evaluationStore(store.memo.forKind('bench'));
const runtime = openApproximationRuntime({modelFile: fixture.model, calibrationFile: fixture.calibration, datasetDir: fixture.dataset, multipliers: CIRCUITS, layers: LAYERS, batchSize: 100});
const exactPower = runtime.exact.hardware.powerMw!;
const multipliers: MultiplierCandidate[] = runtime.multipliers.map((m) => ({name: m.name, id: m.id, relativePower: m.hardware.powerMw! / exactPower, exact: m.id === runtime.exact.id}));
const layers = runtime.layers;
const totalMacs = layers.reduce((sum, l) => sum + l.macs, 0);
const power = (a: Assignment): number => layers.reduce((sum, l) => sum + (l.macs / totalMacs) * multipliers.find((m) => m.name === a[l.name])!.relativePower, 0);

// Enumerate every configuration (memoised: re-runs only read SQLite).
const configs: Assignment[] = [];
const visit = (prefix: string[]): void => {
  if (prefix.length === layers.length) configs.push(Object.fromEntries(layers.map((l, i) => [l.name, prefix[i]!])));
  else for (const m of multipliers) visit([...prefix, m.name]);
};
visit([]);
const signal = new AbortController().signal;
const started = performance.now();
let fresh = 0;
const outcomes = await mapConcurrent(configs, Math.max(1, availableParallelism()), async (assignment) => {
  const key = evaluationKey(runtime.scope, assignment, multipliers);
  const stored = await memo.get(key);
  if (stored !== undefined) return stored;
  const outcome = await runtime.evaluate(assignment, signal);
  await memo.set(key, outcome);
  if (++fresh % 256 === 0) console.log(`  enumerated ${fresh} new configurations (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  return outcome;
});
const enumerationSeconds = (performance.now() - started) / 1000;
const table = new Map<string, EvaluationOutcome>(configs.map((a, i) => [JSON.stringify(a), outcomes[i]!]));
const allExact = Object.fromEntries(layers.map((l) => [l.name, runtime.exact.name]));
const baseline = table.get(JSON.stringify(allExact))!.accuracy;
// As the search step does: a drop of exactly THRESHOLD_POINTS is within (1 − 0.99 > 0.01 in floating point).
const maxAccuracyDrop = THRESHOLD_POINTS / 100 + 1e-9;
const feasible = configs.filter((a) => baseline - table.get(JSON.stringify(a))!.accuracy <= maxAccuracyDrop);
const optimum = Math.max(...feasible.map((a) => 1 - power(a)));
const hits = feasible.filter((a) => 1 - power(a) >= TARGET * optimum - 1e-12).length;
console.log(
  `search-real: shipped ViT, ${layers.length} layers × ${multipliers.length} circuits = ${configs.length} REAL configurations on ${SAMPLES} MNIST test images ` +
    `(${fresh} evaluated now in ${enumerationSeconds.toFixed(0)} s, ${(fresh > 0 ? (1000 * enumerationSeconds) / fresh : 0).toFixed(0)} ms each on ${availableParallelism()} in flight; the rest from the memo)`,
);
console.log(
  `  baseline (quantised, exact multipliers) ${(100 * baseline).toFixed(1)}%, threshold ${THRESHOLD_POINTS} point(s): ${feasible.length}/${configs.length} feasible, ` +
    `optimum saving ${(100 * optimum).toFixed(1)}%, ${hits} configurations reach ${TARGET * 100}% of it (uniform sampling expects ${((configs.length + 1) / (hits + 1)).toFixed(0)} evaluations)`,
);

// The sensitivity matrix a `sensitivity` step would measure: the single-layer configurations.
const drops: PredictedDrops = {};
for (const l of layers) for (const m of multipliers) if (!m.exact) (drops[l.name] ??= {})[m.name] = baseline - table.get(JSON.stringify({...allExact, [l.name]: m.name}))!.accuracy;
const cells = layers.length * (multipliers.length - 1);
const problem = {layers, multipliers, baselineAccuracy: baseline, maxAccuracyDrop, sensitivity: drops, evaluate: async (a: Assignment) => table.get(JSON.stringify(a))!, relativePower: power};

const needed = new Map<SearchMethod, (number | undefined)[]>();
for (const method of METHODS) {
  const runs: (number | undefined)[] = [];
  for (const seed of method === 'greedy' ? [1] : SEEDS) {
    const result = await runSearch(problem, {method, budget: configs.length, seed});
    runs.push(result.points.find((p) => p.feasible && 1 - p.relativePower >= TARGET * optimum - 1e-12)?.order);
  }
  needed.set(method, runs);
  const reached = runs.filter((n): n is number => n !== undefined);
  console.log(`  ${method.padEnd(7)} reached ${TARGET * 100}% of the optimum in ${reached.length}/${runs.length} runs; evaluations when reached: mean ${average(reached).toFixed(1)}, median ${middle(reached)}`);
}
const mctsMean = average(needed.get('mcts')!.filter((n): n is number => n !== undefined));
const randomMean = average(needed.get('random')!.filter((n): n is number => n !== undefined));
console.log(
  `  random / mcts evaluations to target = ${(randomMean / mctsMean).toFixed(2)}× (goal >= 3×); counting the ${cells} sensitivity cells MCTS's policy uses: ${(randomMean / (mctsMean + cells)).toFixed(2)}×`,
);

function average(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

function middle(values: readonly number[]): string {
  if (values.length === 0) return '-';
  return String([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);
}
