/**
 * detect_face() and bulk_detect_face() of facenet's detect_face.py: the
 * three-stage cascade, composed from the stage modules.
 *
 *   image -> scale pyramid (pyramid.ts)
 *         -> stage 1: P-Net proposals at every scale, merged (stage1.ts)
 *         -> stage 2: R-Net on 24x24 crops (crop.ts, stage2.ts)
 *         -> stage 3: O-Net on 48x48 crops, landmarks (stage3.ts)
 * @module
 */
import { MtcnnError, show } from './errors.ts';
import { toRgb } from './image/prepare.ts';
import { checkPyramid, resolveOptions, type ResolvedOptions } from './options.ts';
import type { BoxArray } from './pipeline/boxes.ts';
import { cropBatch } from './pipeline/crop.ts';
import { bulkMinsize, computeScales } from './pipeline/pyramid.ts';
import { stage1 } from './pipeline/stage1.ts';
import { refine, runRnet } from './pipeline/stage2.ts';
import { finish, fixAndPad, runOnet, type Detections } from './pipeline/stage3.ts';
import { ONET_SIZE } from './nets/onet.ts';
import { RNET_SIZE } from './nets/rnet.ts';
import { emptyTimings, timingHook, type StageTimings } from './pipeline/timing.ts';
import type { TraceCall, TraceHook } from './pipeline/trace.ts';
import { LANDMARK_NAMES, type DetectOptions, type Face, type ImageInput, type Landmarks, type RgbImage } from './types.ts';
import { checkWeights, type MtcnnWeights } from './weights/format.ts';

export type { Detections } from './pipeline/stage3.ts';
export type { StageTimings } from './pipeline/timing.ts';

/** The host's monotonic clock in milliseconds (browsers, workers, Node, Deno, Bun all have one). */
const clock = (globalThis as unknown as { performance: { now(): number } }).performance;

export const EMPTY: Detections = { boxes: { rows: 0, cols: 5, data: new Float64Array(0) }, points: new Float64Array(0) };

/** Options of a batch detection: minsize is given per image as a ratio of its smaller side. */
export interface BatchOptions extends Omit<DetectOptions, 'minsize'> {
  /** bulk_detect_face's detection_window_size_ratio: minsize = int(ratio * min(w, h)), at least 12. */
  minsizeRatio: number;
}

/** The pyramid's scales, refusing sizes that would exhaust memory or never finish (options.ts checkPyramid). */
export function scalesFor(img: RgbImage, opts: ResolvedOptions): number[] {
  checkPyramid(img.height, img.width, opts); // before computeScales, which a tiny minsize or a factor near 1 keeps busy (nearly) forever
  return computeScales(img.height, img.width, opts.minsize, opts.factor);
}

/** Stages 1 and 2 up to the R-Net call: the candidate windows and their 24x24 batch. */
function prepareStage2(img: RgbImage, opts: ResolvedOptions, weights: MtcnnWeights, hook?: TraceHook) {
  const s1 = stage1(img, scalesFor(img, opts), opts.thresholds[0], weights.pnet, hook, opts.pyramid);
  if (s1.boxes.rows === 0 || s1.pad === null) return null;
  const batch = cropBatch(img, s1.pad, s1.boxes.rows, RNET_SIZE, 'stage2', hook);
  return { boxes: keepRows(s1.boxes, batch.kept), input: batch.input, n: batch.kept.length };
}

/** Stage 3 up to the O-Net call. */
function prepareStage3(img: RgbImage, boxes: BoxArray, hook?: TraceHook) {
  const fixed = fixAndPad(boxes, img.width, img.height, hook);
  const batch = cropBatch(img, fixed.pad, fixed.boxes.rows, ONET_SIZE, 'stage3', hook);
  return { boxes: keepRows(fixed.boxes, batch.kept), input: batch.input, n: batch.kept.length };
}

