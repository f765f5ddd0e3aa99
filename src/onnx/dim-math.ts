// Dim arithmetic for shape inference: broadcasting, axis normalisation, products of possibly
// symbolic dims, and the output-shape rules of individual ops.
import type {Dim} from './ir.js';

export function sliceBounds(start: number, end: number, step: number, dim: number): [number, number] {
  const clampTo = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const norm = (v: number) => (v < 0 ? v + dim : v);
  return step > 0 ? [clampTo(norm(start), 0, dim), clampTo(norm(end), 0, dim)] : [clampTo(norm(start), 0, dim - 1), clampTo(norm(end), -1, dim - 1)];
}

export function broadcast(shapes: Dim[][]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const at = s.length - rank + i;
      const d = at < 0 ? 1 : s[at]!;
      if (d === 1) continue;
      if (dim === 1) dim = d;
      else if (typeof dim === 'number' && typeof d === 'number' && dim !== d) {
        throw new Error(`cannot broadcast shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')}`);
      } else if (dim !== d) dim = typeof dim === 'number' ? dim : typeof d === 'number' ? d : null;
    }
    out.push(dim);
  }
  return out;
}

export function matmulShape(a: Dim[] | undefined, b: Dim[] | undefined): Dim[] | undefined {
  if (!a || !b) return undefined;
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)]);
  const out = [...batch, a2[a2.length - 2]!, b2[b2.length - 1]!];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.pop();
  return out;
}

export function reshapeShape(x: Dim[] | undefined, target: Dim[] | undefined, allowZero: number): Dim[] | undefined {
  if (!target) return undefined;
  const out = target.map((d, i) => (d === 0 && !allowZero ? (x?.[i] ?? null) : d));
  const inferred = out.indexOf(-1);
  if (inferred >= 0) out[inferred] = x ? quotient(x, out.filter((_, i) => i !== inferred)) : null;
  return out;
}

/** product(numerator) / product(denominator), cancelling symbolic dims present in both. */
function quotient(numerator: Dim[], denominator: Dim[]): Dim {
  const symbols = numerator.filter((d): d is string => typeof d === 'string');
  let ratio = 1;
  for (const d of numerator) if (typeof d === 'number') ratio *= d;
  for (const d of denominator) {
    if (typeof d === 'number') ratio /= d;
    else if (d === null || !symbols.includes(d)) return null;
    else symbols.splice(symbols.indexOf(d), 1);
  }
  if (numerator.includes(null)) return null;
  if (symbols.length === 0) return Number.isInteger(ratio) ? ratio : null;
  return symbols.length === 1 && ratio === 1 ? symbols[0]! : null;
}

export function squeezeShape(x: Dim[] | undefined, axes: Dim[] | undefined): Dim[] | undefined {
  if (!x) return undefined;
  if (!axes) return x.some((d) => typeof d !== 'number') ? undefined : x.filter((d) => d !== 1);
  const drop = new Set(axes.map((a) => normalizeAxis(Number(a), x.length)));
  return x.filter((_, i) => !drop.has(i));
}

export function unsqueezeShape(x: Dim[] | undefined, axes: Dim[] | undefined): Dim[] | undefined {
  if (!x || !axes) return undefined;
  const rank = x.length + axes.length;
  const inserted = new Set(axes.map((a) => normalizeAxis(Number(a), rank)));
  const rest = [...x];
  return Array.from({length: rank}, (_, i) => (inserted.has(i) ? 1 : (rest.shift() ?? null)));
}

export function reduceShape(x: Dim[] | undefined, axes: Dim[] | undefined, keep: boolean, noopWithEmpty: boolean): Dim[] | undefined {
  if (!x) return undefined;
  if (!axes) return keep ? x.map(() => null) : undefined;
  if (axes.length === 0 && noopWithEmpty) return x;
  const reduced = new Set(axes.length === 0 ? x.map((_, i) => i) : axes.map((a) => normalizeAxis(Number(a), x.length)));
  return keep ? x.map((d, i) => (reduced.has(i) ? 1 : d)) : x.filter((_, i) => !reduced.has(i));
}

export function evenSplit(dim: Dim, parts: number): Dim[] {
  return Array.from({length: parts}, () => (typeof dim === 'number' ? Math.ceil(dim / parts) : null));
}

export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function normalizeRange(index: number, rank: number | undefined): number {
  if (rank === undefined) return index;
  return Math.min(Math.max(index < 0 ? index + rank : index, 0), rank);
}

/** Product of dims: a number, the one symbolic dim among 1s (as in Flatten of [batch, 1]), else null. */
export function product(dims: readonly Dim[]): Dim {
  const others = dims.filter((d) => d !== 1);
  if (others.length === 1) return others[0]!;
  let p = 1;
  for (const d of others) {
    if (typeof d !== 'number') return null;
    p *= d;
  }
  return p;
}

export function addDims(a: Dim, b: Dim): Dim {
  return typeof a === 'number' && typeof b === 'number' ? a + b : null;
}

export function sumDims(dims: Dim[]): Dim {
  return dims.reduce<Dim>((sum, d) => addDims(sum, d), 0);
}
