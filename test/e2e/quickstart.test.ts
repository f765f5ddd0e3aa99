// The README's first command, shrunk with -p: pipelines/quickstart.yaml runs end to end; a real `axx run`
// killed with SIGKILL in the middle of a step (twice, at different steps) and re-run finishes with a
// report byte-identical to an uninterrupted run's; a further run is all cached and takes seconds.
import {mkdtempSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {runCli} from '../../src/cli/main.js';
import {removeTree} from '../../src/engine/store/cas.js';
import {captureIo, exited, spawnAxx} from './engine-helpers.js';

const root = join(import.meta.dirname, '..', '..');
const PIPELINE = join('pipelines', 'quickstart.yaml');
const STEP_COUNT = 16;
const SMALL = Object.entries({
  calibrationSamples: '64',
  finetuneSamples: '1024',
  evalSamples: '600',
  searchSamples: '300',
  holdoutSamples: '300',
  budget: '16',
  layers: '[blocks.0.mlp.fc1, blocks.1.attn.qkv, blocks.2.mlp.fc2, blocks.3.attn.proj]',
  multipliers: '[mul8s_1L2H, mul8s_1L1G, mul8s_1KR3]',
}).flatMap(([name, value]) => ['-p', `${name}=${value}`]);

const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await removeTree(dir);
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'axx-quickstart-'));
  scratch.push(dir);
  return dir;
}

interface RunOutcome {
  code: number;
  out: string;
  ran: number;
  cached: number;
}

async function run(cache: string): Promise<RunOutcome> {
  const io = captureIo(root);
  const code = await runCli(['run', PIPELINE, '--cache', cache, ...SMALL], io);
  const out = io.stdoutText() + io.stderrText();
  const counts = /passed in [^:]+: (\d+) ran, (\d+) cached/.exec(out);
  return {code, out, ran: Number(counts?.[1] ?? -1), cached: Number(counts?.[2] ?? -1)};
}

/** Starts the real CLI and kills it with SIGKILL the moment its output shows `marker` (a step starting). */
async function killAt(cache: string, marker: string): Promise<string> {
  const child = spawnAxx(['run', PIPELINE, '--cache', cache, ...SMALL], root);
  const check = (): void => void (child.output().includes(marker) && child.kill('SIGKILL'));
  child.stdout!.on('data', check);
  child.stderr!.on('data', check);
  await exited(child);
  expect(child.signalCode, `the run ended before "${marker}":\n${child.output()}`).toBe('SIGKILL');
  return child.output();
}

async function exportBytes(cache: string, artifact: string): Promise<Buffer> {
  const target = join(tempDir(), 'exported');
  const io = captureIo(root);
  expect(await runCli(['export', artifact, target, '--cache', cache], io), io.stderrText()).toBe(0);
  return readFileSync(target);
}

describe('quickstart pipeline', () => {
  it('runs end to end; killed -9 mid-step twice and re-run, it ends with the same report; then all cached', async () => {
    const reference = tempDir();
    const clean = await run(reference);
    expect(clean.code, clean.out).toBe(0);
    expect(clean).toMatchObject({ran: STEP_COUNT, cached: 0});
    expect(clean.out).toMatch(/search \| best: [\d.]+% power saved/);

    const killed = tempDir();
    await killAt(killed, '▶ search');
    await killAt(killed, '▶ finetune');
    const resumed = await run(killed);
    expect(resumed.code, resumed.out).toBe(0);
    // Steps finished before the kills come from the cache; the one killed second (finetune) runs again.
    expect(resumed.out).toMatch(/= sensitivity cached/);
    expect(resumed.out).toMatch(/= search cached/);
    expect(resumed.out).toMatch(/✓ finetune ran/);
    expect(resumed.cached).toBeGreaterThan(0);
    expect(resumed.ran + resumed.cached).toBe(STEP_COUNT);

    const [html, resumedHtml] = await Promise.all([exportBytes(reference, 'report.html'), exportBytes(killed, 'report.html')]);
    expect(resumedHtml.equals(html)).toBe(true);
    expect(html.toString()).toContain('Quickstart');
    // Intervals, paired tests, whole-model power and provenance (README "Quickstart").
    for (const text of ['95% interval', 'Paired comparisons', 'int8 → approximate', 'power saving, whole model', 'Provenance', 'sha256 ']) expect(html.toString()).toContain(text);
    const typo = captureIo(root);
    expect(await runCli(['export', 'report.htm', join(tempDir(), 'r.html'), '--cache', killed], typo)).toBe(2);
    expect(typo.stderrText()).toMatch(/step "report" in run \S+ \(quickstart, passed\) has no output "htm"; its outputs: html, markdown, figures/);

    const again = await run(killed);
    expect(again.code, again.out).toBe(0);
    expect(again).toMatchObject({ran: 0, cached: STEP_COUNT});
    expect(again.out).toMatch(/\nresults: top-1 eval-float \d+\.\d+% \(\d+\.\d–\d+\.\d, n=600\);.*; power saving \d+\.\d% whole model \(\d+\.\d% approximated layers\)\n/);
    expect(again.out).toMatch(/\nreport: axx export report\.html out\/report\.html --run \S+ --provenance --cache \S+\n/);
  }, 150_000);
});
