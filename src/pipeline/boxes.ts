/**
 * facenet's box helpers, ported from detect_face.py: generateBoundingBox,
 * nms, rerec, pad and bbreg, on a small float64 (rows, cols) array type that
 * stands in for the numpy arrays they pass around.
 *
 * Every float64 expression follows the reference's, operation by operation
 * and in its order (JavaScript evaluates `a + b*c - d*e` left to right, as
 * numpy's elementwise expressions do), so results are bit-identical; `np.fix`
 * is Math.trunc. The MATLAB heritage shows as `+1` widths and 1-based indices;
 * each is named where it occurs.
 *
 * np.maximum / np.minimum become Math.max / Math.min: both propagate NaN and
 * agree on every value except the sign of a zero when comparing +0 with -0,
 * which numpy itself does not pin (its SIMD and scalar loops differ there).
 * @module
 */

/** A 2-D float64 array, row-major, like the numpy arrays of detect_face.py. */
export interface BoxArray {
  rows: number;
  cols: number;
  data: Float64Array; // (rows, cols) row-major
}

/**
 * Rows `idx` of `b`, as numpy's `b[idx, :]`: a negative index counts from the
 * end. That matters for nms's int16 picks, which wrap to negative values past
 * 32767 and then select, as in numpy, row `rows + idx`.
 */
export function takeRows(b: BoxArray, idx: ArrayLike<number>): BoxArray {
  const cols = b.cols;
  const data = new Float64Array(idx.length * cols); // (idx.length, cols)
  for (let k = 0; k < idx.length; k++) {
    const r = idx[k] < 0 ? idx[k] + b.rows : idx[k];
    if (!(r >= 0 && r < b.rows)) {
      throw new RangeError(`takeRows: index ${idx[k]} is out of bounds for ${b.rows} rows`);
    }
    data.set(b.data.subarray(r * cols, r * cols + cols), k * cols);
  }
  return { rows: idx.length, cols, data };
}

/** P-Net's output stride in input pixels, from its one 2x2/2 max-pool (generateBoundingBox: `stride=2`). */
const STRIDE = 2;
/** P-Net's receptive field, the 12 x 12 window one output cell sees (`cellsize=12`). */
const CELLSIZE = 12;
/** Regression channels per cell: dx1, dy1, dx2, dy2. */
const REG_CHANNELS = 4;
/** generateBoundingBox's rows: x1 y1 x2 y2 score dx1 dy1 dx2 dy2. */
const GBB_COLS = 9;
/**
 * Columns of generateBoundingBox's result when no cell passes: q1 (2) + q2 (2)
 * + score (1) + the reference's placeholder `reg = np.empty((0,3))` (3).
 */
const GBB_EMPTY_COLS = 8;

/**
 * Stage 1's candidate boxes from one pyramid level (detect_face.py
 * generateBoundingBox). The inputs are what detect_face passes after
 * transposing P-Net's outputs back: the face probability map
 * `out1[0,:,:,1]` and the regression `out0[0,:,:,:]`.
 *
 * @param imap (h, w) f32: face probability per cell
 * @param reg (h, w, 4) f32: dx1 dy1 dx2 dy2 per cell
 * @param scale the level's scale; boxes are mapped back to the image by `/scale`
 * @param t stage 1's threshold; a cell passes when `imap >= t`
 * @returns (n, 9) f64: x1 y1 x2 y2 score dx1 dy1 dx2 dy2, or (0, 8) when no cell passes
 */
