/**
 * Explain mode: one detection told as a story a reader can follow, step by
 * step, with pictures and the numbers of this very run.
 *
 * Detector.explain() records every helper call detect_face() makes (the
 * trace hook of pipeline/trace.ts). buildExplanation() reads those calls back
 * into what a reader wants to see: each pyramid level with its P-Net
 * probability map and its candidate windows, the windows left after each
 * stage, a few of the crops R-Net and O-Net were fed, and the final faces.
 * Then explain-steps.ts writes the walkthrough: one Step per stage of the
 * algorithm, with a paragraph naming the magic numbers involved and the file
 * implementing it, and the pictures that show it (drawn with draw.ts).
 * `mtcnn explain` (node/cli/explain.ts) turns the steps into PNG files and an
 * index.html; a browser page could show the same pictures on a canvas.
 * @module
 */
import { writeSteps } from './explain-steps.ts';
import { toRgb } from './image/prepare.ts';
import { resolveOptions, type ResolvedOptions } from './options.ts';
import { takeRows, type BoxArray } from './pipeline/boxes.ts';
import type { TraceArray, TraceCall } from './pipeline/trace.ts';
import type { DetectOptions, Face, ImageInput, RgbImage } from './types.ts';

/** One level of the scale pyramid, and what P-Net made of it. */
export interface Level {
  scale: number;
  width: number; // ws = ceil(w * scale)
  height: number; // hs = ceil(h * scale)
  image: RgbImage; // (hs, ws, 3): the resized photo P-Net ran on
  /** (mh, mw) f32: P(face) per P-Net cell, in image orientation (generateBoundingBox's imap). */
  prob: { width: number; height: number; data: Float32Array };
  /** (n, 9): the cells with P(face) >= threshold as windows in photo coordinates. */
  candidates: BoxArray;
  /** The candidates left after nms Union 0.5 within the level. */
  kept: BoxArray;
}

/** The crops one net was fed. */
export interface NetCrops {
  count: number;
  /** The first MAX_CROPS crops, resized, before normalisation (in image orientation). */
  images: RgbImage[];
  /** (count,) P(face) the net gave each crop. */
  scores: Float32Array;
  /** How many of the windows reach past the photo's border (their crops are partly zero). */
  pastBorder: number;
}

export interface Picture {
  /** File name without extension, unique within an explanation. */
  name: string;
  image: RgbImage;
  caption: string;
  /** Suggested display width in CSS pixels (small pictures are shown enlarged). */
  displayWidth?: number;
}

export interface Step {
  id: string;
  title: string;
  /** The explanation; `backticks` mark code. */
  text: string;
  /** The src/ files that implement the step. */
  files: string[];
  pictures: Picture[];
}

export interface Explanation {
  image: RgbImage;
  options: ResolvedOptions;
  levels: Level[];
  stage1: {
    /** (n, 9): the levels' kept windows after the cross-scale nms Union 0.7. */
    merged: BoxArray;
    /** (n, 5): merged, moved by P-Net's regression, squared and np.fix'ed: the windows stage 2 crops. */
    boxes: BoxArray;
  };
  stage2: {
    crops: NetCrops;
    /** (m, 5): windows whose R-Net score passed, with that score, before nms. */
    passed: BoxArray;
    /** (k, 5): after nms, bbreg and rerec: the windows stage 3 crops (before its np.fix). */
    boxes: BoxArray;
  };
  stage3: {
    crops: NetCrops;
    /** (m, 5): windows whose O-Net score passed, moved by bbreg, before the final nms. */
    passed: BoxArray;
    /** (f, 5): the faces, detect_face()'s total_boxes. */
    boxes: BoxArray;
  };
  faces: Face[];
  steps: Step[];
}

/** How many crops per net the explanation keeps as pictures. */
export const MAX_CROPS = 48;

const EMPTY: BoxArray = { rows: 0, cols: 5, data: new Float64Array(0) };
const noCrops = (): NetCrops => ({ count: 0, images: [], scores: new Float32Array(0), pastBorder: 0 });

/** A traced (n, k) array as a float64 BoxArray (pad's stage-3 total_boxes is int32). */
function boxesOf(a: TraceArray): BoxArray {
  return { rows: a.shape[0], cols: a.shape[1] ?? 0, data: Float64Array.from(a.data) };
}

/** Rows of `boxes` that a traced nms kept (its pick is int16, or an empty float array for no boxes). */
function picked(boxes: BoxArray, pick: TraceArray): BoxArray {
  return boxes.rows > 0 && pick.dtype === 'int16' ? takeRows(boxes, pick.data) : { ...EMPTY, cols: boxes.cols };
}

