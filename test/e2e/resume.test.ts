// A real `axx run` killed with SIGKILL during search, and during finetuning after a checkpoint was saved
// (five times, at different checkpoints), resumes and ends with a report byte-identical to an
// uninterrupted run's: checkpoints carry everything the outputs depend on, logged losses included.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {runCli} from '../../src/cli/main.js';
import {captureIo, exited, removeProjects, spawnAxx, tempProject} from './engine-helpers.js';

afterAll(removeProjects);

// 512 images in batches of 4: 128 steps, a loss metric every 3 steps (finetune logs ~50 per epoch) and a
// checkpoint every 5, so most checkpoints fall inside a loss window.
const pipeline = `
name: resume
params:
  layers: ['blocks.0.mlp.fc1', 'blocks.1.attn.qkv', 'blocks.2.mlp.fc2']
  multipliers: [mul8s_1L2H, mul8s_1KR3]
steps:
  model: {uses: load/model, with: {name: vit-mnist}}
  train-images: {uses: load/dataset, with: {source: mnist, split: train, limit: 512, seed: 0}}
  test-images: {uses: load/dataset, with: {source: mnist, split: test, limit: 100, seed: 0}}
  calibrate:
    uses: calibrate
    with: {model: '\${{ steps.model.outputs.model }}', dataset: '\${{ steps.train-images.outputs.dataset }}', batches: 2, batchSize: 32}
  search:
    uses: search
    with:
      model: \${{ steps.model.outputs.model }}
      calibration: \${{ steps.calibrate.outputs.calibration }}
      dataset: \${{ steps.test-images.outputs.dataset }}
      layers: \${{ params.layers }}
      multipliers: \${{ params.multipliers }}
      method: mcts
      budget: 12
      threshold: 5
  approximate:
    uses: approximate
    with: {model: '\${{ steps.model.outputs.model }}', calibration: '\${{ steps.calibrate.outputs.calibration }}', layers: '\${{ params.layers }}', assign: '\${{ steps.search.outputs.assignment }}'}
  finetune:
    uses: finetune
    with:
      model: \${{ steps.model.outputs.model }}
      calibration: \${{ steps.calibrate.outputs.calibration }}
      manifest: \${{ steps.approximate.outputs.manifest }}
      dataset: \${{ steps.train-images.outputs.dataset }}
      batchSize: 4
      checkpointEvery: 5
      lr: 0.001
  report:
    uses: report
    with: {title: resume, search: '\${{ steps.search.outputs.result }}', finetune: '\${{ steps.finetune.outputs.history }}', manifest: '\${{ steps.finetune.outputs.manifest }}'}
`;

async function run(dir: string, ...args: string[]): Promise<string> {
  const io = captureIo(dir);
  const code = await runCli(['run', 'p.yaml', ...args], io);
  const out = io.stdoutText() + io.stderrText();
  expect(code, out).toBe(0);
  return out;
}

/** Starts the real CLI and kills it with SIGKILL once its output has matched `marker` `times` times. */
async function killAt(dir: string, marker: RegExp, times: number, ...args: string[]): Promise<void> {
  const child = spawnAxx(['run', 'p.yaml', ...args], dir);
  const check = (): void => void ((child.output().match(new RegExp(marker, 'g'))?.length ?? 0) >= times && child.kill('SIGKILL'));
  child.stdout!.on('data', check);
  child.stderr!.on('data', check);
  await exited(child);
  expect(child.signalCode, `the run ended before ${marker} × ${times}:\n${child.output()}`).toBe('SIGKILL');
}

async function report(dir: string): Promise<Buffer> {
  const io = captureIo(dir);
  expect(await runCli(['export', 'report.html', 'report.html'], io), io.stderrText()).toBe(0);
  return readFileSync(join(dir, 'report.html'));
}

describe('killed and resumed', () => {
  it('during search, then during finetuning after a checkpoint (5 tries), ends with the uninterrupted report', async () => {
    const reference = tempProject({'p.yaml': pipeline});
    await run(reference);
    const expected = await report(reference);

    const killed = tempProject({'p.yaml': pipeline});
    await killAt(killed, /… search \d+\/12/, 1);
    expect(await run(killed)).toMatch(/✓ search ran/);
    expect((await report(killed)).equals(expected)).toBe(true);

    for (let attempt = 1; attempt <= 5; attempt++) {
      await killAt(killed, /finetune \| checkpoint saved/, attempt, '--force', 'finetune');
      const out = await run(killed, '--force', 'finetune');
      expect(out).toMatch(/finetune \| resuming at epoch 1, batch \d+/);
      expect((await report(killed)).equals(expected), `attempt ${attempt}:\n${out.split('\n').filter((l) => /resuming|report/.test(l)).join('\n')}`).toBe(true);
    }
  }, 600_000);
});
