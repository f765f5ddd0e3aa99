// Hardware figures of axx's generated multiplier families, measured with Yosys (CMOS transistor estimate,
// osu018 cell area) and OpenSTA (power at 100 MHz, uniform operands), relative to the exact array of the
// same operand kind; and the effect of real operand statistics on power (data-aware model).
// Run: npx tsx bench/hw.bench.ts   (needs yosys, opensta, qflow-tech-osu018)
import {mkdtemp} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {operandActivity, uniformActivity} from '../src/hw/activity.js';
import {measureCircuit} from '../src/hw/measure.js';
import {analysePower} from '../src/hw/opensta.js';
import {detectHwTools} from '../src/hw/tools.js';
import {familyRtl} from '../src/hw/verilog/families.js';
import {exactMultiplierRtl} from '../src/hw/verilog/matrix-multiplier.js';
import type {RtlModule} from '../src/hw/verilog/rtl.js';

const tools = await detectHwTools();
if (tools.yosys === undefined || tools.sta === undefined || tools.liberty === undefined) {
  console.log('hw bench skipped: needs yosys, opensta (sta) and qflow-tech-osu018');
  process.exit(0);
}
const options = {clockMHz: 100, cacheDir: await mkdtemp(join(tmpdir(), 'axx-hw-bench-'))};

const members: [string, string, Record<string, number | boolean>][] = [
  ['trunc_k2', 'truncated', {k: 2}],
  ['trunc_k4', 'truncated', {k: 4}],
  ['trunc_k4c', 'truncated', {k: 4, correction: true}],
  ['trunc_k6', 'truncated', {k: 6}],
  ['trunc_k8', 'truncated', {k: 8}],
  ['bam_h2_v6', 'bam', {h: 2, v: 6}],
  ['perf_p0_n2', 'perforated', {p: 0, n: 2}],
  ['drum_k4', 'drum', {k: 4}],
  ['mitchell', 'mitchell', {}],
];

const started = performance.now();
for (const signed of [true, false]) {
  const kind = signed ? '8s' : '8u';
  const measure = (rtl: RtlModule) => measureCircuit(rtl, {name: rtl.name, id: rtl.name}, tools, options);
  const exact = (await measure(exactMultiplierRtl(`axx_exact${kind}`, signed))).figures;
  console.log(`\n${signed ? 'signed' : 'unsigned'} exact array: ${exact.transistors} transistors, ${exact.areaUm2} um^2, ${exact.powerMw?.toFixed(3)} mW, ${exact.delayNs?.toFixed(2)} ns`);
  console.log('circuit            transistors  area um^2  power mW  rel.area  rel.power');
  for (const [suffix, family, params] of members) {
    const rtl = familyRtl(`axx_${suffix}_${kind}`, signed, {name: family, params});
    if (rtl === undefined) continue;
    const f = (await measure(rtl)).figures;
    const rel = (x: number | null, y: number | null) => (x === null || y === null ? '-' : (x / y).toFixed(3));
    console.log(
      `${`${suffix} (${kind})`.padEnd(18)} ${String(f.transistors).padStart(11)}  ${String(f.areaUm2).padStart(9)}  ${f.powerMw?.toFixed(3).padStart(8)}  ${rel(f.areaUm2, exact.areaUm2).padStart(8)}  ${rel(f.powerMw, exact.powerMw).padStart(9)}`,
    );
  }
}

// Data-aware: a bell-shaped activation distribution (most |q| small, as after calibration) vs uniform bytes.
const bell = new Array<number>(256).fill(0);
for (let q = -127; q <= 127; q++) bell[q & 0xff] = Math.exp(-((q / 20) ** 2) / 2);
const exactSigned = await measureCircuit(exactMultiplierRtl('axx_exact8s', true), {name: 'exact8s', id: 'exact8s'}, tools, options);
const power = async (activity: ReturnType<typeof uniformActivity>) =>
  (await analysePower(exactSigned.netlist, exactSigned.rtl.name, tools, {clockMHz: 100, inputActivity: activity})).totalMw;
const uniform = await power(uniformActivity());
const streaming = await power(operandActivity({a: bell, b: bell, weightOperand: 'b'}, 'output-stationary'));
const stationary = await power(operandActivity({a: bell, b: bell, weightOperand: 'b'}, 'weight-stationary'));
console.log(`\nexact signed multiplier at 100 MHz: uniform operands ${uniform.toFixed(3)} mW; bell-shaped int8 operands (sigma 20) ${streaming.toFixed(3)} mW (${(streaming / uniform).toFixed(2)}x); weight-stationary ${stationary.toFixed(3)} mW (${(stationary / uniform).toFixed(2)}x)`);
console.log(`hw bench: ${((performance.now() - started) / 1000).toFixed(1)} s`);
