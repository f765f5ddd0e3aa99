import {readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {DataError} from './data-error.js';
import sharp from 'sharp';
import {decodeImage, readHeader} from './image-decode.js';
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

describe('the colour layout and size read from the header bytes (sharp is called once per image)', () => {
  const files = ['noisy-420.jpg', 'progressive.jpg', 'gray.jpg', 'cmyk.jpg', 'icc.jpg', 'noisy.png', 'rgba.png', 'palette.png', 'gray.png', 'trailing.jpg'];
  const layoutOfSpace = (space: string | undefined) => (space === 'cmyk' ? 'cmyk' : space === 'b-w' || space === 'grey16' ? 'grey' : 'rgb');

  it.each(files)('%s: the layout and size sharp\'s metadata gives', async (name) => {
    const bytes = readFileSync(join(fixtures, name));
    const {space, width, height} = await sharp(bytes).metadata();
    expect(readHeader(bytes, name.endsWith('.png') ? 'PNG' : 'JPEG')).toMatchObject({layout: layoutOfSpace(space), width, height});
  });

  it('walks JPEG markers as libjpeg does: fill bytes and stray bytes before the frame header skipped', async () => {
    const bytes = readFileSync(join(fixtures, 'cmyk.jpg'));
    let sof = 2;
    while (!(bytes[sof] === 0xff && bytes[sof + 1]! >= 0xc0 && bytes[sof + 1]! <= 0xc2)) sof += 2 + ((bytes[sof + 2]! << 8) | bytes[sof + 3]!);
    const padded = Buffer.concat([bytes.subarray(0, sof), Buffer.from([0x00, 0x13, 0xff, 0xff]), bytes.subarray(sof)]);
    expect(readHeader(padded, 'JPEG')?.layout).toBe('cmyk');
    const rgb = await decodeImage(padded, 'padded.jpg', 3);
    expect(Buffer.from(rgb.pixels).equals(Buffer.from(pillow('cmyk.jpg', 'rgb')))).toBe(true);
  });

  it('gives no layout for a header cut short or out of place, and sharp then decides', async () => {
    const jpegBytes = readFileSync(join(fixtures, 'noisy-420.jpg'));
    expect(readHeader(jpegBytes.subarray(0, 40), 'JPEG')).toBeUndefined();
    expect(readHeader(Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 2]), 'JPEG')).toBeUndefined();
    const pngBytes = readFileSync(join(fixtures, 'gray.png'));
    expect(readHeader(pngBytes.subarray(0, 20), 'PNG')).toBeUndefined();
    await expect(decodeImage(jpegBytes.subarray(0, 40), 'cut.jpg', 3)).rejects.toThrow(/cut\.jpg: cannot decode JPEG/);
  });
});

describe('decoding only a window', () => {
  const files = ['noisy-420.jpg', 'noisy-422.jpg', 'progressive.jpg', 'gray.jpg', 'cmyk.jpg', 'trailing.jpg', 'noisy.png', 'rgba.png', 'palette.png', 'gray.png'];
  const asked = {left: 7, top: 5, width: 30, height: 20};

  it.each(files)('%s: the same bytes as that part of the whole image, as RGB and as L (a PNG down to its last row)', async (name) => {
    const bytes = readFileSync(join(fixtures, name));
    for (const channels of [3, 1] as const) {
      const sizes: [number, number][] = [];
      const part = await decodeImage(bytes, name, channels, (width, height) => {
        sizes.push([width, height]);
        return asked;
      });
      expect(sizes).toEqual([[61, 47]]);
      // JPEGs here end with their end marker, so decoding stops after the window; a PNG's end is not checked.
      const window = name.endsWith('.png') ? {...asked, height: 47 - asked.top} : asked;
      expect([part.width, part.height, part.window]).toEqual([61, 47, window]);
      const whole = pillow(name, channels === 3 ? 'rgb' : 'l');
      const expected = new Uint8Array(window.height * window.width * channels);
      for (let y = 0; y < window.height; y++) {
        const at = ((window.top + y) * 61 + window.left) * channels;
        expected.set(whole.subarray(at, at + window.width * channels), y * window.width * channels);
      }
      expect(Buffer.from(part.pixels).equals(Buffer.from(expected))).toBe(true);
    }
  });

  it('tells a JPEG that ends (its end marker after the first scan) from one cut short or with only a thumbnail\'s end marker', () => {
    const bytes = readFileSync(join(fixtures, 'noisy-420.jpg'));
    expect(readHeader(bytes, 'JPEG')?.ends).toBe(true);
    expect(readHeader(readFileSync(join(fixtures, 'trailing.jpg')), 'JPEG')?.ends).toBe(true);
    const cut = readFileSync(join(fixtures, 'truncated.jpg'));
    expect(readHeader(cut, 'JPEG')?.ends).toBe(false);
    // An end marker before the first scan (an EXIF thumbnail's) does not count.
    const thumbnail = Buffer.from([0xff, 0xe1, 0x00, 0x06, 0xff, 0xd8, 0xff, 0xd9]);
    const withThumbnail = Buffer.concat([cut.subarray(0, 2), thumbnail, cut.subarray(2)]);
    expect(readHeader(withThumbnail, 'JPEG')).toMatchObject({layout: 'rgb', ends: false});
  });

  it('still refuses a truncated file: without its end marker every row is decoded', async () => {
    await expect(decodeImage(readFileSync(join(fixtures, 'truncated.jpg')), 'truncated.jpg', 3, () => ({left: 0, top: 0, width: 4, height: 2}))).rejects.toThrow(/truncated\.jpg: cannot decode JPEG/);
  });
});
