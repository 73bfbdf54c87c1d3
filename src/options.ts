/**
 * detect_face()'s parameters, their defaults and their validation.
 *
 * The defaults are the values facenet's align_dataset_mtcnn.py and
 * compare.py pass to detect_face(): minsize 20, threshold [0.6, 0.7, 0.7],
 * factor 0.709. Validation happens here, once, at the boundary: the reference
 * itself never checks, and loops forever on factor >= 1.
 * @module
 */
import { MtcnnError, show } from './errors.ts';
import type { DetectOptions, PyramidSource } from './types.ts';

export interface ResolvedOptions {
  minsize: number;
  thresholds: [number, number, number];
  factor: number;
  maxPixels: number;
  pyramid: PyramidSource;
}

export const DEFAULT_OPTIONS: Readonly<ResolvedOptions> = Object.freeze({
  minsize: 20,
  thresholds: [0.6, 0.7, 0.7] as [number, number, number],
  factor: 0.709, // about sqrt(2)/2: each pyramid level has half the pixels of the one before
  maxPixels: 2 ** 26, // 67 megapixels: a bound on memory, far above any camera photo's pyramid
  pyramid: 'from-image' as PyramidSource, // detect_face()'s: every level resized from the image
});

/**
 * The most pyramid levels one detection may run. The default factor makes
 * about 20 on the largest image maxPixels allows; 1000 still admits factor
 * 0.99 on any of them. Only a factor a hair below 1 goes past it, and there
 * the count is unbounded (factor 1 - 2^-53: about 10^16 levels, each a P-Net
 * run): refused rather than left to run for days.
 */
export const MAX_PYRAMID_LEVELS = 1000;

/** P-Net's window (pipeline/pyramid.ts): the first level scales minsize to 12. */
const PNET_WINDOW = 12;

const bad = (message: string) => new MtcnnError('BAD_OPTIONS', message);

/** Every option detect() takes (types.ts DetectOptions). */
const OPTION_NAMES = ['minsize', 'thresholds', 'factor', 'maxPixels', 'pyramid'] as const;

/** Defaults filled in, every value checked; throws MtcnnError('BAD_OPTIONS') naming the option. */
export function resolveOptions(options: DetectOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw bad(`options must be an object like { minsize: 20 }, got ${show(options)}`);
  }
  // A misspelt option (minSize, threshold) would otherwise be silently ignored.
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      throw bad(`unknown option '${key}': the options are ${OPTION_NAMES.join(', ')}`);
    }
  }
  // Only an absent (undefined) option takes its default; null is refused like any other non-number.
  const pick = <T>(value: T | undefined, fallback: T): T => (value === undefined ? fallback : value);
  const minsize: unknown = pick(options.minsize, DEFAULT_OPTIONS.minsize);
  const factor: unknown = pick(options.factor, DEFAULT_OPTIONS.factor);
  const thresholds: unknown = pick(options.thresholds, DEFAULT_OPTIONS.thresholds);
  const maxPixels: unknown = pick(options.maxPixels, DEFAULT_OPTIONS.maxPixels);
  const pyramid: unknown = pick(options.pyramid, DEFAULT_OPTIONS.pyramid);
  if (typeof minsize !== 'number' || !Number.isFinite(minsize) || minsize <= 0) {
    throw bad(`minsize must be a finite number > 0, got ${show(minsize)}`);
  }
  // factor >= 1 never ends detect_face()'s pyramid loop; factor <= 0 makes no pyramid.
  if (typeof factor !== 'number' || !(factor > 0 && factor < 1)) {
    throw bad(`factor must be a number in (0, 1), got ${show(factor)}`);
  }
  if (
    !Array.isArray(thresholds) ||
    thresholds.length !== 3 ||
    thresholds.some((t) => typeof t !== 'number' || !(t >= 0 && t <= 1))
  ) {
    throw bad(`thresholds must be three numbers in [0, 1], got ${show(thresholds)}`);
  }
  if (typeof maxPixels !== 'number' || !Number.isFinite(maxPixels) || maxPixels < 1) {
    throw bad(`maxPixels must be a finite number >= 1, got ${show(maxPixels)}`);
  }
  if (pyramid !== 'from-image' && pyramid !== 'from-previous') {
    throw bad(`pyramid must be 'from-image' (the default) or 'from-previous', got ${show(pyramid)}`);
  }
  return { minsize, factor, thresholds: [thresholds[0], thresholds[1], thresholds[2]], maxPixels, pyramid };
}

/**
 * Refuses a pyramid that would exhaust memory or never finish, before any
 * of it is computed: an image over maxPixels (MtcnnError 'BAD_IMAGE'), a
 * first level over maxPixels (a tiny minsize; 'BAD_OPTIONS'), more than
 * MAX_PYRAMID_LEVELS levels (a factor very close to 1; 'BAD_OPTIONS').
 *
 * The level count repeats computeScales' loop (`minl = min(h, w) * 12 /
 * minsize; while minl >= 12: minl *= factor`) with the same float64
 * operations, so it is exact, but stops as soon as it passes the bound.
 * The first level is scale `m = 12 / minsize` (`factor**0` is 1).
 */
export function checkPyramid(height: number, width: number, opts: ResolvedOptions): void {
  if (width * height > opts.maxPixels) {
    throw new MtcnnError('BAD_IMAGE', `image is ${width}x${height}, more than maxPixels (${opts.maxPixels})`);
  }
  const m = PNET_WINDOW / opts.minsize;
  let minl = Math.min(height, width) * m;
  if (minl < PNET_WINDOW) return; // no level at all: nothing to detect, nothing to refuse
  const hs = Math.ceil(height * m),
    ws = Math.ceil(width * m);
  if (!(hs * ws <= opts.maxPixels)) {
    throw bad(`minsize ${opts.minsize} makes the first pyramid level ${ws}x${hs}, more than maxPixels (${opts.maxPixels})`);
  }
  for (let levels = 0; minl >= PNET_WINDOW; levels++) {
    if (levels === MAX_PYRAMID_LEVELS) {
      throw bad(
        `factor ${opts.factor} makes more than ${MAX_PYRAMID_LEVELS} pyramid levels ` +
          `(image ${width}x${height}, minsize ${opts.minsize}): use a factor further below 1`,
      );
    }
    minl = minl * opts.factor;
  }
}
