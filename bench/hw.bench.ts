// Hardware figures of axx's generated multiplier families, measured with Yosys (CMOS transistor estimate,
// osu018 cell area) and OpenSTA (power at 100 MHz, uniform operands), relative to the exact array of the
// same operand kind; and the effect of real operand statistics on power (data-aware model).
// Run: npx tsx bench/hw.bench.ts   (needs yosys, opensta, qflow-tech-osu018)
import {mkdtemp} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {listMultipliers, resolveMultiplier} from '../src/approx/library.js';
import {operandActivity, uniformActivity} from '../src/hw/activity.js';
import {measureCircuit} from '../src/hw/measure.js';
import {analysePower} from '../src/hw/opensta.js';
import {detectHwTools} from '../src/hw/tools.js';
import {exactMultiplierRtl} from '../src/hw/verilog/matrix-multiplier.js';
import {multiplierRtl} from '../src/hw/verilog/multiplier-rtl.js';

const tools = await detectHwTools();
if (tools.yosys === undefined || tools.sta === undefined || tools.liberty === undefined) {
  console.log('hw bench skipped: needs yosys, opensta (sta) and qflow-tech-osu018');
  process.exit(0);
}
const options = {clockMHz: 100, cacheDir: await mkdtemp(join(tmpdir(), 'axx-hw-bench-'))};

const circuits = ['trunc8_k2', 'trunc8_k4', 'trunc8_k4c', 'trunc8_k6', 'trunc8_k8', 'bam8_h2_v6', 'perf8_p0_n2', 'otrunc8_k2', 'oround8_k2', 'drum8_k4', 'mitchell8'];
const relative = (x: number | null, y: number | null) => (x === null || y === null ? '-' : (x / y).toFixed(3));

const started = performance.now();
for (const kind of ['s', 'u']) {
  const exactMultiplier = resolveMultiplier(`exact8${kind}`);
  const exact = (await measureCircuit(await multiplierRtl(exactMultiplier), exactMultiplier, tools, options)).figures;
  console.log(`\nexact8${kind} (array): ${exact.transistors} transistors, ${exact.areaUm2} um^2, ${exact.powerMw?.toFixed(3)} mW, ${exact.delayNs?.toFixed(2)} ns; EvoApprox ${exactMultiplier.name}: ${exactMultiplier.hardware.powerMw} mW, ${exactMultiplier.hardware.areaUm2} um^2 (PDK45)`);
  console.log('circuit          transistors  area um^2  power mW  rel.area  rel.power');
  for (const pattern of circuits) {
    const multiplier = resolveMultiplier(pattern.replace('8', `8${kind}`));
    const f = (await measureCircuit(await multiplierRtl(multiplier), multiplier, tools, options)).figures;
    console.log(
      `${multiplier.name.padEnd(16)} ${String(f.transistors).padStart(11)}  ${String(f.areaUm2).padStart(9)}  ${f.powerMw?.toFixed(3).padStart(8)}  ${relative(f.areaUm2, exact.areaUm2).padStart(8)}  ${relative(f.powerMw, exact.powerMw).padStart(9)}`,
    );
  }
  const evo = listMultipliers().filter((m) => m.provenance.source === 'evoapprox' && m.signed === (kind === 's'));
  const ratios = evo.map((m) => `${m.name} ${relative(m.hardware.powerMw, exactMultiplier.hardware.powerMw)}`);
  console.log(`EvoApprox tabulated power / ${exactMultiplier.name} (PDK45): ${ratios.join(', ')}`);
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
