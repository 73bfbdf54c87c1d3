/**
 * Stage 1 of detect_face(): P-Net proposes candidate windows at every scale
 * of the image pyramid, then the candidates of all scales are merged.
 *
 * Per scale (detect_face.py, `for scale in scales:`):
 *   resize the image to ceil(h*scale) x ceil(w*scale) (INTER_AREA), normalise,
 *   transpose, run P-Net, turn each cell whose face probability is >= t into a
 *   12x12 window mapped back to the image (generateBoundingBox), and keep the
 *   best of overlapping windows (nms Union 0.5).
 * Merge (`numbox = total_boxes.shape[0]; if numbox>0:`):
 *   nms Union 0.7 across scales, move each window by its P-Net regression,
 *   square it (rerec), round toward zero (np.fix) and compute how it overlaps
 *   the image borders (pad).
 * @module
 */
import { imresample } from '../image/imresample.ts';
import { normalizeTransposed } from '../image/prepare.ts';
import { pnet } from '../nets/pnet.ts';
import type { NetWeights } from '../weights/format.ts';
import type { PyramidSource, RgbImage } from '../types.ts';
import { generateBoundingBox, nms, pad, rerec, takeRows, type BoxArray, type PadResult } from './boxes.ts';
import { levelSize } from './pyramid.ts';
import { f32, f64, i16, u8, type TraceArray, type TraceHook, type TraceStage } from './trace.ts';

/** nms thresholds of stage 1: within one scale, then across scales (detect_face.py). */
const NMS_WITHIN_SCALE = 0.5;
const NMS_ACROSS_SCALES = 0.7;

export interface Stage1Result {
  /** (n, 5) f64: x1 y1 x2 y2 score, squared and np.fix'ed; n may be 0. */
  boxes: BoxArray;
  /** pad() of those boxes (null when n is 0). */
  pad: PadResult | null;
}

/** How trace.json records an nms result: int16 picks, but `np.empty((0,3))` (float64) for an empty input. */
function pickArray(boxes: BoxArray, pick: Int16Array): TraceArray {
  return boxes.rows === 0 ? f64([0, 3], new Float64Array(0)) : i16([pick.length], pick);
}

export function boxArray(b: BoxArray): TraceArray {
  return f64([b.rows, b.cols], b.data);
}

/** `nms(boxes, threshold, method)`, reported to the trace hook as the reference's call. */
export function tracedNms(boxes: BoxArray, threshold: number, method: 'Union' | 'Min', stage: TraceStage, hook?: TraceHook): Int16Array {
  const pick = nms(boxes, threshold, method);
  hook?.({ fn: 'nms', stage, params: { threshold, method }, arrays: { boxes: boxArray(boxes), pick: pickArray(boxes, pick) } });
  return pick;
}

/** One pyramid level: resize, P-Net, candidate windows, nms within the scale. Returns the kept (n, 9) candidates. */
export function proposeAtScale(
  img: RgbImage,
  scale: number,
  t: number,
  weights: NetWeights,
  hook?: TraceHook,
): BoxArray {
  return proposeOnLevel(resizeLevel(img, img, scale, hook), scale, t, weights, hook);
}

/**
 * The level of `img` at `scale`: ceil(h*scale) x ceil(w*scale), resized with
 * INTER_AREA from `source`, which is `img` itself in detect_face() (and
 * the previous level with the opt-in `pyramid: 'from-previous'`).
 */
export function resizeLevel(img: RgbImage, source: RgbImage, scale: number, hook?: TraceHook): RgbImage {
  const [hs, ws] = levelSize(img.height, img.width, scale);
  const level = imresample(source.data, source.height, source.width, hs, ws); // (hs, ws, 3) u8
  hook?.({ fn: 'imresample', stage: 'stage1', params: { size: [hs, ws] }, arrays: { out: u8([hs, ws, 3], level) } });
  return { width: ws, height: hs, data: level };
}

/** P-Net on one level, candidate windows, nms within the scale. Returns the kept (n, 9) candidates. */
export function proposeOnLevel(level: RgbImage, scale: number, t: number, weights: NetWeights, hook?: TraceHook): BoxArray {
  const stage: TraceStage = 'stage1';
  const hs = level.height,
    ws = level.width;
  const input = new Float32Array(ws * hs * 3); // (ws, hs, 3) f32: the level, transposed
  normalizeTransposed(level.data, hs, ws, input);
  const out = pnet(weights, input, ws, hs); // maps (W', H', c) in the transposed orientation
  hook?.({
    fn: 'pnet',
    stage,
    params: {},
    arrays: {
      in: f32([1, ws, hs, 3], input),
      out0: f32([1, out.oh, out.ow, 4], out.reg),
      out1: f32([1, out.oh, out.ow, 2], out.prob),
    },
  });

  // detect_face.py transposes the maps back, `np.transpose(out[1], (0,2,1,3))`,
  // and hands generateBoundingBox the face-probability channel (1) and the regression.
  const mh = out.ow,
    mw = out.oh; // map height and width in image orientation
  const imap = new Float32Array(mh * mw); // (mh, mw) f32: P(face) per cell
  const reg = new Float32Array(mh * mw * 4); // (mh, mw, 4) f32: dx1 dy1 dx2 dy2
  for (let x = 0; x < mw; x++) {
    for (let y = 0; y < mh; y++) {
      const s = x * mh + y,
        d = y * mw + x;
      imap[d] = out.prob[s * 2 + 1];
      reg[d * 4] = out.reg[s * 4];
      reg[d * 4 + 1] = out.reg[s * 4 + 1];
      reg[d * 4 + 2] = out.reg[s * 4 + 2];
      reg[d * 4 + 3] = out.reg[s * 4 + 3];
    }
  }
  const boxes = generateBoundingBox(imap, reg, mh, mw, scale, t);
  hook?.({
    fn: 'generateBoundingBox',
    stage,
    params: { scale, t },
    arrays: { imap: f32([mh, mw], imap), reg: f32([mh, mw, 4], reg), boundingbox: boxArray(boxes) },
  });

  const pick = tracedNms(boxes, NMS_WITHIN_SCALE, 'Union', stage, hook);
  // `if boxes.size>0 and pick.size>0:` keep the picked rows
  return boxes.rows > 0 && pick.length > 0 ? takeRows(boxes, pick) : { rows: 0, cols: 9, data: new Float64Array(0) };
}