/** Pixels of a resized crop (float64, (s, s, 3)) as bytes. */
function cropImage(a: TraceArray): RgbImage {
  const data = new Uint8Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(a.data[i])));
  return { width: a.shape[1], height: a.shape[0], data };
}

/** Windows of a pad() call that reach past the photo: their crops get zero fill. */
function countPastBorder(arrays: Record<string, TraceArray>): number {
  const { dx, dy, edx, edy, tmpw, tmph } = arrays;
  let n = 0;
  for (let k = 0; k < dx.data.length; k++) {
    if (dx.data[k] > 1 || dy.data[k] > 1 || edx.data[k] < tmpw.data[k] || edy.data[k] < tmph.data[k]) n++;
  }
  return n;
}

/**
 * The explanation of one detection from Detector.explain()'s result;
 * `input` and `options` must be the ones that detection ran with:
 *
 *     const e = buildExplanation(image, detector.explain(image, options), options);
 */
export function buildExplanation(
  input: ImageInput,
  result: { faces: Face[]; calls: TraceCall[] },
  options?: DetectOptions,
): Explanation {
  const image = toRgb(input);
  const opts = resolveOptions(options);
  const levels: Level[] = [];
  const e: Omit<Explanation, 'steps'> = {
    image,
    options: opts,
    levels,
    stage1: { merged: EMPTY, boxes: EMPTY },
    stage2: { crops: noCrops(), passed: EMPTY, boxes: EMPTY },
    stage3: { crops: noCrops(), passed: EMPTY, boxes: EMPTY },
    faces: result.faces,
  };
  const crops = { stage2: [] as RgbImage[], stage3: [] as RgbImage[] };
  // Calls come in detect_face()'s order; each stage's calls are told apart by `stage`.
  for (const c of result.calls) {
    const a = c.arrays;
    const level = levels[levels.length - 1];
    switch (`${c.stage}:${c.fn}`) {
      case 'stage1:imresample': {
        const [height, width] = c.params.size as number[];
        const levelImage = { width, height, data: a.out.data as Uint8Array };
        // scale, map and candidates arrive with this level's generateBoundingBox and nms calls
        const prob = { width: 0, height: 0, data: new Float32Array(0) };
        levels.push({ width, height, image: levelImage, scale: NaN, prob, candidates: EMPTY, kept: EMPTY });
        break;
      }
      case 'stage1:generateBoundingBox':
        level.scale = c.params.scale as number;
        level.prob = { height: a.imap.shape[0], width: a.imap.shape[1], data: a.imap.data as Float32Array };
        level.candidates = boxesOf(a.boundingbox);
        break;
      case 'stage1:nms':
        level.kept = picked(level.candidates, a.pick);
        break;
      case 'stage1-merge:nms':
        e.stage1.merged = picked(boxesOf(a.boxes), a.pick);
        break;
      case 'stage1-merge:pad':
        e.stage1.boxes = boxesOf(a.total_boxes);
        e.stage2.crops.pastBorder = countPastBorder(a);
        break;
      case 'stage2:imresample':
      case 'stage3:imresample': {
        const list = crops[c.stage as 'stage2' | 'stage3'];
        if (list.length < MAX_CROPS) list.push(cropImage(a.out));
        break;
      }
      case 'stage2:rnet':
        e.stage2.crops = { ...e.stage2.crops, count: a.out1.shape[0], images: crops.stage2, scores: faceScores(a.out1) };
        break;
      case 'stage2:nms':
        e.stage2.passed = boxesOf(a.boxes);
        break;
      case 'stage2:rerec':
        e.stage2.boxes = boxesOf(a.out);
        break;
      case 'stage3:pad':
        e.stage3.crops.pastBorder = countPastBorder(a);
        break;
      case 'stage3:onet':
        e.stage3.crops = { ...e.stage3.crops, count: a.out2.shape[0], images: crops.stage3, scores: faceScores(a.out2) };
        break;
      case 'stage3:bbreg':
        e.stage3.passed = boxesOf(a.out);
        break;
      case 'stage3:nms':
        e.stage3.boxes = picked(e.stage3.passed, a.pick);
        break;
    }
  }
  return { ...e, steps: writeSteps(e) };
}

/** Column 1 (face) of a net's (n, 2) softmax. */
function faceScores(prob: TraceArray): Float32Array {
  const n = prob.shape[0],
    out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = prob.data[i * 2 + 1];
  return out;
}
