/**
 * ParallelDetector: detect_face() with its heavy steps spread over worker
 * threads (Node's worker_threads; the zero-dependency core does not need
 * this module). Its results are identical to Detector's, bit for bit: each
 * worker runs the same functions on a part of the work, and every part is
 * independent of the others:
 *
 *   stage 1  the pyramid levels are shared out (proposeAtScale per level,
 *            levels balanced by pixel count); the merge runs here
 *   stage 2  the candidates are cut into one contiguous run per worker, each
 *            cropped and scored by R-Net there (R-Net scores every crop on
 *            its own); refine runs here, on the runs put back in order
 *   stage 3  the same with O-Net; finish runs here
 *
 * detectRaw below is detectFace (../detect.ts) step for step, with those
 * three steps sent out; test/parallel.test.ts compares the two on photos.
 * The image goes to the workers once per detection, in a SharedArrayBuffer.
 *
 * Speed-up with 2 workers on 2 cores: see bench/RESULTS.md. Stage 1 cannot
 * gain more than about 2x however many workers there are: the first level
 * holds about half the pyramid's pixels (each level has 0.709^2 of the one
 * before) and one worker runs it whole.
 * @module
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from './start-worker.ts';
import { EMPTY, keepRows, scalesFor, toFaces, type Detections } from '../detect.ts';
import { MtcnnError, type MtcnnErrorCode } from '../errors.ts';
import { toRgb } from '../image/prepare.ts';
import { resolveOptions } from '../options.ts';
import type { BoxArray, PadResult } from '../pipeline/boxes.ts';
import { levelSize } from '../pipeline/pyramid.ts';
import { mergeScales } from '../pipeline/stage1.ts';
import { refine } from '../pipeline/stage2.ts';
import { finish, fixAndPad } from '../pipeline/stage3.ts';
import type { DetectOptions, Face, ImageInput, RgbImage } from '../types.ts';
import { checkWeights, type MtcnnWeights } from '../weights/format.ts';

/** What a worker is asked to do (parallel-worker.ts). */
export type Job =
  | { kind: 'propose'; image: RgbImage; scales: number[]; t: number }
  | { kind: 'rnet' | 'onet'; image: RgbImage; pad: PadResult; count: number };

/** Stage 1's answer: each level's candidates, in the order of the job's scales. */
export interface Proposals {
  boxes: BoxArray[];
}

/** R-Net's or O-Net's answer: the crops made (`kept`, indices into the job's candidates) and their scores (landmarks from O-Net). */
export interface CropScores {
  kept: number[];
  reg: Float32Array;
  prob: Float32Array;
  landmarks?: Float32Array;
}

export type JobResult = Proposals | CropScores;

export interface ParallelOptions {
  /** Worker threads; default os.availableParallelism(). */
  workers?: number;
}

/** One worker and its calls in flight. */
class WorkerHandle {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: JobResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(weights: MtcnnWeights) {
    this.worker = startWorker('parallel-worker', { weights });
    this.worker.unref();
    this.worker.on('message', ({ id, result, error }: { id: number; result?: JobResult; error?: { code?: MtcnnErrorCode; message: string } }) => {
      const call = this.pending.get(id)!;
      this.pending.delete(id);
      if (this.pending.size === 0) this.worker.unref();
      if (error === undefined) call.resolve(result!);
      else call.reject(error.code ? new MtcnnError(error.code, error.message) : new Error(`ParallelDetector worker: ${error.message}`));
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => this.failAll(new Error(`ParallelDetector worker exited (code ${code})`)));
  }