/** Stack (n_i, 9) candidate arrays, like repeated `np.append(total_boxes, boxes, axis=0)`. */
function appendRows(parts: BoxArray[]): BoxArray {
  let rows = 0;
  for (const p of parts) rows += p.rows;
  const data = new Float64Array(rows * 9);
  let o = 0;
  for (const p of parts) {
    data.set(p.data, o);
    o += p.data.length;
  }
  return { rows, cols: 9, data };
}

/** Cross-scale merge: nms, regression with the window size (no +1 here, unlike bbreg), rerec, np.fix, pad. */
export function mergeScales(img: RgbImage, candidates: BoxArray[], hook?: TraceHook): Stage1Result {
  const stage: TraceStage = 'stage1-merge';
  let total = appendRows(candidates); // (n, 9) f64
  if (total.rows === 0) return { boxes: { rows: 0, cols: 5, data: new Float64Array(0) }, pad: null };

  const pick = tracedNms(total, NMS_ACROSS_SCALES, 'Union', stage, hook);
  total = takeRows(total, pick);

  // qq1 = x1 + dx1*regw, ... with regw = x2-x1, regh = y2-y1 (detect_face.py)
  const n = total.rows,
    t = total.data;
  const moved = new Float64Array(n * 5); // (n, 5) f64: x1 y1 x2 y2 score
  for (let i = 0; i < n; i++) {
    const r = i * 9;
    const regw = t[r + 2] - t[r];
    const regh = t[r + 3] - t[r + 1];
    moved[i * 5] = t[r] + t[r + 5] * regw;
    moved[i * 5 + 1] = t[r + 1] + t[r + 6] * regh;
    moved[i * 5 + 2] = t[r + 2] + t[r + 7] * regw;
    moved[i * 5 + 3] = t[r + 3] + t[r + 8] * regh;
    moved[i * 5 + 4] = t[r + 4];
  }
  const squared = rerec({ rows: n, cols: 5, data: moved });
  hook?.({ fn: 'rerec', stage, params: {}, arrays: inPlaceArrays('in', squared) });

  // total_boxes[:,0:4] = np.fix(total_boxes[:,0:4]).astype(np.int32) (into a new
  // array: arrays handed to the trace hook are never modified afterwards)
  const fixed: BoxArray = { rows: n, cols: 5, data: squared.data.slice() };
  for (let i = 0; i < n; i++) for (let c = 0; c < 4; c++) fixed.data[i * 5 + c] = Math.trunc(fixed.data[i * 5 + c]);

  const p = pad(fixed, img.width, img.height);
  hook?.({ fn: 'pad', stage, params: { w: img.width, h: img.height }, arrays: padArrays(fixed, p) });
  return { boxes: fixed, pad: p };
}

/**
 * rerec and bbreg modify their argument in place and return it, and the
 * goldens were recorded after the call, so their input array (`in`,
 * `boundingbox`) holds the output. Traces keep that convention so they stay
 * interchangeable with the Python ones.
 */
export function inPlaceArrays(inName: 'in' | 'boundingbox', out: BoxArray): Record<string, TraceArray> {
  return { [inName]: boxArray(out), out: boxArray(out) };
}

/** The arrays of a pad() call as trace.json lists them. */
export function padArrays(total: BoxArray, p: PadResult, totalArray: TraceArray = boxArray(total)): Record<string, TraceArray> {
  const n = total.rows;
  const a = (d: Int32Array): TraceArray => ({ dtype: 'int32', shape: [n], data: d });
  return {
    total_boxes: totalArray,
    dy: a(p.dy), edy: a(p.edy), dx: a(p.dx), edx: a(p.edx),
    y: a(p.y), ey: a(p.ey), x: a(p.x), ex: a(p.ex),
    tmpw: a(p.tmpw), tmph: a(p.tmph),
  };
}

/**
 * Stage 1 in full: every scale, then the merge. With `pyramid` 'from-previous'
 * (opt-in, not detect_face()'s: see DetectOptions.pyramid) each level after
 * the first is resized from the level before it instead of from the image.
 */
export function stage1(
  img: RgbImage,
  scales: number[],
  t: number,
  weights: NetWeights,
  hook?: TraceHook,
  pyramid: PyramidSource = 'from-image',
): Stage1Result {
  const candidates: BoxArray[] = [];
  let source = img; // what the next level is resized from
  for (const scale of scales) {
    const level = resizeLevel(img, source, scale, hook);
    candidates.push(proposeOnLevel(level, scale, t, weights, hook));
    if (pyramid === 'from-previous') source = level;
  }
  return mergeScales(img, candidates, hook);
}
