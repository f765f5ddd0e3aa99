// Per-channel normalisation of a sample in place: x·scale, then (x - mean[c])/std[c] over
// channel-first samples ([C, ...]). One mean/std value applies to every channel.
import {DataError} from './data-error.js';
import type {Preprocessing} from './manifest.js';

export interface Normalization {
  /** Applied first (1/255 turns bytes into [0, 1]); default 1. */
  scale?: number;
  mean?: number[];
  std?: number[];
}

export interface Normalizer {
  apply(sample: Float32Array): void;
  preprocessing: Preprocessing;
}

function perChannel(values: number[] | undefined, fallback: number, channels: number, what: string): number[] {
  const list = values ?? [fallback];
  if (list.length === 1) return new Array<number>(channels).fill(list[0]!);
  if (list.length !== channels) throw new DataError(`${what} has ${list.length} values but samples have ${channels} channels`, undefined, `give one ${what} value, or one per channel`);
  return list;
}

export function normalizer(sampleShape: readonly number[], norm: Normalization): Normalizer {
  const channels = sampleShape[0] ?? 1;
  const perChannelSize = sampleShape.slice(1).reduce((a, b) => a * b, 1);
  const scale = norm.scale ?? 1;
  const mean = perChannel(norm.mean, 0, channels, 'mean');
  const std = perChannel(norm.std, 1, channels, 'std');
  if (std.some((s) => !(s > 0))) throw new DataError(`std must be positive (got ${std.join(', ')})`);
  // Folded into one multiply-add per element: x·(scale/std) - mean/std.
  const factor = std.map((s) => scale / s);
  const offset = mean.map((m, c) => m / std[c]!);
  const identity = factor.every((f) => f === 1) && offset.every((o) => o === 0);
  const scaled = scale === 1 ? 'x' : `x·${scale}`;
  const description = identity ? 'none' : norm.mean === undefined && norm.std === undefined ? scaled : `(${scaled} - [${mean.join(', ')}])/[${std.join(', ')}] per channel`;
  return {
    preprocessing: {description, scale, mean, std},
    apply(sample) {
      if (identity) return;
      for (let c = 0; c < channels; c++) {
        const f = factor[c]!;
        const o = offset[c]!;
        const end = (c + 1) * perChannelSize;
        for (let i = c * perChannelSize; i < end; i++) sample[i] = sample[i]! * f - o;
      }
    },
  };
}
