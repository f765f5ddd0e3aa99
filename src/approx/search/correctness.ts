// Which images a configuration classified correctly, carried in evaluation outcomes (and so in the
// memo) as a base64 bitset, so any two configurations scored on the same images compare pairwise.
import {pairedDrop, type PairedDrop} from '../../util/statistics.js';

/** Image i is bit (i mod 8) of byte ⌊i / 8⌋. */
export function encodeCorrect(flags: ArrayLike<boolean | number>): string {
  const bytes = new Uint8Array(Math.ceil(flags.length / 8));
  for (let i = 0; i < flags.length; i++) if (flags[i]) bytes[i >> 3]! |= 1 << (i & 7);
  return Buffer.from(bytes).toString('base64');
}

export function decodeCorrect(encoded: string, samples: number): Uint8Array {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length !== Math.ceil(samples / 8)) throw new RangeError(`correctness bitset holds ${bytes.length * 8} images, expected ${samples}`);
  return Uint8Array.from({length: samples}, (_, i) => (bytes[i >> 3]! >> (i & 7)) & 1);
}

/** Paired comparison of a candidate with the baseline on the same `samples` images. */
export function pairedAgainst(baseline: string, candidate: string, samples: number): PairedDrop {
  const a = decodeCorrect(baseline, samples);
  const b = decodeCorrect(candidate, samples);
  let onlyBaseline = 0;
  let onlyCandidate = 0;
  for (let i = 0; i < samples; i++) {
    if (a[i] && !b[i]) onlyBaseline++;
    else if (b[i] && !a[i]) onlyCandidate++;
  }
  return pairedDrop(onlyBaseline, onlyCandidate, samples);
}
