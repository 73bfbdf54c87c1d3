/**
 * Cutting the candidate boxes out of the image for R-Net (24x24) and O-Net
 * (48x48). detect_face.py, second and third stage:
 *
 *     tmp = np.zeros((int(tmph[k]), int(tmpw[k]), 3))
 *     tmp[dy[k]-1:edy[k], dx[k]-1:edx[k], :] = img[y[k]-1:ey[k], x[k]-1:ex[k], :]
 *     tempimg[:,:,:,k] = imresample(tmp, (24, 24))
 *     tempimg = (tempimg-127.5)*0.0078125
 *     tempimg1 = np.transpose(tempimg, (3,1,0,2))
 *
 * The box may reach past the image: the part inside is copied into a
 * zero-filled crop of the box's full size (`pad` computed where). Indices
 * are MATLAB's 1-based ones, hence every `- 1`.
 * @module
 */
import { imresample } from '../image/imresample.ts';
import { normalizeTransposed } from '../image/prepare.ts';
import type { RgbImage } from '../types.ts';
import type { PadResult } from './boxes.ts';
import { f64, type TraceHook, type TraceStage } from './trace.ts';

/** numpy's reading of `a[start:stop]` on an axis of length n: negative bounds count from the end, then clip. */
function sliceRange(start: number, stop: number, n: number): [number, number] {
  if (start < 0) start = Math.max(start + n, 0);
  else start = Math.min(start, n);
  if (stop < 0) stop = Math.max(stop + n, 0);
  else stop = Math.min(stop, n);
  return [start, Math.max(stop - start, 0)];
}

/**
 * The float64 crop `tmp` (tmph, tmpw, 3) of candidate k, or null where the
 * reference raises instead of returning one.
 *
 * Degenerate crops: with a zero or negative height or width, detect_face()
 * either calls `np.zeros` with a negative size (ValueError), hits its
 * `return np.empty()` (a TypeError in numpy), or hands cv2.resize an empty
 * image (an assertion error); a source and destination slice of
 * incompatible shapes (a box wholly outside the image, where numpy's
 * negative slice bounds count from the end) raises ValueError. The reference
 * has no result to match in these cases; this project drops the candidate
 * (returns null here; cropBatch leaves it out of `kept` and the caller
 * removes its box) so one odd box never aborts a detection.
 * Where the two slices do fit, the reference goes on and so does this port,
 * with an all-zero crop: a box starting just past the right edge (x1 = w + 1:
 * both slices empty), or wholly left of the image with x2 = 0 (both empty)
 * or x2 <= 1 - w (the negative stop counts from the end and leaves at most
 * one source column, which numpy broadcasts into the empty destination);
 * the same for rows. A 1-pixel source slice into a longer destination is
 * broadcast (repeated), as numpy does.
 * test/degenerate-crop.test.ts checks each case against numpy's outcome.
 */
export function cropCandidate(img: RgbImage, p: PadResult, k: number): Float64Array | null {
  const tmph = p.tmph[k],
    tmpw = p.tmpw[k];
  if (tmph <= 0 || tmpw <= 0) return null;
  const [ty, tRows] = sliceRange(p.dy[k] - 1, p.edy[k], tmph);
  const [tx, tCols] = sliceRange(p.dx[k] - 1, p.edx[k], tmpw);
  const [sy, sRows] = sliceRange(p.y[k] - 1, p.ey[k], img.height);
  const [sx, sCols] = sliceRange(p.x[k] - 1, p.ex[k], img.width);
  if ((sRows !== tRows && sRows !== 1) || (sCols !== tCols && sCols !== 1)) return null;
  const tmp = new Float64Array(tmph * tmpw * 3); // (tmph, tmpw, 3) f64, zero outside the image
  const src = img.data,
    w = img.width;
  const step = sCols === 1 ? 0 : 3; // numpy broadcasts a 1-wide source across the target's columns
  for (let r = 0; r < tRows; r++) {
    let s = ((sy + (sRows === 1 ? 0 : r)) * w + sx) * 3;
    const d = ((ty + r) * tmpw + tx) * 3;
    for (let e = d, end = d + tCols * 3; e < end; e += 3, s += step) {
      tmp[e] = src[s];
      tmp[e + 1] = src[s + 1];
      tmp[e + 2] = src[s + 2];
    }
  }
  return tmp;
}

export interface CropBatch {
  /** (n, size, size, 3) f32: normalised crops, each transposed (W x H) as the nets expect. */
  input: Float32Array;
  /** Indices of the candidates that got a crop (all but the degenerate ones), ascending. */
  kept: number[];
}

/** Every candidate's crop, resized to size x size, normalised and transposed into one batch. */
export function cropBatch(
  img: RgbImage,
  p: PadResult,
  count: number,
  size: number,
  stage: TraceStage,
  hook?: TraceHook,
): CropBatch {
  const plane = size * size * 3;
  const input = new Float32Array(count * plane); // room for every candidate, trimmed to the kept ones
  const kept: number[] = [];
  for (let k = 0; k < count; k++) {
    const tmp = cropCandidate(img, p, k);
    if (tmp === null) continue;
    const resized = imresample(tmp, p.tmph[k], p.tmpw[k], size, size); // (size, size, 3) f64
    normalizeTransposed(resized, size, size, input, kept.length * plane);
    hook?.({
      fn: 'imresample',
      stage,
      params: { size: [size, size], in_dtype: 'float64' },
      arrays: { in: f64([p.tmph[k], p.tmpw[k], 3], tmp), out: f64([size, size, 3], resized) },
    });
    kept.push(k);
  }
  return { input: kept.length === count ? input : input.subarray(0, kept.length * plane), kept };
}
