import {copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import {afterAll, describe, expect, it} from 'vitest';
import {StepError} from '../engine/step-kind.js';
import {decodeModel, encodeModel, readModelFile} from '../onnx/codec.js';
import {MAX_MESSAGE_BYTES} from '../onnx/protobuf.js';
import {loadModelKind, makeLoadModelKind, type LoadModelParams, type ModelInfo} from './load-model.js';
import {stepContext, keyContext} from '../../test/support/step-context.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/onnx/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'axx-load-model-'));
afterAll(() => rmSync(work, {recursive: true, force: true}));

function context(params: LoadModelParams) {
  return stepContext(params, {scratchRoot: work});
}

async function failure(params: LoadModelParams): Promise<StepError> {
  const error = await loadModelKind.run(context(params)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StepError);
  return error as StepError;
}

describe('load/model', () => {
  it('loads an ONNX path and describes it', async () => {
    const ctx = context({path: join(fixtures, 'tiny-vit-opset17.onnx')});
    const out = await loadModelKind.run(ctx);
    const file = (out.model as {file: string}).file;
    expect(readFileSync(file)).toEqual(readFileSync(join(fixtures, 'tiny-vit-opset17.onnx')));
    const info = (out.info as {value: ModelInfo}).value;
    expect(info.inputs).toEqual([{name: 'input', type: 'FLOAT', shape: ['batch', 1, 16, 16]}]);
    expect(info.outputs).toEqual([{name: 'logits', type: 'FLOAT', shape: ['batch', 10]}]);
    expect(info.opsets).toEqual([{domain: '', version: 17}]);
    expect(info.macs.total).toBe(4096 + 2 * 44064 + 160);
    expect(info.macs.perLayer['/patch/Conv']).toBe(4096);
    expect(Object.values(info.macs.perLayer)).toHaveLength(14);
    expect(info.parameters).toBeGreaterThan(5000);
    expect(ctx.logs[0]).toMatch(/tiny-vit-opset17\.onnx: \d+ parameters, 92384 MACs per sample/);
  });

  it('turns a model with external data into one self-contained file', async () => {
    const out = await loadModelKind.run(context({path: join(fixtures, 'tiny-cnn-external.onnx')}));
    const loaded = decodeModel(readFileSync((out.model as {file: string}).file));
    expect(loaded.graph.initializers).toEqual(readModelFile(join(fixtures, 'tiny-cnn.onnx')).graph.initializers);
  });

  it('passes a model past the single-file limit on as a model directory, which load/model reads back', async () => {
    const out = await makeLoadModelKind({singleFileLimit: 0}).run(context({path: join(fixtures, 'tiny-cnn-external.onnx')}));
    const dir = (out.model as {dir: string}).dir;
    expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'model.onnx.data']);
    const expected = readModelFile(join(fixtures, 'tiny-cnn.onnx')).graph.initializers;
    expect(readModelFile(dir).graph.initializers.map(({externalLocation: _, ...t}) => t)).toEqual(expected);

    const again = await loadModelKind.run(context({path: dir}));
    expect(decodeModel(readFileSync((again.model as {file: string}).file)).graph.initializers).toEqual(expected);
    expect((again.info as {value: ModelInfo}).value.source).toBe(dir);
  });

  it('refuses a single ONNX file past 2 GiB before reading it, naming the fix', async () => {
    // A sparse file: its size passes the limit without a byte of it on disk.
    const huge = join(work, 'huge.onnx');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_MESSAGE_BYTES + 1);
    expect(statSync(huge).size).toBe(2 ** 31);
    const refused = await failure({path: huge});
    expect(refused.message).toMatch(/huge\.onnx is 2\.0 GiB as one ONNX file, past protobuf's 2147483647-byte \(2 GiB\) limit/);
    expect(refused.hint).toMatch(/external data/);
    expect(refused.param).toBe('with.path');
    rmSync(huge);
  });

  it('loads the shipped default model', async () => {
    const out = await loadModelKind.run(context({}));
    const info = (out.info as {value: ModelInfo}).value;
    expect(info.source).toBe('vit-mnist (shipped)');
    expect(info.outputs).toHaveLength(1);
  });

  it('keys the cache by content, not by path', async () => {
    const a = join(work, 'a.onnx');
    const b = join(work, 'b.onnx');
    copyFileSync(join(fixtures, 'tiny-cnn.onnx'), a);
    copyFileSync(join(fixtures, 'tiny-cnn.onnx'), b);
    const keyA = await loadModelKind.keyExtras!({path: a}, keyContext);
    expect(await loadModelKind.keyExtras!({path: b}, keyContext)).toEqual(keyA);
    writeFileSync(b, encodeModel({...readModelFile(b), producerName: 'changed'}));
    expect(await loadModelKind.keyExtras!({path: b}, keyContext)).not.toEqual(keyA);

    // External data is content too.
    for (const f of ['tiny-cnn-external.onnx', 'tiny-cnn-external.data']) {
      copyFileSync(join(fixtures, f), join(work, f));
    }
    const before = await loadModelKind.keyExtras!({path: join(work, 'tiny-cnn-external.onnx')}, keyContext);
    const data = readFileSync(join(work, 'tiny-cnn-external.data'));
    data[0] = data[0]! ^ 1;
    writeFileSync(join(work, 'tiny-cnn-external.data'), data);
    expect(await loadModelKind.keyExtras!({path: join(work, 'tiny-cnn-external.onnx')}, keyContext)).not.toEqual(before);
  });

  it('explains a missing file, a non-ONNX file, an ORT rejection and an unknown shipped name', async () => {
    const missing = await failure({path: join(work, 'nope.onnx')});
    expect(missing.message).toMatch(/model file not found: .*nope\.onnx/);
    expect(missing.param).toBe('with.path');

    const text = join(work, 'notes.onnx');
    writeFileSync(text, 'these are not the weights you are looking for');
    expect((await failure({path: text})).message).toMatch(/notes\.onnx is not a usable ONNX model: /);

    const bad = readModelFile(join(fixtures, 'tiny-cnn.onnx'));
    bad.graph.nodes[0]!.opType = 'NoSuchOp';
    const badPath = join(work, 'bad.onnx');
    writeFileSync(badPath, encodeModel(bad));
    const rejected = await failure({path: badPath});
    expect(rejected.message).toMatch(/onnxruntime cannot load .*bad\.onnx: .*NoSuchOp/);

    const unknown = await failure({name: 'resnet-9000'});
    expect(unknown.message).toMatch(/no shipped model named "resnet-9000"/);
    expect(unknown.hint).toMatch(/shipped models: .*vit-mnist/);
  });

  it('accepts path or name but not both in its schema', () => {
    const validate = new Ajv2020.default({strict: false}).compile(loadModelKind.schema);
    expect(validate({path: 'm.onnx'})).toBe(true);
    expect(validate({name: 'vit-mnist'})).toBe(true);
    expect(validate({})).toBe(true);
    expect(validate({path: 'm.onnx', name: 'vit-mnist'})).toBe(false);
    expect(validate({name: '../escape'})).toBe(false);
    expect(validate({model: 'm.onnx'})).toBe(false);
  });
});