  call(job: Job & { kind: 'propose' }): Promise<Proposals>;
  call(job: Job & { kind: 'rnet' | 'onet' }): Promise<CropScores>;
  call(job: Job): Promise<JobResult> {
    const id = this.nextId++;
    // Held (keeping the process alive) only while a call is in flight.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, job });
    });
  }

  private failAll(e: Error): void {
    for (const call of this.pending.values()) call.reject(e);
    this.pending.clear();
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** The image with its pixels moved to a SharedArrayBuffer, so that every worker reads the same memory. */
function shared(img: RgbImage): RgbImage {
  const data = new Uint8Array(new SharedArrayBuffer(img.data.length));
  data.set(img.data);
  return { width: img.width, height: img.height, data };
}

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
 * Like Detector, with the work spread over worker threads; every method is
 * async. close() stops the workers.
 */
export class ParallelDetector {
  readonly weights: MtcnnWeights;
  private readonly workers: WorkerHandle[];

  constructor(weights: MtcnnWeights, options: ParallelOptions = {}) {
    checkWeights(weights, 'ParallelDetector weights');
    const n = options.workers ?? availableParallelism();
    if (!(Number.isInteger(n) && n >= 1)) throw new MtcnnError('BAD_OPTIONS', `workers must be an integer >= 1, got ${n}`);
    this.weights = weights;
    this.workers = Array.from({ length: n }, () => new WorkerHandle(weights));
  }

  /** Faces in one image (the same as Detector.detect). */
  async detect(image: ImageInput, options?: DetectOptions): Promise<Face[]> {
    return toFaces(await this.detectRaw(image, options));
  }

  /** detect_face()'s total_boxes and points (the same as Detector.detectRaw, without a trace hook). */
  async detectRaw(image: ImageInput, options?: DetectOptions): Promise<Detections> {
    const opts = resolveOptions(options);
    if (opts.pyramid !== 'from-image') {
      // each worker resizes its levels from the image; a chain of levels cannot be shared out
      throw new MtcnnError('BAD_OPTIONS', `ParallelDetector supports only pyramid 'from-image', got '${opts.pyramid}'`);
    }
    const img = shared(toRgb(image, opts.maxPixels));
    const scales = scalesFor(img, opts);

    // Stage 1: the levels, shared out; the merge of their candidates here.
    const parts = shareLevels(img, scales, this.workers.length);
    const proposed = await Promise.all(
      parts.map((levels, w) =>
        levels.length === 0 ? null : this.workers[w].call({ kind: 'propose', image: img, scales: levels.map((i) => scales[i]), t: opts.thresholds[0] }),
      ),
    );
    const candidates: BoxArray[] = new Array(scales.length);
    parts.forEach((levels, w) => levels.forEach((i, j) => (candidates[i] = proposed[w]!.boxes[j])));
    const s1 = mergeScales(img, candidates);
    if (s1.boxes.rows === 0 || s1.pad === null) return EMPTY;

    // Stage 2: crops and R-Net in runs, refine here.
    const r = await this.scoreCrops('rnet', img, s1.pad, s1.boxes.rows);
    if (r.kept.length === 0) return EMPTY;
    const refined = refine(keepRows(s1.boxes, r.kept), { reg: r.reg, prob: r.prob }, opts.thresholds[1]);
    if (refined.rows === 0) return EMPTY;

    // Stage 3: the same with O-Net, finish here.
    const fixed = fixAndPad(refined, img.width, img.height);
    const o = await this.scoreCrops('onet', img, fixed.pad, fixed.boxes.rows);
    if (o.kept.length === 0) return EMPTY;
    return finish(keepRows(fixed.boxes, o.kept), { reg: o.reg, landmarks: o.landmarks, prob: o.prob }, opts.thresholds[2]);
  }

  /**
   * cropBatch + R-Net or O-Net over candidates [0, count), in one contiguous
   * run per worker; the runs' results put back in candidate order.
   */
  private async scoreCrops(kind: 'rnet' | 'onet', image: RgbImage, pad: PadResult, count: number) {
    const runs = Math.min(this.workers.length, count);
    const bounds = Array.from({ length: runs + 1 }, (_, k) => Math.round((k * count) / runs));
    const results = await Promise.all(
      this.workers
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

  /** Stops the workers; calls still in flight are rejected. (Idle workers do not keep the process alive.) */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
