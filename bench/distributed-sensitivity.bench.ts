// The sensitivity matrix of the shipped ViT (16 layers × 5 circuits, 80 cells + the baseline, on 1000
// MNIST test images) through `axx run --redis` with 1 worker vs 2 workers, each `axx worker
// --concurrency 1` (one evaluation at a time, onnxruntime on one thread). Every cell is a job on the task
// queue, so 2 workers should finish ~2× sooner (goal ≥ 1.8×). Each run starts cold: a fresh Redis,
// coordinator cache, blob directory and worker processes (which open the model and data once each), and
// the time is the sensitivity step's, from its step-start to its step-end event. Runs interleave ABAB.
// On a loaded machine wall times swing with the other load, so it also prints each worker's CPU seconds
// (whole run, /proc): the busiest worker's share of the work bounds the speed-up an idle machine would give.
// Run: npx tsx bench/distributed-sensitivity.bench.ts [rounds, default 2] [images, default 1000]
import {spawn, type ChildProcess} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {cpus, loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {ensureDist} from '../test/support/build-dist.js';

const rounds = Number(process.argv[2] ?? 2);
const images = Number(process.argv[3] ?? 1000);
const bin = join(import.meta.dirname, '..', 'bin', 'axx.js');
const root = mkdtempSync(join(tmpdir(), 'axx-bench-distributed-sensitivity-'));
const project = join(root, 'project');
mkdirSync(project);
writeFileSync(join(project, 'package.json'), '{"name": "bench", "private": true}\n');
writeFileSync(
  join(project, 'p.yaml'),
  `steps:
  model: {uses: load/model, with: {name: vit-mnist}}
  calibration-images: {uses: load/dataset, with: {source: mnist, split: train, limit: 256}}
  test-images: {uses: load/dataset, with: {source: mnist, split: test, limit: ${images}}}
  calibrate:
    uses: calibrate
    with: {model: '\${{ steps.model.outputs.model }}', dataset: '\${{ steps.calibration-images.outputs.dataset }}', batches: 4, batchSize: 64}
  sensitivity:
    uses: sensitivity
    with:
      model: \${{ steps.model.outputs.model }}
      calibration: \${{ steps.calibrate.outputs.calibration }}
      dataset: \${{ steps.test-images.outputs.dataset }}
      limit: ${images}
      layers: ['blocks.*.attn.qkv', 'blocks.*.attn.proj', 'blocks.*.mlp.fc1', 'blocks.*.mlp.fc2']
      multipliers: [mul8s_1KR8, mul8s_1L2H, mul8s_1L2D, mul8s_1L1G, mul8s_1KR3]
`,
);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function outputOf(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (pattern.test(text)) resolve(text);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited (${code}) before ${pattern}:\n${text}`)));
  });
}

function axx(args: string[]): ChildProcess {
  return spawn(process.execPath, [bin, ...args], {cwd: project, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, AXX_CACHE: ''}});
}

/** User + system CPU seconds of a live process so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

let counter = 0;
/** Seconds the sensitivity step took with `workers` fresh worker processes, and each worker's CPU seconds. */
async function sensitivitySeconds(workers: number): Promise<{wall: number; setup: number; cpu: number[]}> {
  const dir = join(root, `run-${counter++}`);
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {stdio: ['ignore', 'pipe', 'pipe']});
  await outputOf(redis, /Ready to accept connections/);
  const url = `redis://127.0.0.1:${port}`;
  const blobs = join(dir, 'blobs');
  const pool = Array.from({length: workers}, (_, i) => axx(['worker', '--redis', url, '--blobs', blobs, '--cache', join(dir, `worker-${i}`), '--concurrency', '1']));
  await Promise.all(pool.map((w) => outputOf(w, /takes jobs from/)));
  const run = axx(['run', 'p.yaml', '--cache', join(dir, 'coordinator'), '--redis', url, '--blobs', blobs, '--json']);
  let stdout = '';
  run.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((resolve) => run.on('exit', resolve));
  const cpu = pool.map((w) => cpuSeconds(w.pid!));
  for (const w of [...pool, redis]) {
    w.kill('SIGTERM');
    await new Promise((resolve) => (w.exitCode !== null ? resolve(null) : w.on('exit', resolve)));
  }
  if (code !== 0) throw new Error(`axx run exited ${code}:\n${stdout.slice(-3000)}`);
  const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as {type: string; step?: {id: string}; at: number});
  const at = (type: string): number => events.find((e) => e.type === type && e.step?.id === 'sensitivity')!.at;
  // Until its first task is queued the step opens the model and data on the coordinator: the serial part.
  return {wall: (at('step-end') - at('step-start')) / 1000, setup: (at('step-tasks') - at('step-start')) / 1000, cpu};
}

ensureDist();
console.log(`machine: ${cpus().length} cores, load before ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${images} images, 16 layers × 5 circuits`);
const one: number[] = [];
const two: number[] = [];
const balance: number[] = [];
for (let round = 0; round < rounds; round++) {
  const single = await sensitivitySeconds(1);
  one.push(single.wall);
  console.log(`  round ${round + 1}: 1 worker  ${single.wall.toFixed(1)} s (coordinator setup ${single.setup.toFixed(1)} s), worker cpu ${single.cpu[0]!.toFixed(1)} s   (load ${loadavg()[0]!.toFixed(2)})`);
  const pair = await sensitivitySeconds(2);
  two.push(pair.wall);
  balance.push(single.cpu[0]! / Math.max(...pair.cpu));
  console.log(`  round ${round + 1}: 2 workers ${pair.wall.toFixed(1)} s (coordinator setup ${pair.setup.toFixed(1)} s), worker cpu ${pair.cpu.map((c) => c.toFixed(1)).join(' + ')} s   (load ${loadavg()[0]!.toFixed(2)})`);
}
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return Number.isInteger(middle) ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[Math.floor(middle)]!;
};
rmSync(root, {recursive: true, force: true});
// Each round's pair ran back to back, so its ratio is the least disturbed by the machine's other load.
const ratios = one.map((t, i) => t / two[i]!);
console.log(`sensitivity step over ${rounds} rounds: 1 worker median ${median(one).toFixed(1)} s, 2 workers median ${median(two).toFixed(1)} s; speed-up per round ${ratios.map((r) => `${r.toFixed(2)}×`).join(' ')}, median ${median(ratios).toFixed(2)}× (goal ≥ 1.8×); cpu-bound speed-up (1 worker's cpu / busiest of 2) median ${median(balance).toFixed(2)}×; load after ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
