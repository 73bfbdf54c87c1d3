/**
 * cv2.resize INTER_AREA when both axes shrink (or keep their size) and at
 * least one ratio is fractional ("area general", OpenCV's resizeArea_): a true
 * box filter with fractional overlaps, separable in x then y. Follows PATH G,
 * §3 of ../shared/mtcnn/OPENCV_INTER_AREA.md; dispatch is in imresample.ts.
 *
 * Buffers are (h, w, cn) interleaved, C order.
 * @module
 */

/**
 * One axis's weights in compressed-row form: output index d reads the entries
 * start[d] .. start[d + 1] - 1, each a source offset (`index * stride`, so x
 * entries point at a pixel and y entries at a row) and a weight. Weights are
 * computed in double and stored as float (Float32Array), as OpenCV's table
 * holds them; the kernels read them back widened to double, exactly.
 */
export interface AreaTab {
  start: Int32Array; // (dsize + 1,) first entry of each output index
  offset: Int32Array; // (entries,) source index * stride
  weight: Float32Array; // (entries,) float weights
}

/**
 * Below this overlap (in source pixels) a partial pixel is dropped, not
 * renormalised: OpenCV's computeResizeAreaTab threshold. So one cell's weights
 * need not sum to exactly 1.
 */
const MIN_OVERLAP = 1e-3;

/**
 * computeResizeAreaTab (§3.1). `scale` = 1 / (dsize / ssize) >= 1, computed
 * by the caller exactly that way. Nothing is mirrored at the border: the last
 * cell is cut at ssize - 1 and its width at ssize - f1.
 */
export function areaTab(ssize: number, dsize: number, scale: number, stride: number): AreaTab {
  // Fully covered pixels are disjoint across cells (at most ssize in all),
  // plus at most one partial pixel on each side of every cell.
  const capacity = ssize + 2 * dsize;
  const start = new Int32Array(dsize + 1);
  const offset = new Int32Array(capacity);
  const weight = new Float32Array(capacity);
  let k = 0;
  for (let d = 0; d < dsize; d++) {
    start[d] = k;
    const f1 = d * scale; // left edge of the cell, in source pixels (double)
    const f2 = f1 + scale; // right edge
    const cell = Math.min(scale, ssize - f1); // cell width, cut at the border
    const s2 = Math.min(Math.floor(f2), ssize - 1);
    const s1 = Math.min(Math.ceil(f1), s2);
    if (s1 - f1 > MIN_OVERLAP) {
      // partial pixel on the left
      offset[k] = (s1 - 1) * stride;
      weight[k++] = (s1 - f1) / cell;
    }
    for (let s = s1; s < s2; s++) {
      offset[k] = s * stride;
      weight[k++] = 1 / cell;
    }
    if (f2 - s2 > MIN_OVERLAP) {
      // partial pixel on the right, or the clamped last pixel
      offset[k] = s2 * stride;
      weight[k++] = Math.min(f2 - s2, 1, cell) / cell;
    }
  }
  start[dsize] = k;
  return { start, offset, weight };
}

/**
 * uint8 source: the working type is float, so every product and sum is
 * rounded to binary32 (Math.fround) in OpenCV's order: each horizontal sum
 * left to right over a cell's x entries, then the vertical sum top to bottom,
 * `acc = acc + beta * rowsum` (§3.2). Accumulating in double instead changes
 * about 1 pixel in 10^4. `dst` is a Uint8ClampedArray view of the (dh, dw, cn)
 * output: its stores are sat8(rne(acc)), OpenCV's saturate_cast<uchar>(float).
 */
export function areaGeneralU8(
  dst: Uint8ClampedArray,
  src: Uint8Array,
  cn: number,
  dw: number,
  dh: number,
  xtab: AreaTab,
  ytab: AreaTab,
): void {
  const rowLen = dw * cn;
  const buf = new Float32Array(rowLen); // (dw, cn) horizontal sums of source row `bufRow`
  const acc = new Float32Array(rowLen); // (dw, cn) vertical accumulator of output row dy
  const xStart = xtab.start, xOffset = xtab.offset, xWeight = xtab.weight;
  let bufRow = -1;
  for (let dy = 0; dy < dh; dy++) {
    acc.fill(0);
    for (let j = ytab.start[dy]; j < ytab.start[dy + 1]; j++) {
      const row = ytab.offset[j]; // offset of source row sy
      // Neighbouring output rows share their border source row; its
      // horizontal sums are the same numbers either time, so reuse them.
      if (row !== bufRow) {
        if (cn === 3) horizontalU8Rgb(buf, src, row, dw, xtab);
        else {
          for (let dx = 0; dx < dw; dx++) {
            const e0 = xStart[dx], e1 = xStart[dx + 1];
            for (let c = 0; c < cn; c++) {
              let t = 0;
              for (let e = e0; e < e1; e++) {
                t = Math.fround(t + Math.fround(src[row + xOffset[e] + c] * xWeight[e]));
              }
              buf[dx * cn + c] = t;
            }
          }
        }
        bufRow = row;
      }
      const beta = ytab.weight[j];
      for (let i = 0; i < rowLen; i++) acc[i] = Math.fround(acc[i] + Math.fround(beta * buf[i]));
    }
    const d = dy * rowLen;
    for (let i = 0; i < rowLen; i++) dst[d + i] = acc[i];
  }
}

