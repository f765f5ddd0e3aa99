// JPEG/PNG files to packed 8-bit pixels exactly as timm/torchvision see them: Pillow's
// Image.open(f).convert('RGB') (or 'L'). sharp (libvips with libjpeg-turbo's IDCT and fancy
// upsampling, libpng) decodes in its own threads; what Pillow does on top is redone here:
// - no colour management: an embedded ICC profile is ignored (ignoreIcc), as Pillow's convert() does;
// - CMYK JPEGs keep their raw (Adobe-inverted) ink values and get Pillow's cmyk2rgb;
// - alpha is dropped, not composited; grey is replicated to RGB;
// - one channel is Pillow's luma, ITU-R 601-2 in 16-bit fixed point (L24 in Pillow's Convert.c);
// - a truncated file fails (Pillow: "image file is truncated"); bytes after the end marker are ignored.
// A caller that needs only part of the image (the resize of a centre crop) can ask for that window: sharp
// then writes fewer bytes (fresh memory is slow to touch here) and stops decoding after the window's last row.
// It stops early only in a JPEG whose end marker follows its first scan; anything else is decoded to its last
// row, so a truncated file still fails.
import {DataError} from './data-error.js';
import type {PixelWindow, WindowedImage} from './resample.js';

type Format = 'JPEG' | 'PNG';

/** Told apart by magic bytes, not the extension. */
function formatOf(bytes: Uint8Array): Format | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'PNG';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'JPEG';
  return undefined;
}

/** Pillow's L24: luma from R, G, B in 16-bit fixed point. */
const luma = (r: number, g: number, b: number): number => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;

/** Pillow's MULDIV255: a·b/255 rounded, without a division. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** Pillow's cmyk2rgb for one pixel of the 4-byte CMYK `data` at `i`, into `rgb`. */
function cmykToRgb(data: Uint8Array, i: number, rgb: Uint8Array): void {
  const inverseK = 255 - data[i + 3]!;
  rgb[0] = Math.max(0, inverseK - mulDiv255(data[i]!, inverseK));
  rgb[1] = Math.max(0, inverseK - mulDiv255(data[i + 1]!, inverseK));
  rgb[2] = Math.max(0, inverseK - mulDiv255(data[i + 2]!, inverseK));
}

/** How pixels are stored: grey, RGB or CMYK (grey and RGB maybe with alpha). */
type Layout = 'grey' | 'rgb' | 'cmyk';

const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
/** Markers without a length field: TEM, RSTn, SOI. */
const isStandalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);

/** What a file's header says: how its pixels are stored, its size (0 where the header leaves it open), and whether its end is there. */
export interface ImageHeader {
  layout: Layout;
  width: number;
  height: number;
  /** A JPEG's end marker (EOI) follows its first scan: the file was not cut short. Always false for PNG. */
  ends: boolean;
}

/** Whether an EOI marker lies after `from`. Entropy-coded data never holds FF D9 (an FF is followed by 00 or a restart marker). */
function hasEndMarkerAfter(bytes: Uint8Array, from: number): boolean {
  for (let at = bytes.length - 2; at >= from; at--) if (bytes[at] === 0xff && bytes[at + 1] === 0xd9) return true;
  return false;
}

/**
 * The layout and size a JPEG's frame header (SOFn: 1 component grey, 4 CMYK/YCCK, else colour) or a PNG's
 * IHDR (colour types 0 and 4 grey) gives, and for a JPEG whether its end marker follows the first scan; or
 * undefined when the header is not where it should be (sharp then decodes the file as it comes, or refuses
 * it). Markers are walked as libjpeg walks them: fill bytes and stray bytes between segments skipped.
 */
export function readHeader(bytes: Uint8Array, format: Format): ImageHeader | undefined {
  const u16 = (at: number) => (bytes[at]! << 8) | bytes[at + 1]!;
  if (format === 'PNG') {
    const isIhdr = bytes[12] === 0x49 && bytes[13] === 0x48 && bytes[14] === 0x44 && bytes[15] === 0x52;
    if (!isIhdr || bytes.length < 26) return undefined;
    const colourType = bytes[25]!;
    return {layout: colourType === 0 || colourType === 4 ? 'grey' : 'rgb', width: u16(16) * 65536 + u16(18), height: u16(20) * 65536 + u16(22), ends: false};
  }
  let frame: Omit<ImageHeader, 'ends'> | undefined;
  let at = 2;
  while (at + 1 < bytes.length) {
    const marker = bytes[at + 1]!;
    if (bytes[at] !== 0xff || marker === 0xff) at++;
    else if (isStandalone(marker)) at += 2;
    else if (marker === 0xd9) break; // the end before any scan
    else if (marker === 0xda) return frame && {...frame, ends: hasEndMarkerAfter(bytes, at + 2)};
    else if (isStartOfFrame(marker)) {
      if (at + 9 >= bytes.length) return undefined;
      const components = bytes[at + 9]!;
      frame = {layout: components === 1 ? 'grey' : components === 4 ? 'cmyk' : 'rgb', height: u16(at + 5), width: u16(at + 7)};
      at += 2 + u16(at + 2);
    } else {
      if (at + 3 >= bytes.length) break;
      at += 2 + u16(at + 2);
    }
  }
  return frame && {...frame, ends: false};
}

