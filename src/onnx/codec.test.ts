import {mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as ort from 'onnxruntime-node';
import {afterAll, describe, expect, it} from 'vitest';
import {decodeModel, encodeModel, encodeModelSplit, modelFileOf, OnnxDecodeError, OnnxEncodeError, readModelFile, readModelMetadata, SINGLE_FILE_LIMIT, writeModelFile, writeModelOutput} from './codec.js';
import {DataType, type Graph, type Model, type Node, type Tensor} from './ir.js';
import {MAX_MESSAGE_BYTES, ProtoWriter, WireType} from './protobuf.js';
import {createSession} from './session.js';
import {floatTensor, int64Tensor, int8Tensor, stringTensor, uint8Tensor} from './tensor.js';
import {modelOf} from '../../test/support/onnx-model.js';

function node(opType: string, inputs: string[], outputs: string[], extra: Partial<Node> = {}): Node {
  return {name: `${opType}_${outputs[0]}`, opType, domain: '', inputs, outputs, attributes: [], ...extra};
}

const withoutExternalLocation = (m: Model): Model => ({
  ...m,
  graph: {...m.graph, initializers: m.graph.initializers.map(({externalLocation: _, ...t}) => t as Tensor)},
});

/** A test model, with a metadata entry to round-trip. */
function model(graph: Graph, opset = 17): Model {
  return {...modelOf(graph, opset), metadataProps: [{key: 'purpose', value: 'round trip'}]};
}

/** x[2,4] @ W[4,3] + b, ReLU, Reshape to [3,2] with an int64 shape initializer, plus a Constant node. */
function smallModel(): Model {
  const w = floatTensor('W', [4, 3], Array.from({length: 12}, (_, i) => (i - 5.5) / 3));
  const b = floatTensor('b', [3], [0.25, -0.5, 1e-7]);
  const shape = int64Tensor('shape', [2], [3, -1]);
  return model({
    name: 'small',
    nodes: [
      node('MatMul', ['x', 'W'], ['mm']),
      node('Constant', [], ['scale'], {attributes: [{name: 'value', type: 'tensor', value: floatTensor('', [], [2])}]}),
      node('Add', ['mm', 'b'], ['biased']),
      node('Mul', ['biased', 'scale'], ['scaled']),
      node('Relu', ['scaled'], ['act'], {docString: 'rectifier'}),
      node('Reshape', ['act', 'shape'], ['y']),
      node('Flatten', ['x'], ['flat'], {attributes: [{name: 'axis', type: 'int', value: -1}]}),
    ],
    initializers: [w, b, shape],
    inputs: [{name: 'x', elemType: DataType.FLOAT, shape: ['batch', 4]}],
    outputs: [
      {name: 'y', elemType: DataType.FLOAT, shape: [3, null]},
      {name: 'flat', elemType: DataType.FLOAT},
    ],
    valueInfo: [{name: 'mm', elemType: DataType.FLOAT, shape: ['batch', 3], docString: 'product'}],
  });
}

describe('encodeModel / decodeModel', () => {
  it('round-trips an IR model, runs in onnxruntime, and re-encodes to identical bytes', async () => {
    const original = smallModel();
    const bytes = encodeModel(original);
    const decoded = decodeModel(bytes);
    expect(decoded).toEqual(original);
    expect(encodeModel(decoded)).toEqual(bytes);

    using session = await createSession(bytes, {graphOptimizationLevel: 'disabled'});
    const x = new Float32Array([1, 2, 3, 4, -1, -2, -3, -4]);
    const out = await session.run({x: new ort.Tensor('float32', x, [2, 4])});
    const y = out.y!;
    expect(y.dims).toEqual([3, 2]);
    const w = original.graph.initializers[0]!.data as Float32Array;
    const expected = new Float32Array(6);
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let k = 0; k < 4; k++) acc = Math.fround(acc + Math.fround(x[r * 4 + k]! * w[k * 3 + c]!));
        const biased = Math.fround(acc + [0.25, -0.5, 1e-7][c]!);
        expected[r * 3 + c] = Math.max(0, Math.fround(biased * 2));
      }
    }
    expect(Array.from(y.data as Float32Array)).toEqual(Array.from(expected).map((v) => expect.closeTo(v, 5)));
  });

  it('round-trips every attribute type and tensor type the IR holds', () => {
    const sub: Graph = {name: 'body', nodes: [node('Identity', ['a'], ['b'])], initializers: [], inputs: [], outputs: [], valueInfo: []};
    const tensors: Tensor[] = [
      int8Tensor('i8', [3], [-128, 0, 127]),
      uint8Tensor('u8', [2], [0, 255]),
      stringTensor('s', [2], ['héllo', '']),
      {name: 'f16', dataType: DataType.FLOAT16, dims: [2], data: new Uint16Array([0x3c00, 0xc000])},
      {name: 'bool', dataType: DataType.BOOL, dims: [1], data: new Uint8Array([1])},
      {name: 'i32', dataType: DataType.INT32, dims: [2], data: new Int32Array([-2147483648, 2147483647])},
      {name: 'u64', dataType: DataType.UINT64, dims: [1], data: new BigUint64Array([18446744073709551615n])},
      {name: 'f64', dataType: DataType.DOUBLE, dims: [1, 1], data: new Float64Array([Math.PI]), docString: 'pi'},
      int64Tensor('empty', [0, 3], []),
    ];
    const m = model({
      name: 'attrs',
      nodes: [
        node('Custom', ['x'], ['y'], {
          domain: 'axx.test',
          attributes: [
            {name: 'f', type: 'float', value: 0.1},
            {name: 'i', type: 'int', value: -9007199254740991},
            {name: 's', type: 'string', value: 'ünïcode'},
            {name: 't', type: 'tensor', value: tensors[0]!},
            {name: 'g', type: 'graph', value: sub},
            {name: 'fs', type: 'floats', value: [1.5, -0]},
            {name: 'is', type: 'ints', value: [1, -1, 2 ** 40]},
            {name: 'ss', type: 'strings', value: ['a', 'b']},
            {name: 'ts', type: 'tensors', value: tensors},
            {name: 'gs', type: 'graphs', value: [sub, sub]},
          ],
        }),
      ],
      initializers: tensors,
      inputs: [{name: 'x', elemType: DataType.FLOAT, shape: []}],
      outputs: [{name: 'y', elemType: 0}],
      valueInfo: [],
      docString: 'graph doc',
    });
    const bytes = encodeModel(m);
    const decoded = decodeModel(bytes);
    const f = decoded.graph.nodes[0]!.attributes[0]!;
    expect(f.value).toBe(Math.fround(0.1));
    (m.graph.nodes[0]!.attributes[0] as {value: number}).value = Math.fround(0.1);
    expect(decoded).toEqual(m);
    expect(encodeModel(decoded)).toEqual(bytes);
  });

  it('reads the typed data fields, packed and unpacked, as other writers emit them', () => {
    const tensor = (build: (w: ProtoWriter) => void) => {
      const w = new ProtoWriter();
      build(w);
      return w;
    };
    const packed = (field: number, write: (w: ProtoWriter) => void) => {
      const body = new ProtoWriter();
      write(body);
      return (w: ProtoWriter) => w.bytesField(field, body.finish());
    };
    const floats = tensor((w) => {
      w.int64Field(1, 3).tag(2, WireType.VARINT).uint32(DataType.FLOAT).stringField(8, 'floats');
      packed(4, (b) => b.float(1.5).float(-2))(w);
      w.floatField(4, 3.25); // a further unpacked element
    });
    const int64s = tensor((w) => {
      w.int64Field(1, 2).tag(2, WireType.VARINT).uint32(DataType.INT64).stringField(8, 'int64s');
      packed(7, (b) => b.int64(-1).int64(2 ** 50))(w);
    });
    const int8s = tensor((w) => {
      w.int64Field(1, 3).tag(2, WireType.VARINT).uint32(DataType.INT8).stringField(8, 'int8s');
      w.int64Field(5, -7).int64Field(5, 127).int64Field(5, -128);
    });
    const doubles = tensor((w) => {
      w.tag(2, WireType.VARINT).uint32(DataType.DOUBLE).stringField(8, 'double');
      packed(10, (b) => b.double(Math.E))(w);
    });
    const uint32s = tensor((w) => {
      w.int64Field(1, 1).tag(2, WireType.VARINT).uint32(DataType.UINT32).stringField(8, 'u32');
      w.int64Field(11, 4294967295);
    });
    const graph = new ProtoWriter();
    for (const t of [floats, int64s, int8s, doubles, uint32s]) graph.messageField(5, t);
    const bytes = new ProtoWriter().int64Field(1, 7).messageField(7, graph).finish();
    const decoded = decodeModel(bytes);
    const data = decoded.graph.initializers.map((t) => Array.from(t.data as ArrayLike<number | bigint>));
    expect(data).toEqual([[1.5, -2, 3.25], [-1n, 2n ** 50n], [-7, 127, -128], [Math.E], [4294967295]]);
  });

  describe('external data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'axx-codec-'));
    afterAll(() => rmSync(dir, {recursive: true, force: true}));

    const externalModel = (location: string, offset: number, length: number) => {
      const entry = (key: string, value: string) => new ProtoWriter().stringField(1, key).stringField(2, value);
      const t = new ProtoWriter().int64Field(1, 2).tag(2, WireType.VARINT).uint32(DataType.FLOAT).stringField(8, 'ext');
      t.messageField(13, entry('location', location)).messageField(13, entry('offset', String(offset)));
      t.messageField(13, entry('length', String(length))).int64Field(14, 1);
      return new ProtoWriter().int64Field(1, 8).messageField(7, new ProtoWriter().messageField(5, t)).finish();
    };

    it('reads tensors from a file relative to baseDir', () => {
      const payload = new Float32Array([0, 0, 7.5, -1]);
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(payload.buffer));
      const decoded = decodeModel(externalModel('weights.bin', 8, 8), {baseDir: dir});
      const t = decoded.graph.initializers[0]!;
      expect(Array.from(t.data as Float32Array)).toEqual([7.5, -1]);
      expect(t.externalLocation).toBe('weights.bin');
    });

    it('explains what is missing', () => {
      expect(() => decodeModel(externalModel('weights.bin', 0, 8))).toThrow(/baseDir/);
      expect(() => decodeModel(externalModel('nope.bin', 0, 8), {baseDir: dir})).toThrow(/cannot open external data file .*nope\.bin/);
      expect(() => decodeModel(externalModel('weights.bin', 0, 12), {baseDir: dir})).toThrow(/holds 12 bytes, the tensor needs 8/);
    });

    /** x[1,256] @ W[256,256] + b: W (256 KiB) goes external, b (1 KiB) too, the shape stays inline. */
    const denseModel = (): Model => {
      const w = floatTensor('W', [256, 256], Array.from({length: 256 * 256}, (_, i) => Math.sin(i) / 16));
      const b = floatTensor('b', [256], Array.from({length: 256}, (_, i) => i / 256));
      const shape = int64Tensor('shape', [2], [1, -1]);
      return model({
        name: 'dense',
        nodes: [node('MatMul', ['x', 'W'], ['mm']), node('Add', ['mm', 'b'], ['sum']), node('Reshape', ['sum', 'shape'], ['y'])],
        initializers: [w, b, shape],
        inputs: [{name: 'x', elemType: DataType.FLOAT, shape: [1, 256]}],
        outputs: [{name: 'y', elemType: DataType.FLOAT}],
        valueInfo: [],
      });
    };
    const input = () => ({x: new ort.Tensor('float32', Float32Array.from({length: 256}, (_, i) => Math.cos(i)), [1, 256])});

    it('writes large initializers to <file>.data at aligned offsets, reads them back, and onnxruntime loads the pair', async () => {
      const original = denseModel();
      const path = join(dir, 'dense.onnx');
      expect(writeModelFile(path, original, {externalData: true, singleFileLimit: 0})).toEqual([path, `${path}.data`]);
      expect(statSync(path).size).toBeLessThan(2048);
      expect(statSync(`${path}.data`).size).toBe(4096 * 64 + 1024);
      const decoded = readModelFile(path);
      expect(decoded.graph.initializers.map((t) => t.externalLocation)).toEqual(['dense.onnx.data', 'dense.onnx.data', undefined]);
      expect(withoutExternalLocation(decoded)).toEqual(original);

      using inline = await createSession(original);
      using fromFiles = await createSession(path);
      const expected = (await inline.run(input())).y!.data;
      expect((await fromFiles.run(input())).y!.data).toEqual(expected);
    });

    it('passes a model to onnxruntime with in-memory external data when it is too large for one buffer', async () => {
      const original = denseModel();
      using inline = await createSession(original);
      using split = await createSession(original, {inlineLimit: 0});
      expect((await split.run(input())).y!.data).toEqual((await inline.run(input())).y!.data);
    });

    it('reads a model file\'s metadata entries field by field, as decodeModel reads them, and refuses a cut file', () => {
      const original = {...smallModel(), metadataProps: [{key: 'axx.input', value: '{"range":[0,1]}'}, {key: 'purpose', value: 'x'.repeat(300)}]};
      const path = join(dir, 'metadata.onnx');
      writeFileSync(path, encodeModel(original));
      expect(readModelMetadata(path)).toEqual(new Map(original.metadataProps.map((p) => [p.key, p.value])));
      const none = join(dir, 'no-metadata.onnx');
      writeFileSync(none, encodeModel({...original, metadataProps: []}));
      expect(readModelMetadata(none)).toEqual(new Map());
      const cut = join(dir, 'cut.onnx');
      writeFileSync(cut, encodeModel(original).subarray(0, encodeModel(original).length - 20));
      expect(() => readModelMetadata(cut)).toThrow();
    });

    it('writes a step output as one file up to the single-file limit and as a model directory past it', async () => {
      const original = denseModel();
      const size = encodeModel(original).length;
      const out = join(dir, 'outputs');
      mkdirSync(out);
      expect(writeModelOutput(out, original, 'small', size)).toEqual({file: join(out, 'small.onnx')});
      expect(statSync(join(out, 'small.onnx')).size).toBe(size);
      const big = writeModelOutput(out, original, 'big', size - 1);
      expect(big).toEqual({dir: join(out, 'big')});
      expect(readdirSync(join(out, 'big')).sort()).toEqual(['model.onnx', 'model.onnx.data']);
      expect(modelFileOf(join(out, 'big'))).toBe(join(out, 'big', 'model.onnx'));
      expect(modelFileOf(join(out, 'small.onnx'))).toBe(join(out, 'small.onnx'));
      expect(withoutExternalLocation(readModelFile(join(out, 'big')))).toEqual(original);
      using fromDir = await createSession(modelFileOf(join(out, 'big')));
      using inline = await createSession(original);
      expect((await fromDir.run(input())).y!.data).toEqual((await inline.run(input())).y!.data);
      // Whatever protobuf refuses, writeModelOutput's default puts in a directory.
      expect(SINGLE_FILE_LIMIT).toBeLessThan(MAX_MESSAGE_BYTES);
    });

    it("refuses a model past protobuf's 2 GiB limit with a hint, and splits it instead", () => {
      // Nine initializers over one 256 MiB buffer: encoding references tensor bytes, so nothing is copied.
      const shared = new Float32Array(64 * 2 ** 20);
      const huge = model({
        name: 'huge',
        nodes: [],
        initializers: Array.from({length: 9}, (_, i) => ({name: `w${i}`, dataType: DataType.FLOAT, dims: [shared.length], data: shared})),
        inputs: [],
        outputs: [],
        valueInfo: [],
      });
      let refused: unknown;
      try {
        encodeModel(huge);
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(OnnxEncodeError);
      expect((refused as OnnxEncodeError).message).toMatch(/2\.3 GiB as one ONNX file, past protobuf's 2147483647-byte \(2 GiB\) limit/);
      expect((refused as OnnxEncodeError).hint).toMatch(/external data/);
      const split = encodeModelSplit(huge, 'huge.onnx.data');
      expect(split.model.length).toBeLessThan(4096);
      expect(split.externalData.map((f) => f.location)).toEqual(['huge.onnx.data', 'huge.onnx.data.1', 'huge.onnx.data.2']);
      expect(split.externalData.reduce((sum, f) => sum + f.byteLength, 0)).toBe(9 * shared.byteLength);
    });
  });

  it('rejects tensors whose data does not fit their dims, before allocating', () => {
    const modelWith = (build: (t: ProtoWriter) => void) => {
      const t = new ProtoWriter().int64Field(1, 1_000_000).int64Field(1, 1_000_000).tag(2, WireType.VARINT).uint32(DataType.FLOAT).stringField(8, 'huge');
      build(t);
      return new ProtoWriter().int64Field(1, 8).messageField(7, new ProtoWriter().messageField(5, t)).finish();
    };
    expect(() => decodeModel(modelWith((t) => t.bytesField(9, new Uint8Array(8))))).toThrow(
      /tensor "huge": raw_data holds 8 bytes, dims \[1000000, 1000000\] need 4000000000000/,
    );
    expect(() => decodeModel(modelWith((t) => t.floatField(4, 1).floatField(4, 2)))).toThrow(/need 1000000000000 elements, the data holds 2/);
  });

  it('rejects bytes that are not an ONNX model', () => {
    expect(() => decodeModel(new TextEncoder().encode('hello, not a model'))).toThrow(OnnxDecodeError);
    expect(() => decodeModel(new Uint8Array(0))).toThrow(/no graph/);
    const truncated = encodeModel(smallModel()).subarray(0, 100);
    expect(() => decodeModel(truncated)).toThrow(/not a valid ONNX model: truncated/);
  });
});
