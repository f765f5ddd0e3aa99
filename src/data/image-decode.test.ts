import {readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import jpeg from 'jpeg-js';
import {describe, expect, it} from 'vitest';
import {ImageDecoder} from './image-decode.js';
import {jpegLayout} from './jpeg-color.js';
import {fileBytes, openNpy} from './npy.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/data/jpeg/', import.meta.url));

/** Pillow's decode (HWC uint8) of a fixture. */
function pillow(name: string): Float64Array {
  const file = join(fixtures, `${name}.pil.npy`);
  const array = openNpy(fileBytes(file, 0, statSync(file).size), file);
  const values = new Float64Array(array.shape.reduce((a, b) => a * b, 1));
  array.readElements(0, values);
  array.close();
  return values;
}

function difference(ours: ArrayLike<number>, reference: Float64Array): {max: number; mean: number} {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(ours[i]! - reference[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return {max, mean: sum / reference.length};
}

describe('JPEG decoding close to Pillow (libjpeg-turbo)', () => {
  it.each(['420', '422', '444'])('reconstructs colour as libjpeg for %s subsampling: only IDCT rounding remains', (sampling) => {
    const bytes = readFileSync(join(fixtures, `noisy-${sampling}.jpg`));
    expect(jpegLayout(bytes)).toEqual({width: 61, height: 47, h: sampling === '444' ? 1 : 2, v: sampling === '420' ? 2 : 1});
    const reference = pillow(`noisy-${sampling}`);
    const ours = difference(new ImageDecoder(3).decode(bytes, 'x.jpg').pixels, reference);
    expect(ours.max).toBeLessThanOrEqual(3);
    expect(ours.mean).toBeLessThan(0.3);
    // What jpeg-js alone gives (repeated chroma, float colour conversion), for scale.
    const plain = difference(jpeg.decode(bytes, {useTArray: true, formatAsRGBA: false}).data, reference);
    expect(plain.mean).toBeGreaterThan(ours.mean);
  });

  it('leaves one-component JPEGs to jpeg-js, replicated to RGB', () => {
    const bytes = readFileSync(join(fixtures, 'gray.jpg'));
    expect(jpegLayout(bytes)).toBeUndefined();
    const ours = difference(new ImageDecoder(3).decode(bytes, 'gray.jpg').pixels, pillow('gray'));
    expect(ours.max).toBeLessThanOrEqual(3);
  });
});