export function generateBoundingBox(
  imap: Float32Array,
  reg: Float32Array,
  h: number,
  w: number,
  scale: number,
  t: number,
): BoxArray {
  // `imap >= t` compares a float32 array with a Python float: numpy does it in
  // float32 (value-based casting before numpy 2, a "weak" scalar since), i.e.
  // against float32(t). For a float32 value v, `v >= fround(t)` differs from
  // `v >= t` when fround(t) rounds down (t = 0.7: v = fround(0.7) passes).
  const t32 = Math.fround(t);

  // The reference transposes everything to (w, h), the MATLAB column-major
  // view, and takes `y, x = np.where(imap >= t)` there: candidates are in
  // row-major order of the transposed map, i.e. column by column of imap.
  // Its y is our column c (the box's x), its x our row r (the box's y).
  let n = 0;
  for (let c = 0; c < w; c++) {
    for (let r = 0; r < h; r++) if (imap[r * w + c] >= t32) n++;
  }
  // Quirk: with no candidate the reference hstacks its `np.empty((0,3))`
  // placeholder for reg, so the result is (0, 8), not (0, 9).
  if (n === 0) return { rows: 0, cols: GBB_EMPTY_COLS, data: new Float64Array(0) };

  // Quirk (a leftover of the MATLAB port): when exactly one cell passes
  // (`if y.shape[0]==1`), the four transposed (w, h) regression maps are
  // flipped upside down (np.flipud) before indexing, so the candidate at
  // transposed (c, r) reads the regression of transposed (w-1-c, r), i.e. of
  // imap's cell (r, w-1-c).
  const flipud = n === 1;

  const out = new Float64Array(n * GBB_COLS); // (n, 9) f64: x1 y1 x2 y2 score dx1 dy1 dx2 dy2
  let o = 0;
  for (let c = 0; c < w; c++) {
    for (let r = 0; r < h; r++) {
      const score = imap[r * w + c];
      if (!(score >= t32)) continue;
      const regOff = (r * w + (flipud ? w - 1 - c : c)) * REG_CHANNELS;
      // q1 = fix((stride*bb+1)/scale), q2 = fix((stride*bb+cellsize-1+1)/scale):
      // the cell's 12 x 12 window at 1-based MATLAB pixel coordinates (the +1),
      // from its first pixel to its last (cellsize-1), mapped back to the
      // image. The numerators are exact integers (int64 in numpy).
      out[o] = Math.trunc((STRIDE * c + 1) / scale);
      out[o + 1] = Math.trunc((STRIDE * r + 1) / scale);
      out[o + 2] = Math.trunc((STRIDE * c + CELLSIZE - 1 + 1) / scale);
      out[o + 3] = Math.trunc((STRIDE * r + CELLSIZE - 1 + 1) / scale);
      out[o + 4] = score;
      out[o + 5] = reg[regOff];
      out[o + 6] = reg[regOff + 1];
      out[o + 7] = reg[regOff + 2];
      out[o + 8] = reg[regOff + 3];
      o += GBB_COLS;
    }
  }
  return { rows: n, cols: GBB_COLS, data: out };
}

/**
 * Greedy non-maximum suppression (detect_face.py nms): repeatedly keep the
 * highest-scoring remaining box and drop every other whose overlap with it
 * exceeds `threshold`.
 *
 * - Areas use MATLAB's inclusive pixel counts, `(x2-x1+1) * (y2-y1+1)`.
 * - A box survives a round when `o <= threshold`; a NaN overlap drops it.
 * - Order: a stable ascending sort of the scores, picking from the end, so
 *   among equal scores the box at the higher index is picked first (the
 *   goldens pin np.argsort to its stable kind: README, "Ties in nms").
 * - 'Min' divides the intersection by the smaller area (stage 3), 'Union' by
 *   the union (the reference tests `method is 'Min'`; anything else is Union).
 *
 * @param boxes (n, >=5) f64: x1 y1 x2 y2 score ...
 * @returns (k,) int16: indices of the kept boxes, in the order they were kept.
 *   int16 like the reference's `np.zeros_like(s, dtype=np.int16)`: an index
 *   past 32767 wraps negative, and takeRows then counts it from the end, as
 *   numpy's indexing does.
 */
