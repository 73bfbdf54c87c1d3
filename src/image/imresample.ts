/**
 * imresample, ported from facenet's src/align/detect_face.py:
 * `cv2.resize(img, (ws, hs), interpolation=cv2.INTER_AREA)`, bit for bit
 * (OpenCV 4.6, generic C++ code), on the two kinds of input detect_face gives
 * it: uint8 RGB images (pyramid levels) and float64 crops holding whole
 * numbers (resized to 24x24 for R-Net, 48x48 for O-Net).
 *
 * This module only checks the request and picks OpenCV's path (§1 of
 * ../shared/mtcnn/OPENCV_INTER_AREA.md); each path lives in its own module:
 * copy, areaFast (resize-area-fast.ts), areaGeneral (resize-area-general.ts),
 * linearArea (resize-linear-area.ts).
 * @module
 */
import { MtcnnError } from '../errors.ts';
import { areaFastF64, areaFastU8 } from './resize-area-fast.ts';
import { areaGeneralF64, areaGeneralU8, areaTab } from './resize-area-general.ts';
import { linTab, linearAreaF64, linearAreaU8 } from './resize-linear-area.ts';
import { roundHalfEven } from './round-half-even.ts';

/** The four ways cv2.resize INTER_AREA computes its result (§1). */
export type ResizePath = 'copy' | 'areaFast' | 'areaGeneral' | 'linearArea';

/**
 * OpenCV's scale for one axis: source pixels per output pixel, computed as
 * 1 / (dsize / ssize). ssize / dsize can differ in the last bit (68 / 24 is
 * 2.8333333333333335, this gives 2.833333333333333) and that bit picks rows.
 */
function areaScale(ssize: number, dsize: number): number {
  return 1 / (dsize / ssize);
}

/**
 * OpenCV's "whole ratio" test, |scale - cvRound(scale)| < DBL_EPSILON (2^-52);
 * in practice true exactly when dsize divides ssize.
 */
function isWholeRatio(scale: number): boolean {
  return Math.abs(scale - roundHalfEven(scale)) < Number.EPSILON;
}

/**
 * Which path cv2.resize(INTER_AREA) takes from h x w to hs x ws (§1): a copy
 * at the same size; when neither axis grows, areaFast for whole ratios in both
 * axes, else areaGeneral; as soon as one axis grows, linearArea in BOTH axes.
 */
export function resizePath(h: number, w: number, hs: number, ws: number): ResizePath {
  if (hs === h && ws === w) return 'copy';
  const scaleX = areaScale(w, ws), scaleY = areaScale(h, hs);
  if (scaleX >= 1 && scaleY >= 1) {
    return isWholeRatio(scaleX) && isWholeRatio(scaleY) ? 'areaFast' : 'areaGeneral';
  }
  return 'linearArea';
}

function checkSize(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new MtcnnError('BAD_IMAGE', `imresample: ${name} must be a positive integer, got ${v}`);
  }
}

/**
 * Resizes `src`, (h, w, channels) interleaved in C order, to (hs, ws,
 * channels) as cv2.resize(src, (ws, hs), interpolation=cv2.INTER_AREA) does,
 * and returns a new array of the same type. Note the argument order: heights
 * before widths, as detect_face's `imresample(img, (hs, ws))`.
 *
 * uint8 results are identical to cv2's; float64 results too, on the whole
 * number inputs detect_face uses (and on any input, as far as was measured).
 * @throws MtcnnError('BAD_IMAGE') when a size is not a positive integer or
 * src.length is not h * w * channels.
 */
export function imresample<T extends Uint8Array | Float64Array>(
  src: T,
  h: number,
  w: number,
  hs: number,
  ws: number,
  channels = 3,
): T {
  checkSize('h', h);
  checkSize('w', w);
  checkSize('hs', hs);
  checkSize('ws', ws);
  checkSize('channels', channels);
  if (src.length !== h * w * channels) {
    const expected = `${h}x${w}x${channels} = ${h * w * channels}`;
    throw new MtcnnError('BAD_IMAGE', `imresample: src has ${src.length} values, not ${expected}`);
  }
  const path = resizePath(h, w, hs, ws);
  if (path === 'copy') return src.slice() as T;
  const n = hs * ws * channels;
  const scaleX = areaScale(w, ws), scaleY = areaScale(h, hs);

  if (src instanceof Uint8Array) {
    const out = new Uint8Array(n); // (hs, ws, channels) uint8
    // Same bytes seen through ToUint8Clamp stores: sat8(rne(x)), see the kernels.
    const clamped = new Uint8ClampedArray(out.buffer);
    if (path === 'areaFast') {
      const kx = roundHalfEven(scaleX), ky = roundHalfEven(scaleY);
      areaFastU8(clamped, src, w, channels, ws, hs, kx, ky);
    } else if (path === 'areaGeneral') {
      const xtab = areaTab(w, ws, scaleX, channels);
      const ytab = areaTab(h, hs, scaleY, w * channels);
      areaGeneralU8(clamped, src, channels, ws, hs, xtab, ytab);
    } else {
      const xtab = linTab(w, ws, true), ytab = linTab(h, hs, false);
      linearAreaU8(out, src, w, h, channels, ws, hs, xtab, ytab);
    }
    return out as T;
  }

  const out = new Float64Array(n); // (hs, ws, channels) float64
  const s = src as Float64Array;
  if (path === 'areaFast') {
    const kx = roundHalfEven(scaleX), ky = roundHalfEven(scaleY);
    areaFastF64(out, s, w, channels, ws, hs, kx, ky);
  } else if (path === 'areaGeneral') {
    const xtab = areaTab(w, ws, scaleX, channels);
    const ytab = areaTab(h, hs, scaleY, w * channels);
    areaGeneralF64(out, s, channels, ws, hs, xtab, ytab);
  } else {
    const xtab = linTab(w, ws, true), ytab = linTab(h, hs, false);
    linearAreaF64(out, s, w, h, channels, ws, hs, xtab, ytab);
  }
  return out as T;
}
