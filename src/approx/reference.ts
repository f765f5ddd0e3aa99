// The reference emulator: every product a direct table lookup L[a & 0xff][b & 0xff], accumulated
// in int32, as TransAxx/AdaPT emulate approximate layers. Slow by design; it is the ground truth the
// rewritten graphs are checked against, bit for bit.

/** acc[b][m][n] = Σ_k L[a[b][m][k]][w[b][k][n]]; `batch` leading matrices (weights shared when bBatch = 1). */
export function referenceMatMul(
  table: Int32Array,
  a: Int8Array,
  b: Int8Array,
  dims: {batch: number; m: number; k: number; n: number; sharedB?: boolean},
): Int32Array {
  const {batch, m, k, n} = dims;
  const out = new Int32Array(batch * m * n);
  const row = new Int32Array(n);
  for (let t = 0; t < batch; t++) {
    const bBase = dims.sharedB ? 0 : t * k * n;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let kk = 0; kk < k; kk++) {
        const lookup = (a[(t * m + i) * k + kk]! & 0xff) << 8;
        const bRow = bBase + kk * n;
        for (let j = 0; j < n; j++) row[j]! += table[lookup | (b[bRow + j]! & 0xff)]!;
      }
      out.set(row, (t * m + i) * n);
    }
  }
  return out;
}

export interface ConvShape {
  /** Input [N, C, H, W]. */
  input: [number, number, number, number];
  /** Weight [O, C/group, KH, KW]. */
  weight: [number, number, number, number];
  pads: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  group: number;
}

export function convOutputSize(s: ConvShape): [number, number] {
  const [, , h, w] = s.input;
  const [, , kh, kw] = s.weight;
  return [
    Math.floor((h + s.pads[0] + s.pads[2] - s.dilations[0] * (kh - 1) - 1) / s.strides[0]) + 1,
    Math.floor((w + s.pads[1] + s.pads[3] - s.dilations[1] * (kw - 1) - 1) / s.strides[1]) + 1,
  ];
}

/**
 * 2-D Conv accumulators with the weight as the table's row operand (TransAxx's Conv2d):
 * acc = Σ L[w][x]; padded positions hold the quantised value 0 and still contribute L[w][0].
 */
export function referenceConv(table: Int32Array, x: Int8Array, w: Int8Array, s: ConvShape): Int32Array {
  const [n, c, h, wd] = s.input;
  const [o, cg, kh, kw] = s.weight;
  const [oh, ow] = convOutputSize(s);
  const perGroup = o / s.group;
  const out = new Int32Array(n * o * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const g = Math.floor(oc / perGroup);
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          let acc = 0;
          for (let ci = 0; ci < cg; ci++) {
            const channel = g * cg + ci;
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * s.strides[0] - s.pads[0] + ky * s.dilations[0];
              for (let kx = 0; kx < kw; kx++) {
                const ix = xx * s.strides[1] - s.pads[1] + kx * s.dilations[1];
                const inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
                const xv = inside ? x[((b * c + channel) * h + iy) * wd + ix]! : 0;
                const wv = w[((oc * cg + ci) * kh + ky) * kw + kx]!;
                acc += table[((wv & 0xff) << 8) | (xv & 0xff)]!;
              }
            }
          }
          out[((b * o + oc) * oh + y) * ow + xx] = acc;
        }
      }
    }
  }
  return out;
}