/** Rows `kept` of b (all of them when nothing was dropped as a degenerate crop). */
export function keepRows(b: BoxArray, kept: number[]): BoxArray {
  if (kept.length === b.rows) return b;
  const data = new Float64Array(kept.length * b.cols);
  for (let j = 0; j < kept.length; j++) data.set(b.data.subarray(kept[j] * b.cols, (kept[j] + 1) * b.cols), j * b.cols);
  return { rows: kept.length, cols: b.cols, data };
}

/** detect_face() on an RGB image: total_boxes and points, exactly as the reference returns them. */
export function detectFace(img: RgbImage, weights: MtcnnWeights, opts: ResolvedOptions, hook?: TraceHook): Detections {
  const s2 = prepareStage2(img, opts, weights, hook);
  if (s2 === null || s2.n === 0) return EMPTY;
  const refined = refine(s2.boxes, runRnet(weights.rnet, s2.input, s2.n, hook), opts.thresholds[1], hook);
  if (refined.rows === 0) return EMPTY;
  const s3 = prepareStage3(img, refined, hook);
  if (s3.n === 0) return EMPTY;
  return finish(s3.boxes, runOnet(weights.onet, s3.input, s3.n, hook), opts.thresholds[2], hook);
}

/** Concatenate per-image crop batches for one net call; returns the batch and each image's row offset. */
function concatBatches(parts: ({ input: Float32Array; n: number } | null)[], plane: number) {
  let n = 0;
  const offsets: number[] = [];
  for (const p of parts) {
    offsets.push(n);
    n += p ? p.n : 0;
  }
  const input = new Float32Array(n * plane);
  parts.forEach((p, i) => p && input.set(p.input, offsets[i] * plane));
  return { input, n, offsets };
}

/** Rows [from, from + n) of a net's (N, k) output. */
const rowsOf = (a: Float32Array, k: number, from: number, n: number) => a.subarray(from * k, (from + n) * k);

/**
 * bulk_detect_face(): several images, minsize a ratio of each one's smaller
 * side, R-Net and O-Net each run once over all images' crops (the nets treat
 * every sample alone, so each image's result equals detect_face() on it with
 * that minsize).
 */
export function bulkDetectFace(
  imgs: RgbImage[],
  weights: MtcnnWeights,
  opts: ResolvedOptions,
  minsizeRatio: number,
): Detections[] {
  const perImage = imgs.map((img) => ({ ...opts, minsize: bulkMinsize(img.height, img.width, minsizeRatio) }));
  const s2 = imgs.map((img, i) => prepareStage2(img, perImage[i], weights));
  const b2 = concatBatches(s2, RNET_SIZE * RNET_SIZE * 3);
  const r = b2.n > 0 ? runRnet(weights.rnet, b2.input, b2.n) : null;
  const s3 = s2.map((p, i) => {
    if (p === null || p.n === 0 || r === null) return null;
    const o = b2.offsets[i];
    const scores = { reg: rowsOf(r.reg, 4, o, p.n), prob: rowsOf(r.prob, 2, o, p.n) };
    const refined = refine(p.boxes, scores, opts.thresholds[1]);
    return refined.rows === 0 ? null : prepareStage3(imgs[i], refined);
  });
  const b3 = concatBatches(s3, ONET_SIZE * ONET_SIZE * 3);
  const out = b3.n > 0 ? runOnet(weights.onet, b3.input, b3.n) : null;
  return s3.map((p, i) => {
    if (p === null || p.n === 0 || out === null) return EMPTY;
    const o = b3.offsets[i];
    const scores = {
      reg: rowsOf(out.reg, 4, o, p.n),
      landmarks: rowsOf(out.landmarks, 10, o, p.n),
      prob: rowsOf(out.prob, 2, o, p.n),
    };
    return finish(p.boxes, scores, opts.thresholds[2]);
  });
}

