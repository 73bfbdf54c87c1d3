/**
 * Writing an RGB image as a PNG file, for the pictures of `mtcnn explain` and
 * `mtcnn detect --draw`. Encoding is pngjs's (8-bit RGB, no alpha); reading
 * stays with png.ts, which mirrors OpenCV's decoder.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { MtcnnError } from '../errors.ts';
import type { RgbImage } from '../types.ts';

/** The PNG file bytes of an (h, w, 3) RGB image. */
export function encodePng(image: RgbImage): Uint8Array {
  const { width, height, data } = image;
  if (data.length !== width * height * 3) {
    throw new MtcnnError('BAD_IMAGE', `cannot encode ${width}x${height} RGB: data has ${data.length} bytes`);
  }
  const png = new PNG({ width, height });
  // pngjs allocates an RGBA buffer; hand it the RGB bytes instead and say so
  // with inputColorType 2 (RGB) and no alpha, so nothing is converted twice.
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** Writes `image` to `path` as an 8-bit RGB PNG. A missing folder is an MtcnnError('NOT_FOUND'). */
export function writePng(path: string, image: RgbImage): void {
  const bytes = encodePng(image);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new MtcnnError('NOT_FOUND', `cannot write ${path}: no such folder`);
    throw e;
  }
}
