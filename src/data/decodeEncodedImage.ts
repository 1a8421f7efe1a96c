import { convertIndexedToRgb, decode as decodePng, hasPngSignature } from 'fast-png';
import jpeg from 'jpeg-js';
import type { ImageShape } from './imageShape.js';

/** A decoded image: HWC uint8 pixels and their shape. */
export interface DecodedImage {
  readonly pixels: Uint8Array;
  readonly shape: ImageShape;
}

/** True when the bytes start like a PNG or JPEG file. */
export function looksEncoded(bytes: Uint8Array): boolean {
  return isPng(bytes) || isJpeg(bytes);
}

function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && hasPngSignature(bytes);
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * The size a PNG or JPEG file declares in its header (PNG's IHDR, JPEG's start-of-frame), read
 * without decoding anything: what the size limit is checked against before a decoder allocates.
 *
 * @example
 * ```ts
 * encodedImageSize(pngBytes); // { height: 28, width: 28 }
 * ```
 * @param bytes - the file's bytes.
 * @returns the declared height and width, or null when the header cannot be read (the decoder then
 *   reports the damage).
 */
export function encodedImageSize(bytes: Uint8Array): { height: number; width: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isPng(bytes)) {
    // Signature (8), IHDR length (4) and type (4), then width and height, big-endian.
    return bytes.length >= 24 ? { width: view.getUint32(16), height: view.getUint32(20) } : null;
  }
  if (!isJpeg(bytes)) return null;
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1] as number;
    // Start-of-frame markers C0–CF, except DHT (C4), JPG (C8) and DAC (CC), carry the size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: view.getUint16(at + 5), width: view.getUint16(at + 7) };
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xff) {
      at += marker === 0xff ? 1 : 2;
      continue;
    }
    at += 2 + view.getUint16(at + 2);
  }
  return null;
}

/**
 * Decodes PNG (fast-png) or JPEG (jpeg-js) bytes to 8-bit HWC pixels. Alpha is dropped (backdoor
 * triggers live in colour channels; models here take 1 or 3 channels), 16-bit PNGs are scaled to
 * 8 bits, 1/2/4-bit ones unpacked and scaled up, palettes are expanded, and a JPEG whose three
 * channels are equal everywhere is returned as one-channel grey, since JPEG decoders always return RGB.
 *
 * @throws Error with the decoder's message when the bytes are neither format or are corrupt.
 */
export function decodeEncodedImage(bytes: Uint8Array): DecodedImage {
  if (isPng(bytes)) return decodePngBytes(bytes);
  if (isJpeg(bytes)) return decodeJpegBytes(bytes);
  throw new Error('cell is neither PNG nor JPEG (unrecognised signature)');
}

function decodePngBytes(bytes: Uint8Array): DecodedImage {
  const png = decodePng(bytes);
  let channels = png.channels;
  let data: ArrayLike<number> = png.data;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = data.length / (png.width * png.height);
  } else if (png.depth === 16) {
    data = Uint8Array.from(png.data, (v) => v >> 8);
  } else if (png.depth < 8) {
    data = unpackLowDepth(png.data, png.width * channels, png.height, png.depth);
  }
  return dropAlpha(data, png.height, png.width, channels);
}

/**
 * 1-, 2- and 4-bit PNG samples come from fast-png still packed, several to a byte, each row starting
 * on a byte boundary: unpack them and scale to 0-255.
 */
function unpackLowDepth(
  packed: ArrayLike<number>,
  samplesPerRow: number,
  rows: number,
  depth: number,
): Uint8Array {
  const max = (1 << depth) - 1;
  const rowBytes = Math.ceil((samplesPerRow * depth) / 8);
  const out = new Uint8Array(samplesPerRow * rows);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < samplesPerRow; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)] as number;
      const v = (byte >> (8 - depth - (bit & 7))) & max;
      out[y * samplesPerRow + x] = Math.round((v * 255) / max);
    }
  }
  return out;
}

function decodeJpegBytes(bytes: Uint8Array): DecodedImage {
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 256 });
  const rgb = img.data;
  const n = img.width * img.height;
  let grey = true;
  for (let i = 0; i < n && grey; i++) grey = rgb[3 * i] === rgb[3 * i + 1] && rgb[3 * i] === rgb[3 * i + 2];
  if (grey) {
    const pixels = new Uint8Array(n);
    for (let i = 0; i < n; i++) pixels[i] = rgb[3 * i] as number;
    return { pixels, shape: { height: img.height, width: img.width, channels: 1 } };
  }
  return {
    pixels: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.length),
    shape: { height: img.height, width: img.width, channels: 3 },
  };
}

function dropAlpha(data: ArrayLike<number>, height: number, width: number, channels: number): DecodedImage {
  if (channels === 1 || channels === 3) {
    const pixels = data instanceof Uint8Array ? data : Uint8Array.from(data);
    return { pixels, shape: { height, width, channels } };
  }
  const keep = channels === 2 ? 1 : 3;
  const n = height * width;
  const pixels = new Uint8Array(n * keep);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < keep; c++) pixels[i * keep + c] = data[i * channels + c] as number;
  return { pixels, shape: { height, width, channels: keep } };
}
