import {readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {DataError} from './data-error.js';
import {decodeImage} from './image-decode.js';
import {fileBytes, openNpy} from './npy.js';

// Made by make-jpeg-fixtures.py: each image with Pillow's convert('RGB') and convert('L') of it.
const fixtures = fileURLToPath(new URL('../../test/fixtures/data/jpeg/', import.meta.url));

function pillow(name: string, mode: 'rgb' | 'l'): Uint8Array {
  const file = join(fixtures, `${name.replace('.', '-')}.${mode}.npy`);
  const array = openNpy(fileBytes(file, 0, statSync(file).size), file);
  const values = new Float64Array(array.shape.reduce((a, b) => a * b, 1));
  array.readElements(0, values);
  array.close();
  return Uint8Array.from(values);
}

const decode = (name: string, channels: 1 | 3) => decodeImage(readFileSync(join(fixtures, name)), name, channels);

describe('image decoding, bit-identical to Pillow', () => {
  const files = ['noisy-420.jpg', 'noisy-422.jpg', 'noisy-444.jpg', 'progressive.jpg', 'gray.jpg', 'cmyk.jpg', 'icc.jpg', 'noisy.png', 'rgba.png', 'palette.png', 'gray.png', 'trailing.jpg'];

  it.each(files)('%s as RGB and as L', async (name) => {
    const rgb = await decode(name, 3);
    expect([rgb.width, rgb.height]).toEqual([61, 47]);
    expect(Buffer.from(rgb.pixels).equals(Buffer.from(pillow(name, 'rgb')))).toBe(true);
    const l = await decode(name, 1);
    expect(Buffer.from(l.pixels).equals(Buffer.from(pillow(name, 'l')))).toBe(true);
  });

  it('refuses a truncated file, as Pillow does, naming the file', async () => {
    await expect(decode('truncated.jpg', 3)).rejects.toThrow(DataError);
    await expect(decode('truncated.jpg', 3)).rejects.toThrow(/truncated\.jpg: cannot decode JPEG/);
  });

  it('tells a non-image by its bytes, whatever the extension', async () => {
    await expect(decodeImage(new TextEncoder().encode('not an image'), 'fake.jpg', 3)).rejects.toThrow(/fake\.jpg: not a JPEG or PNG image/);
  });
});
