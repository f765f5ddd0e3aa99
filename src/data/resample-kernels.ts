// The two passes of the Pillow-exact resize (resample.ts) as WebAssembly SIMD kernels, assembled here from
// their opcodes (no toolchain, no binary in the repository). Scalar JavaScript spent ~2 ms per ImageNet image
// here, as much as sharp's decode; four or eight int32 sums per instruction take a fraction of that. The
// arithmetic is Pillow's: int32 products of a byte and a 22-bit weight, summed from half a unit, shifted right
// by 22 and clipped to a byte (saturating narrows do the clipping). Both kernels read up to 7 bytes past the
// last byte they use and the vertical one writes up to 7 bytes past its row, so every region needs 16 bytes
// of slack after it (the caller's layout in resample.ts keeps it).

// Node has WebAssembly; its types come with TypeScript's DOM library, which this project does not load.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    constructor(descriptor: {initial: number});
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}

const I32 = 0x7f;
const V128 = 0x7b;

function unsigned(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function signed(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const vector = (items: number[][]): number[] => [...unsigned(items.length), ...items.flat()];
const name = (text: string): number[] => vector([...text].map((c) => [c.charCodeAt(0)]));
const section = (id: number, bytes: number[]): number[] => [id, ...unsigned(bytes.length), ...bytes];

// Instructions (https://webassembly.github.io/spec/core/binary/instructions.html).
const get = (local: number) => [0x20, ...unsigned(local)];
const set = (local: number) => [0x21, ...unsigned(local)];
const i32 = (value: number) => [0x41, ...signed(value)];
const add = [0x6a];
const mul = [0x6c];
const lessU = [0x49];
const load = [0x28, 2, 0];
const store8 = [0x3a, 0, 0];
/** A do-while loop: `body` runs, then again while `condition` leaves a non-zero i32. */
const doWhile = (body: number[], condition: number[]) => [0x03, 0x40, ...body, ...condition, 0x0d, 0, 0x0b];
const increment = (local: number, by: number[]) => [...get(local), ...by, ...add, ...set(local)];
const simd = (op: number, ...immediates: number[]) => [0xfd, ...unsigned(op), ...immediates];
const load32Zero = simd(0x5c, 0, 0);
const load8x8U = simd(0x02, 0, 0);
const store64Lane0 = simd(0x5b, 0, 0, 0);
const splat = simd(0x11);
const extractByte = (lane: number) => simd(0x16, lane);
const widenLowBytes = simd(0x89);
const widenLowHalves = simd(0xa9);
const widenHighHalves = simd(0xaa);
const addLanes = simd(0xae);
const mulLanes = simd(0xb5);
const shiftLanes = simd(0xac);
const narrowToHalves = simd(0x85);
const narrowToBytes = simd(0x66);

/** Pillow's fixed point: weights scaled by 2^PRECISION_BITS, sums started at half a unit. */
export const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);

/**
 * Two vectors of four fixed-point sums to eight clipped bytes (in the low half of `scratch`): >> precision,
 * then the saturating narrows (int32 → int16 → uint8) clip to [0, 255] as Pillow's clip8.
 */
const toBytes = (low: number[], high: number[], scratch: number) => [
  ...low, ...i32(PRECISION_BITS), ...shiftLanes, ...high, ...i32(PRECISION_BITS), ...shiftLanes, ...narrowToHalves, ...set(scratch),
  ...get(scratch), ...get(scratch), ...narrowToBytes, ...set(scratch),
];

/**
 * horizontal(src, srcStride, rowCount, n, first, weights, taps, lanes, dst, rowLength, planeSize): for each of
 * rowCount rows (srcStride bytes apart) and each output o < n, sums the `taps` pixels from input index
 * first[o] (`lanes` interleaved bytes each, 1 or 3) with weights[o·taps + t], all lanes at once, and writes
 * lane c to dst[c·planeSize + row·rowLength + o]. Three lanes are always written: dst holds three planes.
 */
function horizontal(): {params: number; locals: number[]; body: number[]} {
  const [src, srcStride, rowCount, n, first, weights, taps, lanes, dst, rowLength, planeSize] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [row, o, t, p, w, d, sum] = [11, 12, 13, 14, 15, 16, 17];
  const storeLane = (lane: number, planes: number) => [...get(d), ...get(planeSize), ...i32(planes), ...mul, ...add, ...get(sum), ...extractByte(lane), ...store8];
  const tap = [
    ...get(sum),
    ...get(p), ...load32Zero, ...widenLowBytes, ...widenLowHalves,
    ...get(w), ...load, ...splat,
    ...mulLanes, ...addLanes, ...set(sum),
    ...increment(p, get(lanes)), ...increment(w, i32(4)), ...increment(t, i32(1)),
  ];
  const output = [
    ...i32(HALF), ...splat, ...set(sum),
    ...get(src), ...get(row), ...get(srcStride), ...mul, ...add, ...get(first), ...get(o), ...i32(4), ...mul, ...add, ...load, ...get(lanes), ...mul, ...add, ...set(p),
    ...get(weights), ...get(o), ...get(taps), ...mul, ...i32(4), ...mul, ...add, ...set(w),
    ...i32(0), ...set(t),
    ...doWhile(tap, [...get(t), ...get(taps), ...lessU]),
    ...toBytes(get(sum), get(sum), sum),
    ...get(dst), ...get(row), ...get(rowLength), ...mul, ...add, ...get(o), ...add, ...set(d),
    ...storeLane(0, 0), ...storeLane(1, 1), ...storeLane(2, 2),
    ...increment(o, i32(1)),
  ];
  const rowPass = [...i32(0), ...set(o), ...doWhile(output, [...get(o), ...get(n), ...lessU]), ...increment(row, i32(1))];
  return {params: 11, locals: [6, I32, 1, V128], body: doWhile(rowPass, [...get(row), ...get(rowCount), ...lessU])};
}

/**
 * vertical(rows, rowLength, outRows, first, weights, taps, dst): for each output row y < outRows, sums the
 * `taps` rows starting at byte rows + first[y] (rowLength bytes apart) with weights[y·taps + t], eight
 * columns at a time, into dst[y·rowLength + x].
 */
function vertical(): {params: number; locals: number[]; body: number[]} {
  const [rows, rowLength, outRows, first, weights, taps, dst] = [0, 1, 2, 3, 4, 5, 6];
  const [y, x, t, p, w, rowAt, w0, low, high, pixels, weight] = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const tap = [
    ...get(p), ...load8x8U, ...set(pixels),
    ...get(w), ...load, ...splat, ...set(weight),
    ...get(low), ...get(pixels), ...widenLowHalves, ...get(weight), ...mulLanes, ...addLanes, ...set(low),
    ...get(high), ...get(pixels), ...widenHighHalves, ...get(weight), ...mulLanes, ...addLanes, ...set(high),
    ...increment(p, get(rowLength)), ...increment(w, i32(4)), ...increment(t, i32(1)),
  ];
  const columns = [
    ...i32(HALF), ...splat, ...set(low), ...i32(HALF), ...splat, ...set(high),
    ...get(rowAt), ...get(x), ...add, ...set(p), ...get(w0), ...set(w), ...i32(0), ...set(t),
    ...doWhile(tap, [...get(t), ...get(taps), ...lessU]),
    ...toBytes(get(low), get(high), pixels),
    ...get(dst), ...get(y), ...get(rowLength), ...mul, ...add, ...get(x), ...add, ...get(pixels), ...store64Lane0,
    ...increment(x, i32(8)),
  ];
  const outputRow = [
    ...get(rows), ...get(first), ...get(y), ...i32(4), ...mul, ...add, ...load, ...add, ...set(rowAt),
    ...get(weights), ...get(y), ...get(taps), ...mul, ...i32(4), ...mul, ...add, ...set(w0),
    ...i32(0), ...set(x),
    ...doWhile(columns, [...get(x), ...get(rowLength), ...lessU]),
    ...increment(y, i32(1)),
  ];
  return {params: 7, locals: [7, I32, 4, V128], body: doWhile(outputRow, [...get(y), ...get(outRows), ...lessU])};
}

export interface ResampleKernels {
  /** The kernels' memory, in 64 KiB pages: addresses are byte offsets into its buffer (replaced when it grows). */
  memory: {readonly buffer: ArrayBuffer; grow(pages: number): number};
  horizontal(src: number, srcStride: number, rowCount: number, n: number, first: number, weights: number, taps: number, lanes: number, dst: number, rowLength: number, planeSize: number): void;
  vertical(rows: number, rowLength: number, outRows: number, first: number, weights: number, taps: number, dst: number): void;
}

let compiled: WebAssembly.Module | undefined;

/** The kernels over a memory of their own (the module is compiled once). */
export function resampleKernels(): ResampleKernels {
  if (compiled === undefined) {
    const functions = [horizontal(), vertical()];
    const bytes = [
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      ...section(1, vector(functions.map((f) => [0x60, ...unsigned(f.params), ...Array<number>(f.params).fill(I32), 0]))),
      ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
      ...section(3, vector(functions.map((_, i) => unsigned(i)))),
      ...section(7, vector([[...name('horizontal'), 0x00, 0], [...name('vertical'), 0x00, 1]])),
      ...section(10, vector(functions.map((f) => {
        const code = [...unsigned(f.locals.length / 2), ...f.locals.flatMap((v, i) => (i % 2 === 0 ? unsigned(v) : [v])), ...f.body, 0x0b];
        return [...unsigned(code.length), ...code];
      }))),
    ];
    compiled = new WebAssembly.Module(Uint8Array.from(bytes));
  }
  const memory = new WebAssembly.Memory({initial: 1});
  const {exports} = new WebAssembly.Instance(compiled, {env: {memory}});
  return {memory, horizontal: exports['horizontal'] as ResampleKernels['horizontal'], vertical: exports['vertical'] as ResampleKernels['vertical']};
}