export function nms(boxes: BoxArray, threshold: number, method: 'Union' | 'Min'): Int16Array {
  // The reference returns np.empty((0,3)) (float) for an empty input. Its
  // callers only look at that result's size (stage 1: `if boxes.size>0 and
  // pick.size>0`); the later stages call nms on non-empty inputs only. An
  // empty Int16Array has the same size, 0.
  if (boxes.data.length === 0) return new Int16Array(0);

  const n = boxes.rows;
  const cols = boxes.cols;
  const data = boxes.data;
  const x1 = new Float64Array(n); // (n,) f64 columns of boxes, and each box's area
  const y1 = new Float64Array(n);
  const x2 = new Float64Array(n);
  const y2 = new Float64Array(n);
  const area = new Float64Array(n);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const off = i * cols;
    x1[i] = data[off];
    y1[i] = data[off + 1];
    x2[i] = data[off + 2];
    y2[i] = data[off + 3];
    s[i] = data[off + 4];
    area[i] = (x2[i] - x1[i] + 1) * (y2[i] - y1[i] + 1); // +1: inclusive pixel count
  }

  // I = np.argsort(s), stable: equal scores keep index order, NaNs go last as
  // in numpy's sort. The index tie-break makes the comparator total, so the
  // result does not depend on the sort algorithm's own stability.
  const I = new Int32Array(n); // (n,) box indices, ascending score
  for (let i = 0; i < n; i++) I[i] = i;
  I.sort((a, b) => {
    const sa = s[a],
      sb = s[b];
    if (sa < sb) return -1;
    if (sa > sb) return 1;
    const nanA = sa !== sa,
      nanB = sb !== sb;
    if (nanA !== nanB) return nanA ? 1 : -1;
    return a - b;
  });

  const pick = new Int16Array(n); // (n,) int16; storing wraps past 32767 like numpy's int16 cast
  const useMin = method === 'Min';
  let counter = 0;
  let remaining = n; // I[0:remaining] is the reference's I
  while (remaining > 0) {
    const i = I[remaining - 1];
    pick[counter++] = i;
    const x1i = x1[i],
      y1i = y1[i],
      x2i = x2[i],
      y2i = y2[i],
      areai = area[i];
    // idx = I[0:-1]; I = I[np.where(o<=threshold)]: compacted in place, which
    // keeps the survivors in their ascending-score order.
    let kept = 0;
    for (let j = 0; j < remaining - 1; j++) {
      const k = I[j];
      const xx1 = Math.max(x1i, x1[k]);
      const yy1 = Math.max(y1i, y1[k]);
      const xx2 = Math.min(x2i, x2[k]);
      const yy2 = Math.min(y2i, y2[k]);
      const iw = Math.max(0.0, xx2 - xx1 + 1); // +1: inclusive, as the areas
      const ih = Math.max(0.0, yy2 - yy1 + 1);
      const inter = iw * ih;
      const o = useMin ? inter / Math.min(areai, area[k]) : inter / (areai + area[k] - inter);
      if (o <= threshold) I[kept++] = k;
    }
    remaining = kept;
  }
  return pick.slice(0, counter);
}

/**
 * Squares each box about its centre, on its longer side (detect_face.py
 * rerec). Columns past the fourth are copied unchanged. Returns a new array
 * (the reference modifies the copy it is given and returns it).
 *
 * @param b (n, >=4) f64: x1 y1 x2 y2 ...
 * @returns (n, b.cols) f64
 */
export function rerec(b: BoxArray): BoxArray {
  const cols = b.cols;
  const out = b.data.slice(); // (n, cols) f64
  for (let i = 0; i < b.rows; i++) {
    const off = i * cols;
    const h = out[off + 3] - out[off + 1];
    const w = out[off + 2] - out[off];
    const l = Math.max(w, h);
    // bboxA[:,0] = bboxA[:,0]+w*0.5-l*0.5, evaluated left to right as in numpy
    out[off] = out[off] + w * 0.5 - l * 0.5;
    out[off + 1] = out[off + 1] + h * 0.5 - l * 0.5;
    // bboxA[:,2:4] = bboxA[:,0:2] + l, from the new corner
    out[off + 2] = out[off] + l;
    out[off + 3] = out[off + 1] + l;
  }
  return { rows: b.rows, cols, data: out };
}

/**
 * The padded crop of each box (detect_face.py pad): which part of the image
 * each box covers (y:ey, x:ex) and where that part lands in a zero-filled
 * crop of the box's full size (dy:edy, dx:edx, in a tmph x tmpw crop).
 *
 * All indices are 1-based and inclusive, as in MATLAB: callers slice
 * `[y-1, ey)`. Box coordinates become int32 by truncation toward zero, as
 * `.astype(np.int32)` does (storing a double into an Int32Array truncates;
 * for NaN or values beyond int32, which the reference's C cast leaves
 * undefined, the two can differ).
 */
