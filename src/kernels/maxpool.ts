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
        // out[b, oy, ox, :] holds the running max over the window, all channels at once.
        const oo = ((b * oh + oy) * ow + ox) * c;
        for (let ci = 0; ci < c; ci++) out[oo + ci] = -Infinity;
        for (let yy = yStart; yy < yEnd; yy++) {
          for (let xx = xStart; xx < xEnd; xx++) {
            const xi = b * xImageStride + yy * xRowStride + xx * c; // x[b, yy, xx, 0]
            for (let ci = 0; ci < c; ci++) {
              const v = x[xi + ci];
              // v !== v: NaN wins, and then stays (v > NaN is false)
              if (v > out[oo + ci] || v !== v) out[oo + ci] = v;
            }
          }
        }
      }
    }
  }
}
