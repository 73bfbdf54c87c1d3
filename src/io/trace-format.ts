/**
 * Golden traces in memory: detect_face() run through the trace hook and
 * recorded in the format of ../shared/mtcnn/golden (README.md, "golden/"),
 * exactly as ../shared/mtcnn/tools/generate.py records the reference: the same
 * calls (trace-rules.ts goldenCalls), the same trace.json records with their
 * keys in generate.py's order, the same dtypes and shapes, sha256 digests of
 * the C-order bytes, and the same arrays kept as `NNNN_<fn>_<key>.npy`
 * (trace-rules.ts keepsFile), NNNN being the call's index.
 *
 * Nothing here touches a file system: `src/node/trace-files.ts` writes a
 * Trace to a folder (`mtcnn trace`), and the golden replay compares one
 * without writing it. The digest function is passed in, so that each runtime
 * uses its own (node:crypto in Node).
 * @module
 */
import { detectFace } from '../detect.ts';
import { resolveOptions } from '../options.ts';
import { computeScales, levelSize } from '../pipeline/pyramid.ts';
import type { Detections } from '../pipeline/stage3.ts';
import type { TraceArray, TraceCall, TraceFn, TraceStage } from '../pipeline/trace.ts';
import type { DetectOptions, RgbImage } from '../types.ts';
import type { MtcnnWeights } from '../weights/format.ts';
import type { NpyArray, NpyDtype } from './npy.ts';
import { FULL_MAP_MAX_PIXELS, goldenCalls, keepsFile } from './trace-rules.ts';

/** One array of a call in trace.json: its digest and, when kept, the .npy file beside trace.json. */
export interface ArrayRecord {
  dtype: NpyDtype;
  shape: number[];
  /** sha256 (hex) of the array's C-order bytes, as numpy's `tobytes()` gives them. */
  sha256: string;
  file?: string;
}

/**
 * One helper call in trace.json: `fn`, its scalar arguments (size, in_dtype,
 * scale, t, threshold, method, w, h), nms's `score_ties`, `arrays`, `stage`.
 */
export interface CallRecord {
  fn: TraceFn;
  stage: TraceStage;
  arrays: Record<string, ArrayRecord>;
  [param: string]: unknown;
}

/** trace.json, top-level fields in generate.py's order. */
export interface TraceJson {
  image: string;
  height: number;
  width: number;
  image_digest: { dtype: 'uint8'; shape: number[]; sha256: string };
  params: { minsize: number; threshold: number[]; factor: number };
  /** Whether pyramid images, P-Net maps and net inputs were kept as files (photos of at most 800x800 pixels). */
  full_maps: boolean;
  scales: number[];
  pyramid_sizes: number[][];
  faces: number;
  /** (n, 5): x1 y1 x2 y2 score, as nested lists. */
  final_boxes: number[][];
  /** (10, n): x1..x5 then y1..y5 per face, as nested lists ([] when numpy's `points` is np.empty(0)). */
  final_points: number[][] | number[];
  calls: CallRecord[];
}

/** A trace as it lies in a folder: trace.json and the .npy files it names (plus final_boxes.npy, final_points.npy). */
export interface Trace {
  json: TraceJson;
  files: Map<string, NpyArray>;
}

/** sha256 (lowercase hex) of some bytes. */
export type Sha256 = (bytes: Uint8Array) => string;

/** Each helper's arrays, in the order generate.py lists them (a pyramid level's imresample has no `in`). */
export const TRACE_ARRAYS: Readonly<Record<TraceFn, readonly string[]>> = {
  imresample: ['in', 'out'],
  pnet: ['in', 'out0', 'out1'],
  generateBoundingBox: ['imap', 'reg', 'boundingbox'],
  nms: ['boxes', 'pick'],
  rerec: ['in', 'out'],
  pad: ['total_boxes', 'dy', 'edy', 'dx', 'edx', 'y', 'ey', 'x', 'ex', 'tmpw', 'tmph'],
  bbreg: ['boundingbox', 'reg', 'out'],
  rnet: ['in', 'out0', 'out1'],
  onet: ['in', 'out0', 'out1', 'out2'],
};

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The `.npy` name generate.py gives array `key` of call number `index`. */
export const arrayFileName = (index: number, fn: TraceFn, key: string) => `${String(index).padStart(4, '0')}_${fn}_${key}.npy`;

/** nms's `score_ties`: how many scores in `boxes` (column 4) repeat, `s.size - np.unique(s).size`. */
export function scoreTies(boxes: TraceArray): number {
  const [rows, cols] = boxes.shape;
  if (rows === 0 || cols === 0) return 0;
  const seen = new Set<number>(); // SameValueZero: 0 and -0 are one value, as in np.unique
  for (let r = 0; r < rows; r++) seen.add(boxes.data[r * cols + 4]);
  return rows - seen.size;
}

/**
 * A crop's float64 input holds whole numbers 0..255 (pixels, and zeros past
 * the border); generate.py stores it as uint8 and says `in_dtype: float64`.
 */
