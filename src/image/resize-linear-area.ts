/**
 * cv2.resize INTER_AREA when at least one axis grows: OpenCV then runs its
 * bilinear resizer (resizeGeneric_) with "area-mode" coefficients, a 2-tap
 * filter in BOTH axes that replicates pixels and blends only where an output
 * cell straddles a source-pixel border. Follows PATH L, §5 of
 * ../shared/mtcnn/OPENCV_INTER_AREA.md; dispatch is in imresample.ts.
 *
 * Buffers are (h, w, cn) interleaved, C order.
 * @module
 */
import { roundHalfEven } from './round-half-even.ts';

/**
 * One axis's taps: output index d reads source indices ofs[d] and ofs[d] + 1
 * with weights w0[d] and w1[d] (floats, as OpenCV keeps them). For x, outputs
 * from `xmax` on sit past the right border and copy source pixel ofs[d].
 */
export interface LinTab {
  ofs: Int32Array; // (dsize,) first source index
  w0: Float32Array; // (dsize,) weight of ofs[d]
  w1: Float32Array; // (dsize,) weight of ofs[d] + 1
  xmax: number; // first output index at the right border (dsize when none, and always for y)
}

/**
 * The area-mode table of resizeGeneric_ (§5.1). `isX`: only the x axis is
 * clamped at the right border; in y the rows are clamped when read
 * (linearArea*), but the weight is kept, so 47 -> 48 gives its last row a
 * tiny second weight of 7.1e-15.
 */
export function linTab(ssize: number, dsize: number, isX: boolean): LinTab {
  const inv = dsize / ssize; // double: inv_scale
  const scale = 1 / inv; // double: computed as OpenCV does, not ssize / dsize (§1)
  const ofs = new Int32Array(dsize);
  const w0 = new Float32Array(dsize);
  const w1 = new Float32Array(dsize);
  let xmax = dsize;
  for (let d = 0; d < dsize; d++) {
    let s = Math.floor(d * scale);
    // Where output cell d ends, past the start of source pixel s + 1, in
    // destination units; rounded to float BEFORE its fractional part is taken:
    // 68 -> 24 at d = 18 gives 0.99999999999999645, which the float makes 1.0,
    // whose fractional part is 0 (row 50 alone, not a blend towards row 51).
    let f = Math.fround(d + 1 - (s + 1) * inv);
    f = f <= 0 ? 0 : Math.fround(f - Math.floor(f));
    if (isX && s + 1 >= ssize) {
      xmax = Math.min(xmax, d);
      if (s >= ssize - 1) {
        f = 0;
        s = ssize - 1;
      }
    }
    ofs[d] = s;
    w0[d] = 1 - f; // the Float32Array store is C's float `1.f - fx`
    w1[d] = f;
  }
  return { ofs, w0, w1, xmax };
}

/**
 * INTER_RESIZE_COEF_BITS = 11: the uint8 resizer works in fixed point with
 * weights scaled by 2^11 and rounded to short.
 */
const COEF_SCALE = 2048;

/** Weights of one table in 11-bit fixed point, each rounded on its own (§5.3). (dsize,) int32. */
function fixedPoint(w: Float32Array): Int32Array {
  const iw = new Int32Array(w.length);
  for (let i = 0; i < w.length; i++) iw[i] = roundHalfEven(w[i] * COEF_SCALE); // *2048 is exact
  return iw;
}

/**
 * Horizontal pass of one uint8 source row into (dw, cn) int32 fixed-point
 * values (at most 255 * 2049).
 */
function hresizeU8(
  out: Int32Array,
  src: Uint8Array,
  rowStart: number,
  cn: number,
  dw: number,
  xtab: LinTab,
  iw0: Int32Array,
  iw1: Int32Array,
): void {
  const xofs = xtab.ofs, xmax = xtab.xmax;
  let dx = 0;
  for (; dx < xmax; dx++) {
    const s = rowStart + xofs[dx] * cn;
    const a0 = iw0[dx], a1 = iw1[dx];
    for (let c = 0; c < cn; c++) out[dx * cn + c] = src[s + c] * a0 + src[s + cn + c] * a1;
  }
  for (; dx < dw; dx++) {
    const s = rowStart + xofs[dx] * cn;
    for (let c = 0; c < cn; c++) out[dx * cn + c] = src[s + c] * COEF_SCALE;
  }
}

/**
 * Horizontal pass of one float64 source row into (dw, cn) doubles; the float
 * weights are used widened, never recomputed in double.
 */
