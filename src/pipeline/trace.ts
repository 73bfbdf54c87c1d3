/**
 * The trace hook: every helper call detect_face() makes, reported in call
 * order with its inputs and outputs, in the reference's own shapes,
 * orientations and dtypes (see ../shared/mtcnn/README.md, "golden/").
 *
 * The pipeline builds these records only when a hook is given, so a plain
 * detection pays nothing. The golden replay, `mtcnn trace` and explain mode
 * are all consumers of this one stream.
 * @module
 */

export type TraceDtype = 'uint8' | 'int16' | 'int32' | 'float32' | 'float64';

export interface TraceArray {
  dtype: TraceDtype;
  shape: number[];
  /** C-order values; typed to match dtype (Uint8Array, Int16Array, Int32Array, Float32Array, Float64Array). */
  data: Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** The reference's helper names, which are also the `fn` keys of trace.json. */
export type TraceFn = 'imresample' | 'pnet' | 'generateBoundingBox' | 'nms' | 'rerec' | 'pad' | 'bbreg' | 'rnet' | 'onet';

/** stage1: per-scale calls; stage1-merge: cross-scale nms, calibration and pad; stage2: R-Net; stage3: O-Net. */
export type TraceStage = 'stage1' | 'stage1-merge' | 'stage2' | 'stage3';

export interface TraceCall {
  fn: TraceFn;
  stage: TraceStage;
  /** Scalar arguments as trace.json has them: size, scale, t, threshold, method, w, h, in_dtype. */
  params: Record<string, number | string | number[]>;
  arrays: Record<string, TraceArray>;
}

export type TraceHook = (call: TraceCall) => void;

export const f64 = (shape: number[], data: Float64Array): TraceArray => ({ dtype: 'float64', shape, data });
export const f32 = (shape: number[], data: Float32Array): TraceArray => ({ dtype: 'float32', shape, data });
export const u8 = (shape: number[], data: Uint8Array): TraceArray => ({ dtype: 'uint8', shape, data });
export const i32 = (shape: number[], data: Int32Array): TraceArray => ({ dtype: 'int32', shape, data });
export const i16 = (shape: number[], data: Int16Array): TraceArray => ({ dtype: 'int16', shape, data });
