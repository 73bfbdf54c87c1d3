/**
 * warpAffine: an RGB image resampled through an affine map, the second half
 * of 5-point alignment (the first is similarity.ts). It does what OpenCV's
 * `cv2.warpAffine(img, M, (w, h), flags=INTER_LINEAR, borderValue=0)` does,
 * the call insightface and most face-recognition pipelines make after
 * estimating M:
 *
 * - inverse mapping: output pixel (x, y) takes the value of the source at
 *   M^-1 (x, y), so every output pixel gets exactly one value, no holes;
 * - pixel centres at integer coordinates (OpenCV's convention, and the one
 *   the landmark templates are written in);
 * - bilinear sampling of the 2x2 neighbours, each neighbour outside the
 *   image reading as 0 (BORDER_CONSTANT with value 0), so the face fades to
 *   black over one pixel at the image edge rather than smearing the border;
 * - round to nearest, ties up (the weighted mean of bytes is in [0, 255]).
 *
 * Not bit-identical to OpenCV: cv2 snaps each sample position to 1/32 pixel
 * (INTER_BITS = 5) and weights in 15-bit fixed point; this uses the exact
 * position in f64. Values differ by at most a unit or two where the image
 * changes fast.
 * @module
 */
import { MtcnnError } from '../errors.ts';
import type { RgbImage } from '../types.ts';
import { invertAffine, type Affine } from './similarity.ts';

/**
 * `image` warped by `m` into a `width` x `height` RGB image.
 * @param m the forward map, source coordinates -> output coordinates
 * @throws MtcnnError('BAD_IMAGE') when the image's data does not hold
 *   width x height x 3 bytes; MtcnnError('BAD_OPTIONS') when the output size
 *   is not a positive integer or `m` is not invertible
 */
export function warpAffine(image: RgbImage, m: Affine, width: number, height: number): RgbImage {
  const { width: W, height: H, data: src } = image;
  if (src.length !== W * H * 3) {
    throw new MtcnnError('BAD_IMAGE', `warpAffine: image data has ${src.length} bytes, expected ${W}x${H}x3`);
  }
  if (!Number.isSafeInteger(width) || width <= 0 || !Number.isSafeInteger(height) || height <= 0) {
    throw new MtcnnError('BAD_OPTIONS', `warpAffine: output size must be positive integers, got ${width}x${height}`);
  }
  const [i00, i01, i02, i10, i11, i12] = invertAffine(m);
  const out = new Uint8Array(width * height * 3); // (height, width, 3) RGB, zero = border
  const rowStride = W * 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Source position, computed afresh (not accumulated along the row) so
      // that a pixel's value does not depend on how many came before it.
      const sx = i00 * x + i01 * y + i02,
        sy = i10 * x + i11 * y + i12;
      const x0 = Math.floor(sx),
        y0 = Math.floor(sy);
      // All four neighbours outside: the pixel stays 0.
      if (x0 < -1 || y0 < -1 || x0 >= W || y0 >= H) continue;
      const fx = sx - x0,
        fy = sy - y0;
      // Bilinear weights of (x0, y0), (x0+1, y0), (x0, y0+1), (x0+1, y0+1),
      // zeroed for neighbours outside the image.
      const inX0 = x0 >= 0,
        inX1 = x0 + 1 < W,
        inY0 = y0 >= 0,
        inY1 = y0 + 1 < H;
      const w00 = inX0 && inY0 ? (1 - fx) * (1 - fy) : 0;
      const w01 = inX1 && inY0 ? fx * (1 - fy) : 0;
      const w10 = inX0 && inY1 ? (1 - fx) * fy : 0;
      const w11 = inX1 && inY1 ? fx * fy : 0;
      // Neighbour offsets with coordinates clamped into the image: an outside
      // neighbour reads some in-range byte, which its zero weight cancels.
      const row0 = (y0 < 0 ? 0 : y0) * rowStride,
        row1 = (y0 + 1 < H ? y0 + 1 : H - 1) * rowStride;
      const col0 = (x0 < 0 ? 0 : x0) * 3,
        col1 = (x0 + 1 < W ? x0 + 1 : W - 1) * 3;
      const p00 = row0 + col0,
        p01 = row0 + col1,
        p10 = row1 + col0,
        p11 = row1 + col1;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = w00 * src[p00 + c] + w01 * src[p01 + c] + w10 * src[p10 + c] + w11 * src[p11 + c];
        out[o + c] = Math.floor(v + 0.5);
      }
    }
  }
  return { width, height, data: out };
}
