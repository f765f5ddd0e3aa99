// Multiplier library: cost of building and characterising tables, Verilog import time, and how the
// generated families' errors compare with EvoApprox circuits of similar MAE (same operand kind).
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {generatedMultiplier} from '../src/approx/families/index.js';
import {importVerilog} from '../src/approx/import/verilog.js';
import {listMultipliers} from '../src/approx/library.js';
import {characterize, errorMetrics} from '../src/approx/metrics.js';

function timed<T>(run: () => T): {value: T; ms: number} {
  const started = performance.now();
  const value = run();
  return {value, ms: performance.now() - started};
}

const names = ['trunc8s_k6c', 'bam8u_h2_v6', 'perf8s_p0_n2', 'otrunc8u_k2', 'drum8u_k4', 'mitchell8s'];
for (const name of names) {
  const built = timed(() => generatedMultiplier(name));
  const metrics = timed(() => errorMetrics(built.value!));
  console.log(`${name.padEnd(13)} table ${built.ms.toFixed(1).padStart(6)} ms, metrics ${metrics.ms.toFixed(1).padStart(5)} ms`);
}

const all = timed(() => listMultipliers().map((m) => characterize(m)));
console.log(`listMultipliers + characterize (metrics and rank) of ${all.value.length} circuits: ${all.ms.toFixed(0)} ms`);

if (spawnSync('iverilog', ['-V']).error === undefined) {
  const file = fileURLToPath(new URL('../test/fixtures/verilog/exact_mul8s.v', import.meta.url));
  const imported = timed(() => importVerilog(file));
  console.log(`Verilog import (iverilog compile + 65,536-vector simulation) of exact_mul8s.v: ${imported.ms.toFixed(0)} ms`);
} else console.log('Verilog import: skipped (iverilog not installed)');

console.log('\ngenerated circuit vs EvoApprox circuit of the nearest MAE (same operand kind):');
const evo = all.value.filter((c) => c.source === 'evoapprox');
for (const c of all.value.filter((g) => g.source === 'generated')) {
  const nearest = evo
    .filter((e) => e.signed === c.signed)
    .reduce((best, e) => (Math.abs(Math.log(e.metrics.mae / c.metrics.mae)) < Math.abs(Math.log(best.metrics.mae / c.metrics.mae)) ? e : best));
  const row = (x: typeof c): string =>
    `${x.name.padEnd(12)} MAE ${x.metrics.mae.toFixed(1).padStart(7)} WCE ${String(x.metrics.wce).padStart(5)} bias ${x.metrics.meanError.toFixed(1).padStart(7)} rank ${String(x.rank).padStart(3)}`;
  console.log(`  ${row(c)}  |  ${row(nearest)} ${nearest.hardware.powerMw} mW`);
}

const byId = new Map(evo.map((e) => [e.id, e.name]));
const twins = all.value.filter((c) => c.source === 'generated' && byId.has(c.id)).map((c) => `${c.name} = ${byId.get(c.id)}`);
console.log(`\ngenerated tables identical to an EvoApprox circuit: ${twins.length === 0 ? 'none' : twins.join(', ')}`);