/** detect_face()'s arrays as Face records, in the reference's order. */
export function toFaces(d: Detections): Face[] {
  const n = d.boxes.rows,
    b = d.boxes.data;
  const faces: Face[] = [];
  for (let i = 0; i < n; i++) {
    const x1 = b[i * 5],
      y1 = b[i * 5 + 1],
      x2 = b[i * 5 + 2],
      y2 = b[i * 5 + 3];
    const landmarks = {} as Landmarks;
    LANDMARK_NAMES.forEach((name, k) => {
      landmarks[name] = [d.points[k * n + i], d.points[(k + 5) * n + i]];
    });
    faces.push({ box: [x1, y1, x2, y2], x: x1, y: y1, width: x2 - x1, height: y2 - y1, score: b[i * 5 + 4], landmarks });
  }
  return faces;
}

/**
 * A detector holds the weights; create it once and detect many times. It has
 * no mutable state, so concurrent or interleaved calls are independent.
 */
export class Detector {
  readonly weights: MtcnnWeights;
  constructor(weights: MtcnnWeights) {
    checkWeights(weights, 'Detector weights'); // a wrong object is refused here by name, not deep inside a net
    this.weights = weights;
  }

  /** Faces in one image (options as detect_face() names them; defaults minsize 20, thresholds [0.6, 0.7, 0.7], factor 0.709). */
  detect(image: ImageInput, options?: DetectOptions): Face[] {
    return toFaces(this.detectRaw(image, options));
  }

  /** detect_face()'s own result: total_boxes (n, 5) and points (10, n). `hook` sees every helper call. */
  detectRaw(image: ImageInput, options?: DetectOptions, hook?: TraceHook): Detections {
    const opts = resolveOptions(options);
    if (hook !== undefined && typeof hook !== 'function') throw new MtcnnError('BAD_OPTIONS', `hook must be a function, got ${show(hook)}`);
    return detectFace(toRgb(image, opts.maxPixels), this.weights, opts, hook);
  }

  /**
   * Faces, and how long each stage took (milliseconds; see
   * pipeline/timing.ts for what each stage covers). Timed through the trace
   * hook: `detect` itself carries no timing code and pays nothing for it.
   */
  detectTimed(image: ImageInput, options?: DetectOptions): { faces: Face[]; timings: StageTimings } {
    const timings = emptyTimings();
    const timer = timingHook(timings, () => clock.now());
    const faces = toFaces(this.detectRaw(image, options, timer.hook));
    timer.done();
    return { faces, timings };
  }

  /** Faces and every intermediate step, in call order (explain mode). */
  explain(image: ImageInput, options?: DetectOptions): { faces: Face[]; calls: TraceCall[] } {
    const calls: TraceCall[] = [];
    const faces = toFaces(this.detectRaw(image, options, (c) => calls.push(c)));
    return { faces, calls };
  }

  /** bulk_detect_face(): faces per image, minsize a ratio of each image's smaller side. */
  detectBatch(images: ImageInput[], options: BatchOptions): Face[][] {
    if (!Array.isArray(images)) throw new MtcnnError('BAD_IMAGE', 'images must be an array of images');
    const ratio = options?.minsizeRatio;
    if (typeof ratio !== 'number' || !(ratio > 0 && ratio <= 1)) {
      throw new MtcnnError('BAD_OPTIONS', `minsizeRatio must be a number in (0, 1], got ${show(ratio)}`);
    }
    const { minsizeRatio: _, ...rest } = options;
    const opts = resolveOptions({ ...rest, minsize: 12 }); // minsize per image, from the ratio
    const rgb = images.map((image, i) => {
      try {
        return toRgb(image, opts.maxPixels);
      } catch (e) {
        throw e instanceof MtcnnError ? new MtcnnError(e.code, `images[${i}]: ${e.message}`) : e;
      }
    });
    return bulkDetectFace(rgb, this.weights, opts, ratio).map(toFaces);
  }
}
