// The memo scope of an evaluation: memoised accuracies outlive runs and processes, so anything that can
// change an accuracy must be in it — the onnxruntime version and execution provider included, derived from
// the runtime rather than left to a hand-bumped constant.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {runtimeIdentity} from '../../onnx/session.js';
import {vitFixture} from '../../../test/support/vit-fixture.js';
import {openApproximationRuntime} from './approximation-runtime.js';

const work = mkdtempSync(join(tmpdir(), 'axx-runtime-scope-'));
afterAll(() => rmSync(work, {recursive: true, force: true}));

describe('evaluation memo scope', () => {
  it('names the onnxruntime version and execution provider', async () => {
    const fixture = await vitFixture(work, 64);
    const open = (runtime?: {onnxruntime: string; executionProvider: string}) =>
      openApproximationRuntime({
        modelFile: fixture.model,
        calibrationFile: fixture.calibration,
        datasetDir: fixture.dataset,
        multipliers: ['mul8s_1L2H'],
        ...(runtime === undefined ? {} : {runtime}),
      }).scope;
    const current = open();
    expect(open(runtimeIdentity())).toEqual(current);
    expect(open({...runtimeIdentity(), onnxruntime: '0.0.1'}).modelId).not.toBe(current.modelId);
    expect(open({...runtimeIdentity(), executionProvider: 'cuda'}).modelId).not.toBe(current.modelId);
    expect(runtimeIdentity()).toEqual({onnxruntime: expect.stringMatching(/^\d+\.\d+\.\d+/), executionProvider: 'cpu'});
  });
});
