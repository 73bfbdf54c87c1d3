/**
 * detect_face() with its heavy steps spread over workers, whatever the
 * workers are (ParallelDetector's worker threads, WebParallelDetector's Web
 * Workers). The results are Detector's, bit for bit: each worker runs the
 * same functions on a part of the work (jobs.ts), and every part is
 * independent of the others:
 *
 *   stage 1  the pyramid levels are shared out (proposeAtScale per level,
 *            levels balanced by pixel count); the merge runs here
 *   stage 2  the candidates are cut into one contiguous run per worker, each
 *            cropped and scored by R-Net there (R-Net scores every crop on
 *            its own); refine runs here, on the runs put back in order
 *   stage 3  the same with O-Net; finish runs here
 *
 * detectSpread below is detectFace (../detect.ts) step for step, with those
 * three steps sent out; test/parallel.test.ts and test/browser.test.ts
 * compare the two on photos.
 *
 * Stage 1 cannot gain more than about 2x however many workers there are: the
 * first level holds about half the pyramid's pixels (each level has 0.709^2
 * of the one before) and one worker runs it whole.
 * Runtime-neutral.
 * @module
 */
import { EMPTY, keepRows, scalesFor, type Detections } from '../detect.ts';
import { MtcnnError, show } from '../errors.ts';
import { toRgb } from '../image/prepare.ts';
import { resolveOptions } from '../options.ts';
import type { BoxArray, PadResult } from '../pipeline/boxes.ts';
import { levelSize } from '../pipeline/pyramid.ts';
import { mergeScales } from '../pipeline/stage1.ts';
import { refine } from '../pipeline/stage2.ts';
import { finish, fixAndPad } from '../pipeline/stage3.ts';
import type { DetectOptions, ImageInput, RgbImage } from '../types.ts';
import type { Calls } from './calls.ts';

/**
 * Levels shared out over `workers`, balanced by pixel count (largest first,
 * each to the least loaded worker): for each worker, indices into scales.
 */
export function shareLevels(img: RgbImage, scales: number[], workers: number): number[][] {
  const parts: number[][] = Array.from({ length: workers }, () => []);
  const load = new Array<number>(workers).fill(0);
  const bySize = scales.map((s, i) => {
    const [hs, ws] = levelSize(img.height, img.width, s);
    return { i, pixels: hs * ws };
  });
  bySize.sort((a, b) => b.pixels - a.pixels || a.i - b.i);
  for (const { i, pixels } of bySize) {
    const w = load.indexOf(Math.min(...load));
    parts[w].push(i);
    load[w] += pixels;
  }
  return parts;
}

/** Candidates [from, to) of a pad() result: its ten arrays cut to that run (copies: a view would send the whole buffer). */
function padRange(p: PadResult, from: number, to: number): PadResult {
  return {
    dy: p.dy.slice(from, to), edy: p.edy.slice(from, to), dx: p.dx.slice(from, to), edx: p.edx.slice(from, to),
    y: p.y.slice(from, to), ey: p.ey.slice(from, to), x: p.x.slice(from, to), ex: p.ex.slice(from, to),
    tmpw: p.tmpw.slice(from, to), tmph: p.tmph.slice(from, to),
  };
}

/** Rows of the runs' (n_i, k) outputs stacked in run order. */
function stack(parts: Float32Array[]): Float32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * detect_face()'s total_boxes and points (Detector.detectRaw's), the heavy
 * steps done by `workers`.
 * @param who the detector's name, for error messages
 */