export interface PadResult {
  dy: Int32Array; // (n,) first row of the crop that receives image pixels (1-based)
  edy: Int32Array; // (n,) last such row (inclusive)
  dx: Int32Array; // (n,) first such column
  edx: Int32Array; // (n,) last such column
  y: Int32Array; // (n,) first image row copied (1-based)
  ey: Int32Array; // (n,) last image row copied (inclusive)
  x: Int32Array; // (n,) first image column copied
  ex: Int32Array; // (n,) last image column copied
  tmpw: Int32Array; // (n,) crop width, x2 - x1 + 1
  tmph: Int32Array; // (n,) crop height, y2 - y1 + 1
}

/**
 * @param total (n, >=4) f64: x1 y1 x2 y2 ... (whole numbers where detect_face calls it)
 * @param w image width, h image height (note the order, as in the reference)
 */
export function pad(total: BoxArray, w: number, h: number): PadResult {
  const n = total.rows;
  const cols = total.cols;
  const b = total.data;
  const r: PadResult = {
    dy: new Int32Array(n),
    edy: new Int32Array(n),
    dx: new Int32Array(n),
    edx: new Int32Array(n),
    y: new Int32Array(n),
    ey: new Int32Array(n),
    x: new Int32Array(n),
    ex: new Int32Array(n),
    tmpw: new Int32Array(n),
    tmph: new Int32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const off = i * cols;
    // tmpw = (x2-x1+1).astype(np.int32): the +1 counts both end pixels
    r.tmpw[i] = b[off + 2] - b[off] + 1;
    r.tmph[i] = b[off + 3] - b[off + 1] + 1;
    // dx = dy = 1 (1-based first crop pixel); edx, edy = the crop's full size
    r.dx[i] = 1;
    r.dy[i] = 1;
    r.edx[i] = r.tmpw[i];
    r.edy[i] = r.tmph[i];
    r.x[i] = b[off];
    r.y[i] = b[off + 1];
    r.ex[i] = b[off + 2];
    r.ey[i] = b[off + 3];

    // Each test reads the int32 box coordinates as they were before any of
    // the clamps below, as the reference's four np.where do.
    if (r.ex[i] > w) {
      // past the right border: copy up to column w; the crop's last column shrinks by ex - w
      r.edx[i] = -r.ex[i] + w + r.tmpw[i];
      r.ex[i] = w;
    }
    if (r.ey[i] > h) {
      r.edy[i] = -r.ey[i] + h + r.tmph[i];
      r.ey[i] = h;
    }
    if (r.x[i] < 1) {
      // left of the first (1-based) column: the crop starts 1 - x columns in, at 2 - x
      r.dx[i] = 2 - r.x[i];
      r.x[i] = 1;
    }
    if (r.y[i] < 1) {
      r.dy[i] = 2 - r.y[i];
      r.y[i] = 1;
    }
  }
  return r;
}

/**
 * Calibrates boxes with a network's regression (detect_face.py bbreg): each
 * corner moves by its offset times the box's `+1` (inclusive) width or height.
 * Columns past the fourth are copied unchanged. Returns a new array.
 *
 * The reference first reshapes a 4-D `reg` whose second axis is 1; detect_face
 * always passes the (n, 4) transpose of a net output, which is what this takes.
 *
 * @param b (n, >=4) f64: x1 y1 x2 y2 ...
 * @param reg (n, 4): dx1 dy1 dx2 dy2 (float32 values from R-Net / O-Net)
 * @returns (n, b.cols) f64
 */
export function bbreg(b: BoxArray, reg: ArrayLike<number>): BoxArray {
  const cols = b.cols;
  const out = b.data.slice(); // (n, cols) f64
  for (let i = 0; i < b.rows; i++) {
    const off = i * cols;
    const ro = i * REG_CHANNELS;
    const w = out[off + 2] - out[off] + 1;
    const h = out[off + 3] - out[off + 1] + 1;
    const b1 = out[off] + reg[ro] * w;
    const b2 = out[off + 1] + reg[ro + 1] * h;
    const b3 = out[off + 2] + reg[ro + 2] * w;
    const b4 = out[off + 3] + reg[ro + 3] * h;
    out[off] = b1;
    out[off + 1] = b2;
    out[off + 2] = b3;
    out[off + 3] = b4;
  }
  return { rows: b.rows, cols, data: out };
}
