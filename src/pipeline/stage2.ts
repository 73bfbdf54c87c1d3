/**
 * Stage 2 of detect_face(): R-Net rescores every stage-1 window from a 24x24
 * crop and refines its position.
 *
 *   crops (crop.ts) -> R-Net -> keep score > t (strictly, unlike stage 1's >=)
 *   -> nms Union 0.7 -> bbreg with R-Net's regression -> rerec.
 * @module
 */
import { RNET_SIZE, rnet } from '../nets/rnet.ts';
import type { NetWeights } from '../weights/format.ts';
import { bbreg, rerec, takeRows, type BoxArray } from './boxes.ts';
import { inPlaceArrays, tracedNms } from './stage1.ts';
import { f32, type TraceHook } from './trace.ts';

const NMS_STAGE2 = 0.7;

export interface NetScores {
  /** (n, 4) f32: box regression dx1 dy1 dx2 dy2, in units of the box size. */
  reg: Float32Array;
  /** (n, 2) f32: softmax (not face, face). */
  prob: Float32Array;
}

/** R-Net over a batch of crops, reported to the hook as detect_face.py calls it. */
export function runRnet(weights: NetWeights, input: Float32Array, n: number, hook?: TraceHook): NetScores {
  const out = rnet(weights, input, n);
  hook?.({
    fn: 'rnet',
    stage: 'stage2',
    params: {},
    arrays: { in: f32([n, RNET_SIZE, RNET_SIZE, 3], input), out0: f32([n, 4], out.reg), out1: f32([n, 2], out.prob) },
  });
  return out;
}

/**
 * `ipass = np.where(score > threshold)`, `total_boxes = [x1 y1 x2 y2 of
 * those, their score]` and `mv = reg[:, ipass]`, as stages 2 and 3 both do
 * after their net. numpy compares the float32 scores with the threshold in
 * float32, hence the fround.
 */
export function keepPassing(boxes: BoxArray, scores: NetScores, t: number) {
  const tf = Math.fround(t);
  const pass: number[] = [];
  for (let i = 0; i < boxes.rows; i++) if (scores.prob[i * 2 + 1] > tf) pass.push(i);
  const m = pass.length;
  const total: BoxArray = { rows: m, cols: 5, data: new Float64Array(m * 5) }; // (m, 5) f64
  const mv: BoxArray = { rows: m, cols: 4, data: new Float64Array(m * 4) }; // (m, 4): their regressions (float32 values)
  for (let j = 0; j < m; j++) {
    const i = pass[j];
    for (let c = 0; c < 4; c++) {
      total.data[j * 5 + c] = boxes.data[i * boxes.cols + c];
      mv.data[j * 4 + c] = scores.reg[i * 4 + c];
    }
    total.data[j * 5 + 4] = scores.prob[i * 2 + 1];
  }
  return { pass, total, mv };
}

/**
 * The rest of stage 2 for one image: `boxes` (n, 5) are the windows whose
 * crops R-Net scored, row i with `scores` row i. Returns the (m, 5) windows
 * that pass, calibrated and squared.
 */
export function refine(boxes: BoxArray, scores: NetScores, t: number, hook?: TraceHook): BoxArray {
  const { total, mv } = keepPassing(boxes, scores, t);
  if (total.rows === 0) return total;

  const pick = tracedNms(total, NMS_STAGE2, 'Union', 'stage2', hook);
  const picked = takeRows(total, pick);
  const reg = takeRows(mv, pick); // mv[:, pick]
  const calibrated = bbreg(picked, reg.data);
  hook?.({
    fn: 'bbreg',
    stage: 'stage2',
    params: {},
    arrays: { ...inPlaceArrays('boundingbox', calibrated), reg: f32([reg.rows, 4], Float32Array.from(reg.data)) },
  });
  const squared = rerec(calibrated);
  hook?.({ fn: 'rerec', stage: 'stage2', params: {}, arrays: inPlaceArrays('in', squared) });
  return squared;
}