export async function detectSpread(
  workers: Calls[],
  image: ImageInput,
  options: DetectOptions | undefined,
  who: string,
): Promise<Detections> {
  const opts = resolveOptions(options);
  if (opts.pyramid !== 'from-image') {
    // each worker resizes its levels from the image; a chain of levels cannot be shared out
    throw new MtcnnError('BAD_OPTIONS', `${who} supports only pyramid 'from-image', got '${opts.pyramid}'`);
  }
  const img = inSharedMemory(toRgb(image, opts.maxPixels));
  const scales = scalesFor(img, opts);

  // Stage 1: the levels, shared out; the merge of their candidates here.
  const parts = shareLevels(img, scales, workers.length);
  const proposed = await Promise.all(
    parts.map((levels, w) =>
      levels.length === 0 ? null : workers[w].call({ kind: 'propose', image: img, scales: levels.map((i) => scales[i]), t: opts.thresholds[0] }),
    ),
  );
  const candidates: BoxArray[] = new Array(scales.length);
  parts.forEach((levels, w) => levels.forEach((i, j) => (candidates[i] = proposed[w]!.boxes[j])));
  const s1 = mergeScales(img, candidates);
  if (s1.boxes.rows === 0 || s1.pad === null) return EMPTY;

  // Stage 2: crops and R-Net in runs, refine here.
  const r = await scoreCrops(workers, 'rnet', img, s1.pad, s1.boxes.rows);
  if (r.kept.length === 0) return EMPTY;
  const refined = refine(keepRows(s1.boxes, r.kept), { reg: r.reg, prob: r.prob }, opts.thresholds[1]);
  if (refined.rows === 0) return EMPTY;

  // Stage 3: the same with O-Net, finish here.
  const fixed = fixAndPad(refined, img.width, img.height);
  const o = await scoreCrops(workers, 'onet', img, fixed.pad, fixed.boxes.rows);
  if (o.kept.length === 0) return EMPTY;
  return finish(keepRows(fixed.boxes, o.kept), { reg: o.reg, landmarks: o.landmarks, prob: o.prob }, opts.thresholds[2]);
}

/**
 * cropBatch + R-Net or O-Net over candidates [0, count), in one contiguous
 * run per worker; the runs' results put back in candidate order.
 */
async function scoreCrops(workers: Calls[], kind: 'rnet' | 'onet', image: RgbImage, pad: PadResult, count: number) {
  const runs = Math.min(workers.length, count);
  const bounds = Array.from({ length: runs + 1 }, (_, k) => Math.round((k * count) / runs));
  const results = await Promise.all(
    workers
      .slice(0, runs)
      .map((w, k) => w.call({ kind, image, pad: padRange(pad, bounds[k], bounds[k + 1]), count: bounds[k + 1] - bounds[k] })),
  );
  const kept: number[] = [];
  results.forEach((res, k) => {
    for (const i of res.kept) kept.push(bounds[k] + i);
  });
  const landmarks = kind === 'onet' ? stack(results.map((res) => res.landmarks!)) : new Float32Array(0);
  return { kept, reg: stack(results.map((res) => res.reg)), prob: stack(results.map((res) => res.prob)), landmarks };
}

/**
 * The image with its pixels copied to a SharedArrayBuffer, so that every
 * worker reads the same memory instead of a copy of its own per job.
 * Browsers offer SharedArrayBuffer only to cross-origin isolated pages; elsewhere
 * the image is returned as it is, and each job carries a copy.
 */
export function inSharedMemory(img: RgbImage): RgbImage {
  const env = globalThis as { crossOriginIsolated?: boolean };
  if (typeof SharedArrayBuffer !== 'function' || env.crossOriginIsolated === false) return img;
  const data = new Uint8Array(new SharedArrayBuffer(img.data.length));
  data.set(img.data);
  return { width: img.width, height: img.height, data };
}

/**
 * The most workers a detector starts. The split gains nothing past the
 * pyramid's dozen levels; the cap turns a typo (workers: 1e6) into an error
 * instead of a million threads.
 */
export const MAX_WORKERS = 64;

/** The number of workers a caller asked for, checked. */
export function workerCount(n: unknown, who: string): number {
  if (!(typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_WORKERS)) {
    throw new MtcnnError('BAD_OPTIONS', `${who}: workers must be an integer from 1 to ${MAX_WORKERS}, got ${show(n)}`);
  }
  return n;
}
