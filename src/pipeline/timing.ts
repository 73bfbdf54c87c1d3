/**
 * Stage timings of one detection, measured through the trace hook
 * (trace.ts): every helper call is reported as it returns, so the time since
 * the previous report is the time of that call and of the glue just before
 * it. A plain detection passes no hook and pays nothing; a timed one pays for
 * the trace records, which only point at arrays the pipeline made anyway.
 *
 * What each stage covers (detect_face.py's steps):
 *   pyramid  stage-1 imresample of every level (and reading the image before the first)
 *   pnet     P-Net on every level, with its input normalisation and transpose
 *   nms      generateBoundingBox, nms, rerec, pad, bbreg and the glue between
 *            them, up to the end of the detection
 *   crops    cutting and resizing the 24x24 and 48x48 crops, normalised
 *   rnet     R-Net on the batch; onet: O-Net on the batch
 * @module
 */
import type { TraceCall, TraceHook } from './trace.ts';

export interface StageTimings {
  pyramid: number;
  pnet: number;
  nms: number;
  crops: number;
  rnet: number;
  onet: number;
  /** The whole detection, from the image given to the faces returned. */
  total: number;
}

export type Stage = Exclude<keyof StageTimings, 'total'>;

export const STAGES: readonly Stage[] = ['pyramid', 'pnet', 'nms', 'crops', 'rnet', 'onet'];

/** The stage a helper call belongs to. */
export function stageOf(call: TraceCall): Stage {
  switch (call.fn) {
    case 'imresample':
      return call.stage === 'stage1' ? 'pyramid' : 'crops';
    case 'pnet':
    case 'rnet':
    case 'onet':
      return call.fn;
    default:
      return 'nms';
  }
}

export function emptyTimings(): StageTimings {
  return { pyramid: 0, pnet: 0, nms: 0, crops: 0, rnet: 0, onet: 0, total: 0 };
}

/**
 * A hook that adds each call's time to `into` (milliseconds of `now`), and
 * `done()`, to call when the detection returns: it books the rest (after the
 * last helper call) to nms and sets total.
 */
export function timingHook(into: StageTimings, now: () => number): { hook: TraceHook; done: () => void } {
  const start = now();
  let last = start;
  return {
    hook: (call) => {
      const t = now();
      into[stageOf(call)] += t - last;
      last = t;
    },
    done: () => {
      const t = now();
      into.nms += t - last;
      into.total = t - start;
    },
  };
}