function cropAsUint8(a: TraceArray): TraceArray {
  const out = new Uint8Array(a.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = a.data[i];
    if (!(v >= 0 && v <= 255 && Math.round(v) === v)) throw new RangeError(`crop value ${v} at ${i} is not a whole number 0..255`);
    out[i] = v;
  }
  return { dtype: 'uint8', shape: a.shape, data: out };
}

/**
 * Records hook calls as trace.json records and kept arrays. `keepAll` keeps
 * every array as a file (`mtcnn trace --full`); otherwise generate.py's rules
 * apply, with `full` its per-photo size rule.
 */
export function traceRecorder(full: boolean, keepAll: boolean, sha256: Sha256) {
  const calls: CallRecord[] = [];
  const files = new Map<string, NpyArray>();
  const hook = goldenCalls((call: TraceCall) => {
    const index = calls.length;
    const record: Record<string, unknown> = { fn: call.fn, ...call.params };
    if (call.fn === 'nms') record.score_ties = scoreTies(call.arrays.boxes);
    const order = TRACE_ARRAYS[call.fn];
    const keys = Object.keys(call.arrays).sort((a, b) => order.indexOf(a) - order.indexOf(b));
    const arrays: Record<string, ArrayRecord> = {};
    for (const key of keys) {
      const isCropInput = call.fn === 'imresample' && key === 'in' && call.params.in_dtype === 'float64';
      const a = isCropInput ? cropAsUint8(call.arrays[key]) : call.arrays[key];
      const entry: ArrayRecord = { dtype: a.dtype, shape: a.shape, sha256: sha256(bytesOf(a.data)) };
      if (keepAll || keepsFile(call, key, full)) {
        entry.file = arrayFileName(index, call.fn, key);
        files.set(entry.file, { dtype: a.dtype, shape: a.shape, data: a.data });
      }
      arrays[key] = entry;
    }
    record.arrays = arrays;
    record.stage = call.stage;
    calls.push(record as CallRecord);
  });
  return { hook, calls, files };
}

/**
 * detect_face()'s return value as generate.py saves it (float64). With no
 * face, the shapes numpy leaves depend on where the cascade ran dry: no
 * candidate after stage 1 keeps `total_boxes = np.empty((0,9))` and `points =
 * np.empty(0)`; none passing R-Net gives (0, 5) and (0,); none passing O-Net
 * gives (0, 5) and `points[:, ipass]`, (10, 0).
 */
export function finalArrays(d: Detections, calls: CallRecord[]): { boxes: NpyArray; points: NpyArray } {
  const n = d.boxes.rows;
  const reached = (fn: TraceFn) => calls.some((c) => c.fn === fn);
  const boxCols = n > 0 || reached('rnet') ? 5 : 9;
  const points: NpyArray = n > 0 || reached('onet')
    ? { dtype: 'float64', shape: [10, n], data: Float64Array.from(d.points) }
    : { dtype: 'float64', shape: [0], data: new Float64Array(0) };
  return { boxes: { dtype: 'float64', shape: [n, boxCols], data: Float64Array.from(d.boxes.data) }, points };
}

/** A (rows, cols) or (n,) array as numpy's `tolist()` gives it. */
function toList(a: NpyArray): number[][] | number[] {
  const values = Array.from(a.data as Float64Array);
  if (a.shape.length === 1) return values;
  const [rows, cols] = a.shape;
  return Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols));
}

export interface TraceOptions extends DetectOptions {
  /** Keep every array as a file, whatever the photo's size (default: generate.py's rules). */
  full?: boolean;
  sha256: Sha256;
}

/**
 * Runs detect_face() on `img` and records it as generate.py would: trace.json
 * (with `image` = `name`) and every file of the trace folder.
 */
export function buildTrace(img: RgbImage, name: string, weights: MtcnnWeights, options: TraceOptions): Trace {
  const { full: _full, sha256: _sha256, ...detectOptions } = options;
  const opts = resolveOptions(detectOptions);
  const { height: h, width: w } = img;
  const full = options.full === true || h * w <= FULL_MAP_MAX_PIXELS;
  const recorder = traceRecorder(full, options.full === true, options.sha256);
  const detections = detectFace(img, weights, opts, recorder.hook);
  const final = finalArrays(detections, recorder.calls);
  const scales = computeScales(h, w, opts.minsize, opts.factor);
  const json: TraceJson = {
    image: name,
    height: h,
    width: w,
    image_digest: { dtype: 'uint8', shape: [h, w, 3], sha256: options.sha256(img.data) },
    params: { minsize: opts.minsize, threshold: [...opts.thresholds], factor: opts.factor },
    full_maps: full,
    scales,
    pyramid_sizes: scales.map((s) => levelSize(h, w, s)),
    faces: detections.boxes.rows,
    final_boxes: toList(final.boxes) as number[][],
    final_points: toList(final.points),
    calls: recorder.calls,
  };
  const files = recorder.files;
  files.set('final_boxes.npy', final.boxes);
  files.set('final_points.npy', final.points);
  return { json, files };
}
