/**
 * Max-pooling with a square window, NHWC: detect_face.py's
 * `Network.max_pool`, `tf.nn.max_pool(x, [1, k, k, 1], [1, s, s, 1], padding)`.
 *
 * 'SAME' pads with -inf (TF's convention for max-pool), the smaller half
 * before (shape.ts `samePads`), so padding never wins: a window is the max of
 * the input values it covers, and every window covers at least one. NaN
 * propagates, as with np.maximum in the reference numpy nets.
 * Dimension legend: see shape.ts.
 * @module
 */
import { outSize, pads, type Padding } from './shape.ts';

/**
 * The running maximum of each channel is kept in a local variable, four
 * channels at a time (m0..m3), over the window's rows and columns; channels
 * past the last multiple of four go one at a time, and each step is a
 * Math.max (NaN wins, as with np.maximum; a +0 beats a -0, a difference no
 * later layer can see: a zero times a weight adds nothing to a non-zero sum).
 * Measured side by side on the pools of the three nets (CPU time, Node 20,
 * AMD EPYC): 1.4-1.6x faster than keeping the running maxima in `out` with a
 * compare and update per window element.
 * @param out (N, OH, OW, C) NHWC f32, OH = outSize(H, K, S, padding), OW likewise
 * @param x (N, H, W, C) NHWC f32
 */
export function maxpool(
  out: Float32Array,
  x: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
  k: number,
  s: number,
  padding: Padding,
): void {
  const oh = outSize(h, k, s, padding);
  const ow = outSize(w, k, s, padding);
  const padTop = pads(h, k, s, padding).before;
  const padLeft = pads(w, k, s, padding).before;
  const xRowStride = w * c; // one step along H in x
  const xImageStride = h * xRowStride; // one step along N in x
  const c4 = c - (c % 4); // channels handled four at a time
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      // The window's rows, clipped to the input (rows outside are -inf padding).
      const y0 = oy * s - padTop;
      const yStart = y0 > 0 ? y0 : 0;
      const yEnd = y0 + k < h ? y0 + k : h;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * s - padLeft;
        const xStart = x0 > 0 ? x0 : 0;
        const xEnd = x0 + k < w ? x0 + k : w;
        const corner = b * xImageStride + yStart * xRowStride + xStart * c; // x[b, yStart, xStart, 0]
        const oo = ((b * oh + oy) * ow + ox) * c; // out[b, oy, ox, 0]
        for (let ci = 0; ci < c; ci += 4) {
          if (ci === c4) {
            // the last c % 4 channels, one at a time
            for (; ci < c; ci++) out[oo + ci] = windowMax(x, corner + ci, yEnd - yStart, xEnd - xStart, xRowStride, c);
            break;
          }
          let m0 = -Infinity, m1 = -Infinity, m2 = -Infinity, m3 = -Infinity;
          for (let yy = yStart, row = corner + ci; yy < yEnd; yy++, row += xRowStride) {
            for (let xx = xStart, xi = row; xx < xEnd; xx++, xi += c) {
              m0 = Math.max(m0, x[xi]);
              m1 = Math.max(m1, x[xi + 1]);
              m2 = Math.max(m2, x[xi + 2]);
              m3 = Math.max(m3, x[xi + 3]);
            }
          }
          out[oo + ci] = m0;
          out[oo + ci + 1] = m1;
          out[oo + ci + 2] = m2;
          out[oo + ci + 3] = m3;
        }
      }
    }
  }
}

/** The max of one channel over a rows x cols window whose first element is x[at]. */
function windowMax(x: Float32Array, at: number, rows: number, cols: number, rowStride: number, c: number): number {
  let m = -Infinity;
  for (let r = 0, row = at; r < rows; r++, row += rowStride) {
    for (let j = 0, xi = row; j < cols; j++, xi += c) m = Math.max(m, x[xi]);
  }
  return m;
}