/** Raw pixels, `stride` bytes apart: grey (+alpha), RGB (+alpha) or CMYK. */
interface RawImage {
  width: number;
  height: number;
  data: Uint8Array;
  stride: number;
  layout: Layout;
}

/**
 * One sharp call: the header already said how to decode (the metadata() call this saves costs as much as a small
 * decode). With `windowOf`, only the window it asks for given the header's size is written out.
 */
async function decodeRaw(bytes: Uint8Array, format: Format, file: string, windowOf?: (width: number, height: number) => PixelWindow): Promise<RawImage & {window: PixelWindow}> {
  // 'truncated': fail on a file cut short, load files libjpeg only warns about (as Pillow does).
  const options = {failOn: 'truncated', ignoreIcc: true, limitInputPixels: false} as const;
  // libvips loads with the first image decoded, not with every command that imports a dataset source.
  const {default: sharp} = await import('sharp');
  const header = readHeader(bytes, format);
  const layout = header?.layout;
  // A size of 0 (a JPEG whose height comes after its first scan) leaves the whole image to sharp.
  const asked = header && header.width > 0 && header.height > 0 && windowOf ? windowOf(header.width, header.height) : undefined;
  // Without the end marker, decode down to the last row: sharp (as Pillow) then notices a file cut short.
  const window = asked && (header!.ends ? asked : {...asked, height: header!.height - asked.top});
  try {
    let pipeline = sharp(bytes, options);
    if (window) pipeline = pipeline.extract(window);
    if (layout === 'cmyk') pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk');
    else if (layout === 'grey') pipeline = pipeline.toColourspace('b-w');
    const {data, info} = await pipeline.raw({depth: 'uchar'}).toBuffer({resolveWithObject: true});
    if (layout === 'cmyk' && info.channels < 4) throw new Error(`decoded to ${info.channels} channels from a CMYK image`);
    // A plain Uint8Array view, not the Buffer: the resize loops then see one array type.
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return {
      width: window ? header!.width : info.width,
      height: window ? header!.height : info.height,
      window: window ?? {left: 0, top: 0, width: info.width, height: info.height},
      data: pixels,
      stride: info.channels,
      layout: layout === 'cmyk' ? 'cmyk' : info.channels <= 2 ? 'grey' : 'rgb',
    };
  } catch (error) {
    throw new DataError(`cannot decode ${format}: ${(error as Error).message}`, file, 'the file is damaged or cut short; Pillow (and so timm) would not load it either');
  }
}

/**
 * Decodes a JPEG or PNG file's bytes into `channels` bytes per pixel, as Pillow's convert('RGB'/'L'): the
 * whole image, or the window `windowOf(width, height)` asks for (possibly taken down to the last row). The
 * pixels are sharp's own buffer when it already holds them so (RGB or grey without alpha), else a new array.
 */
export async function decodeImage(bytes: Uint8Array, file: string, channels: 1 | 3, windowOf?: (width: number, height: number) => PixelWindow): Promise<WindowedImage> {
  const format = formatOf(bytes);
  if (format === undefined) throw new DataError('not a JPEG or PNG image (unknown magic bytes)', file, 'image folders hold .jpg/.jpeg/.png files, one sub-folder per class');
  const {width, height, window, data, stride, layout} = await decodeRaw(bytes, format, file, windowOf);
  if (stride === channels && layout === (channels === 1 ? 'grey' : 'rgb')) return {width, height, window, pixels: data};
  const count = window.width * window.height;
  const pixels = new Uint8Array(count * channels);
  // One loop per layout: this runs once per pixel of full-size photos.
  if (layout === 'grey') {
    for (let p = 0; p < count; p++) {
      const v = data[p * stride]!;
      if (channels === 1) pixels[p] = v;
      else pixels[3 * p] = pixels[3 * p + 1] = pixels[3 * p + 2] = v;
    }
  } else if (layout === 'rgb') {
    for (let p = 0; p < count; p++) {
      const i = p * stride;
      if (channels === 1) pixels[p] = luma(data[i]!, data[i + 1]!, data[i + 2]!);
      else {
        pixels[3 * p] = data[i]!;
        pixels[3 * p + 1] = data[i + 1]!;
        pixels[3 * p + 2] = data[i + 2]!;
      }
    }
  } else {
    const rgb = new Uint8Array(3);
    for (let p = 0; p < count; p++) {
      cmykToRgb(data, p * stride, rgb);
      if (channels === 1) pixels[p] = luma(rgb[0]!, rgb[1]!, rgb[2]!);
      else pixels.set(rgb, 3 * p);
    }
  }
  return {width, height, window, pixels};
}
