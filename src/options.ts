/**
 * detect_face()'s parameters, their defaults and their validation.
 *
 * The defaults are the values facenet's align_dataset_mtcnn.py and
 * compare.py pass to detect_face(): minsize 20, threshold [0.6, 0.7, 0.7],
 * factor 0.709. Validation happens here, once, at the boundary: the reference
 * itself never checks, and loops forever on factor >= 1.
 * @module
 */
import { MtcnnError } from './errors.ts';
import type { DetectOptions } from './types.ts';

export interface ResolvedOptions {
  minsize: number;
  thresholds: [number, number, number];
  factor: number;
  maxPixels: number;
}

export const DEFAULT_OPTIONS: Readonly<ResolvedOptions> = Object.freeze({
  minsize: 20,
  thresholds: [0.6, 0.7, 0.7] as [number, number, number],
  factor: 0.709, // about sqrt(2)/2: each pyramid level has half the pixels of the one before
  maxPixels: 2 ** 26, // 67 megapixels: a bound on memory, far above any camera photo's pyramid
});

const bad = (message: string) => new MtcnnError('BAD_OPTIONS', message);

/** Defaults filled in, every value checked; throws MtcnnError('BAD_OPTIONS') naming the option. */
export function resolveOptions(options: DetectOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw bad(`options must be an object, got ${options}`);
  const minsize = options.minsize ?? DEFAULT_OPTIONS.minsize;
  const factor = options.factor ?? DEFAULT_OPTIONS.factor;
  const thresholds = options.thresholds ?? DEFAULT_OPTIONS.thresholds;
  const maxPixels = options.maxPixels ?? DEFAULT_OPTIONS.maxPixels;
  if (typeof minsize !== 'number' || !Number.isFinite(minsize) || minsize <= 0) {
    throw bad(`minsize must be a finite number > 0, got ${minsize}`);
  }
  // factor >= 1 never ends detect_face()'s pyramid loop; factor <= 0 makes no pyramid.
  if (typeof factor !== 'number' || !(factor > 0 && factor < 1)) {
    throw bad(`factor must be a number in (0, 1), got ${factor}`);
  }
  if (
    !Array.isArray(thresholds) ||
    thresholds.length !== 3 ||
    thresholds.some((t) => typeof t !== 'number' || !(t >= 0 && t <= 1))
  ) {
    throw bad(`thresholds must be three numbers in [0, 1], got ${JSON.stringify(thresholds)}`);
  }
  if (typeof maxPixels !== 'number' || !(maxPixels >= 1)) {
    throw bad(`maxPixels must be a number >= 1, got ${maxPixels}`);
  }
  return { minsize, factor, thresholds: [thresholds[0], thresholds[1], thresholds[2]], maxPixels };
}