function hresizeF64(
  out: Float64Array,
  src: Float64Array,
  rowStart: number,
  cn: number,
  dw: number,
  xtab: LinTab,
): void {
  const xofs = xtab.ofs, w0 = xtab.w0, w1 = xtab.w1, xmax = xtab.xmax;
  let dx = 0;
  for (; dx < xmax; dx++) {
    const s = rowStart + xofs[dx] * cn;
    const a0 = w0[dx], a1 = w1[dx];
    for (let c = 0; c < cn; c++) out[dx * cn + c] = src[s + c] * a0 + src[s + cn + c] * a1;
  }
  for (; dx < dw; dx++) {
    const s = rowStart + xofs[dx] * cn;
    for (let c = 0; c < cn; c++) out[dx * cn + c] = src[s + c];
  }
}

/**
 * uint8 source (§5.3): horizontal pass in 11-bit fixed point, then the
 * vertical blend of the two rows, each product shifted down separately:
 * `(((iv0 * (H0 >> 4)) >> 16) + ((iv1 * (H1 >> 4)) >> 16) + 2) >> 2`
 * (all values are non-negative and below 2^31, so `>>` is floor division).
 * `dst` is the (dh, dw, cn) output; every value already lies in 0..255.
 */
export function linearAreaU8(
  dst: Uint8Array,
  src: Uint8Array,
  sw: number,
  sh: number,
  cn: number,
  dw: number,
  dh: number,
  xtab: LinTab,
  ytab: LinTab,
): void {
  const iw0 = fixedPoint(xtab.w0), iw1 = fixedPoint(xtab.w1);
  const iv0 = fixedPoint(ytab.w0), iv1 = fixedPoint(ytab.w1);
  const rowLen = dw * cn;
  const srcRow = sw * cn;
  // Two horizontally resized source rows, (dw, cn) int32 each: hA holds row
  // rowA, hB row rowB. Output rows move down monotonically, so each source
  // row is resized once.
  let hA = new Int32Array(rowLen), hB = new Int32Array(rowLen);
  let rowA = -1, rowB = -1;
  for (let dy = 0; dy < dh; dy++) {
    const r0 = Math.min(ytab.ofs[dy], sh - 1);
    const r1 = Math.min(ytab.ofs[dy] + 1, sh - 1); // rows are clamped, not the weights
    if (r0 !== rowA) {
      if (r0 === rowB) {
        const t = hA; hA = hB; hB = t;
        rowB = rowA;
      } else {
        hresizeU8(hA, src, r0 * srcRow, cn, dw, xtab, iw0, iw1);
      }
      rowA = r0;
    }
    let h1 = hA;
    if (r1 !== rowA) {
      if (r1 !== rowB) {
        hresizeU8(hB, src, r1 * srcRow, cn, dw, xtab, iw0, iw1);
        rowB = r1;
      }
      h1 = hB;
    }
    const b0 = iv0[dy], b1 = iv1[dy];
    const d = dy * rowLen;
    for (let i = 0; i < rowLen; i++) {
      dst[d + i] = (((b0 * (hA[i] >> 4)) >> 16) + ((b1 * (h1[i] >> 4)) >> 16) + 2) >> 2;
    }
  }
}

/**
 * float64 source (§5.2): otherwise identical to linearAreaU8, in double with
 * the float weights, each product rounded on its own and then added (no
 * fused multiply-add, which JS never does).
 */
export function linearAreaF64(
  dst: Float64Array,
  src: Float64Array,
  sw: number,
  sh: number,
  cn: number,
  dw: number,
  dh: number,
  xtab: LinTab,
  ytab: LinTab,
): void {
  const v0 = ytab.w0, v1 = ytab.w1;
  const rowLen = dw * cn;
  const srcRow = sw * cn;
  let hA = new Float64Array(rowLen), hB = new Float64Array(rowLen);
  let rowA = -1, rowB = -1;
  for (let dy = 0; dy < dh; dy++) {
    const r0 = Math.min(ytab.ofs[dy], sh - 1);
    const r1 = Math.min(ytab.ofs[dy] + 1, sh - 1);
    if (r0 !== rowA) {
      if (r0 === rowB) {
        const t = hA; hA = hB; hB = t;
        rowB = rowA;
      } else {
        hresizeF64(hA, src, r0 * srcRow, cn, dw, xtab);
      }
      rowA = r0;
    }
    let h1 = hA;
    if (r1 !== rowA) {
      if (r1 !== rowB) {
        hresizeF64(hB, src, r1 * srcRow, cn, dw, xtab);
        rowB = r1;
      }
      h1 = hB;
    }
    const b0 = v0[dy], b1 = v1[dy];
    const d = dy * rowLen;
    for (let i = 0; i < rowLen; i++) dst[d + i] = hA[i] * b0 + h1[i] * b1;
  }
}
