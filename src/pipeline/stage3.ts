/**
 * Stage 3 of detect_face(): O-Net rescores the stage-2 windows from 48x48
 * crops, refines them once more and places the five landmarks.
 *
 *   np.fix -> pad -> crops (crop.ts) -> O-Net -> keep score > t
 *   -> landmarks relative to the unrefined window -> bbreg -> nms Min 0.7.
 * @module
 */
import { ONET_SIZE, onet } from '../nets/onet.ts';
import type { NetWeights } from '../weights/format.ts';
import { bbreg, pad, takeRows, type BoxArray, type PadResult } from './boxes.ts';
import { inPlaceArrays, padArrays, tracedNms } from './stage1.ts';
import { keepPassing } from './stage2.ts';
import { f32, type TraceHook } from './trace.ts';

const NMS_STAGE3 = 0.7;

export interface OnetScores {
  reg: Float32Array; // (n, 4) f32
  /** (n, 10) f32: x1..x5 then y1..y5, each a fraction of the window's width or height. */
  landmarks: Float32Array;
  prob: Float32Array; // (n, 2) f32
}

/**
 * `total_boxes = np.fix(total_boxes).astype(np.int32)` then pad(). The fix
 * applies to every column, the score too (it is replaced by O-Net's later).
 */
export function fixAndPad(boxes: BoxArray, w: number, h: number, hook?: TraceHook): { boxes: BoxArray; pad: PadResult } {
  const fixed: BoxArray = { rows: boxes.rows, cols: boxes.cols, data: boxes.data.map(Math.trunc) };
  const p = pad(fixed, w, h);
  hook?.({
    fn: 'pad',
    stage: 'stage3',
    params: { w, h },
    // the reference passes the int32 array here
    arrays: padArrays(fixed, p, { dtype: 'int32', shape: [fixed.rows, fixed.cols], data: Int32Array.from(fixed.data) }),
  });
  return { boxes: fixed, pad: p };
}

export function runOnet(weights: NetWeights, input: Float32Array, n: number, hook?: TraceHook): OnetScores {
  const out = onet(weights, input, n);
  hook?.({
    fn: 'onet',
    stage: 'stage3',
    params: {},
    arrays: {
      in: f32([n, ONET_SIZE, ONET_SIZE, 3], input),
      out0: f32([n, 4], out.reg),
      out1: f32([n, 10], out.landmarks),
      out2: f32([n, 2], out.prob),
    },
  });
  return out;
}

export interface Detections {
  /** (n, 5) f64: x1 y1 x2 y2 score, detect_face()'s total_boxes. */
  boxes: BoxArray;
  /** (10, n): x1..x5 then y1..y5 of each face (float32 values), detect_face()'s points. */
  points: Float64Array;
}

/** The rest of stage 3 for one image: `boxes` (n, 5) are the windows O-Net scored, row i with `scores` row i. */
export function finish(boxes: BoxArray, scores: OnetScores, t: number, hook?: TraceHook): Detections {
  const { pass, total, mv } = keepPassing(boxes, scores, t);
  const m = pass.length;
  // `points` is O-Net's float32 output, and detect_face.py assigns the
  // landmark positions back into it: each one is rounded to float32.
  const points = new Float32Array(10 * m); // (10, m)
  for (let j = 0; j < m; j++) {
    const i = pass[j];
    // points = w * p + x1 - 1 with the MATLAB-style width w = x2 - x1 + 1
    const x1 = total.data[j * 5],
      y1 = total.data[j * 5 + 1];
    const bw = total.data[j * 5 + 2] - x1 + 1;
    const bh = total.data[j * 5 + 3] - y1 + 1;
    for (let k = 0; k < 5; k++) {
      points[k * m + j] = bw * scores.landmarks[i * 10 + k] + x1 - 1;
      points[(k + 5) * m + j] = bh * scores.landmarks[i * 10 + k + 5] + y1 - 1;
    }
  }
  if (m === 0) return { boxes: total, points: new Float64Array(0) };

  const calibrated = bbreg(total, mv.data);
  hook?.({
    fn: 'bbreg',
    stage: 'stage3',
    params: {},
    arrays: { ...inPlaceArrays('boundingbox', calibrated), reg: f32([m, 4], Float32Array.from(mv.data)) },
  });
  const pick = tracedNms(calibrated, NMS_STAGE3, 'Min', 'stage3', hook);
  const faces = takeRows(calibrated, pick);
  // points[:, pick], with numpy's reading of negative (wrapped int16) indices
  const f = faces.rows;
  const picked = new Float64Array(10 * f);
  for (let r = 0; r < 10; r++) {
    for (let j = 0; j < f; j++) {
      const idx = pick[j] < 0 ? pick[j] + m : pick[j];
      picked[r * f + j] = points[r * m + idx];
    }
  }
  return { boxes: faces, points: picked };
}