/**
 * float64 source: otherwise identical to areaGeneralU8, with double as the
 * working type (plain JS arithmetic, no rounding to float) and no rounding of
 * the result.
 */
export function areaGeneralF64(
  dst: Float64Array,
  src: Float64Array,
  cn: number,
  dw: number,
  dh: number,
  xtab: AreaTab,
  ytab: AreaTab,
): void {
  const rowLen = dw * cn;
  const buf = new Float64Array(rowLen); // (dw, cn) horizontal sums of source row `bufRow`
  const acc = new Float64Array(rowLen); // (dw, cn) vertical accumulator of output row dy
  const xStart = xtab.start, xOffset = xtab.offset, xWeight = xtab.weight;
  let bufRow = -1;
  for (let dy = 0; dy < dh; dy++) {
    acc.fill(0);
    for (let j = ytab.start[dy]; j < ytab.start[dy + 1]; j++) {
      const row = ytab.offset[j];
      if (row !== bufRow) {
        if (cn === 3) horizontalF64Rgb(buf, src, row, dw, xtab);
        else {
          for (let dx = 0; dx < dw; dx++) {
            const e0 = xStart[dx], e1 = xStart[dx + 1];
            for (let c = 0; c < cn; c++) {
              let t = 0;
              for (let e = e0; e < e1; e++) t += src[row + xOffset[e] + c] * xWeight[e];
              buf[dx * cn + c] = t;
            }
          }
        }
        bufRow = row;
      }
      const beta = ytab.weight[j];
      for (let i = 0; i < rowLen; i++) acc[i] += beta * buf[i];
    }
    dst.set(acc, dy * rowLen);
  }
}

/**
 * The horizontal pass of areaGeneralU8 for one source row of an RGB image
 * (cn = 3, every image and crop of the pipeline): otherwise identical to the
 * generic loop, with the three channels' sums run side by side so that each
 * table entry is read once for all three. The same operations in the same
 * order for each channel: the same bits. Measured on bbt1's 11 pyramid
 * levels (CPU time, Node 20): the whole resize 1.7x faster.
 */
function horizontalU8Rgb(buf: Float32Array, src: Uint8Array, row: number, dw: number, xtab: AreaTab): void {
  const xStart = xtab.start, xOffset = xtab.offset, xWeight = xtab.weight;
  for (let dx = 0; dx < dw; dx++) {
    let t0 = 0, t1 = 0, t2 = 0;
    for (let e = xStart[dx], e1 = xStart[dx + 1]; e < e1; e++) {
      const at = row + xOffset[e], beta = xWeight[e];
      t0 = Math.fround(t0 + Math.fround(src[at] * beta));
      t1 = Math.fround(t1 + Math.fround(src[at + 1] * beta));
      t2 = Math.fround(t2 + Math.fround(src[at + 2] * beta));
    }
    buf[dx * 3] = t0;
    buf[dx * 3 + 1] = t1;
    buf[dx * 3 + 2] = t2;
  }
}

/** The same for areaGeneralF64 (double sums, no rounding). Measured on 300 crops of 30-200 px to 24x24 and 48x48: 1.7x faster. */
function horizontalF64Rgb(buf: Float64Array, src: Float64Array, row: number, dw: number, xtab: AreaTab): void {
  const xStart = xtab.start, xOffset = xtab.offset, xWeight = xtab.weight;
  for (let dx = 0; dx < dw; dx++) {
    let t0 = 0, t1 = 0, t2 = 0;
    for (let e = xStart[dx], e1 = xStart[dx + 1]; e < e1; e++) {
      const at = row + xOffset[e], beta = xWeight[e];
      t0 += src[at] * beta;
      t1 += src[at + 1] * beta;
      t2 += src[at + 2] * beta;
    }
    buf[dx * 3] = t0;
    buf[dx * 3 + 1] = t1;
    buf[dx * 3 + 2] = t2;
  }
}
