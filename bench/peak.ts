/**
 * The scalar peak that bench/kernels.ts measures the real kernels against:
 * what plain JavaScript reaches on a 3x3 convolution when nothing gets in its
 * way. Stride 1, VALID, NHWC, weights packed and widened to float64 as
 * packConv does, float64 sums; no channel or pixel tails (OW and OC are
 * multiples of the blocks), no PReLU, no allocation, the 3x3 window written
 * into the loop bounds. Two register blockings, each otherwise identical:
 * 2 pixels x 4 channels (8 sums) and 4 pixels x 4 channels (16 sums); the
 * peak is the faster of the two on the same machine in the same run.
 */

/** Pack (3, 3, C, OC) HWIO weights as (OC / 4, 3, 3, C, 4) float64. */
export function packPeak(w: Float32Array, c: number, oc: number): Float64Array {
  const taps = 9 * c;
  const out = new Float64Array(taps * oc);
  for (let blk = 0; blk < oc / 4; blk++)
    for (let t = 0; t < taps; t++) for (let k = 0; k < 4; k++) out[(blk * taps + t) * 4 + k] = w[t * oc + blk * 4 + k];
  return out;
}

/** 2 pixels x 4 channels; OW = W - 2 must be even, OC a multiple of 4. */
export function peak2x4(out: Float32Array, x: Float32Array, h: number, w: number, c: number, wp: Float64Array, bias: Float32Array, oc: number): void {
  const oh = h - 2, ow = w - 2, xRow = w * c, rowTaps = 3 * c, blockStride = 3 * rowTaps * 4;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox += 2) {
      const xa = oy * xRow + ox * c, xb = xa + c;
      const oa = (oy * ow + ox) * oc, ob = oa + oc;
      for (let o = 0; o < oc; o += 4) {
        let a0 = bias[o], a1 = bias[o + 1], a2 = bias[o + 2], a3 = bias[o + 3];
        let b0 = a0, b1 = a1, b2 = a2, b3 = a3;
        let p = (o >> 2) * blockStride;
        for (let i = 0; i < 3; i++) {
          const ra = xa + i * xRow, rb = xb + i * xRow;
          for (let t = 0; t < rowTaps; t++) {
            const va = x[ra + t], vb = x[rb + t];
            let wv = wp[p];
            a0 += va * wv; b0 += vb * wv;
            wv = wp[p + 1];
            a1 += va * wv; b1 += vb * wv;
            wv = wp[p + 2];
            a2 += va * wv; b2 += vb * wv;
            wv = wp[p + 3];
            a3 += va * wv; b3 += vb * wv;
            p += 4;
          }
        }
        out[oa + o] = a0; out[oa + o + 1] = a1; out[oa + o + 2] = a2; out[oa + o + 3] = a3;
        out[ob + o] = b0; out[ob + o + 1] = b1; out[ob + o + 2] = b2; out[ob + o + 3] = b3;
      }
    }
  }
}

/** 4 pixels x 4 channels; OW = W - 2 must be a multiple of 4, OC a multiple of 4. */
export function peak4x4(out: Float32Array, x: Float32Array, h: number, w: number, c: number, wp: Float64Array, bias: Float32Array, oc: number): void {
  const oh = h - 2, ow = w - 2, xRow = w * c, rowTaps = 3 * c, blockStride = 3 * rowTaps * 4;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox += 4) {
      const xa = oy * xRow + ox * c, xb = xa + c, xc = xb + c, xd = xc + c;
      const oa = (oy * ow + ox) * oc;
      for (let o = 0; o < oc; o += 4) {
        let a0 = bias[o], a1 = bias[o + 1], a2 = bias[o + 2], a3 = bias[o + 3];
        let b0 = a0, b1 = a1, b2 = a2, b3 = a3;
        let c0 = a0, c1 = a1, c2 = a2, c3 = a3;
        let d0 = a0, d1 = a1, d2 = a2, d3 = a3;
        let p = (o >> 2) * blockStride;
        for (let i = 0; i < 3; i++) {
          const r = i * xRow, ra = xa + r, rb = xb + r, rc = xc + r, rd = xd + r;
          for (let t = 0; t < rowTaps; t++) {
            const va = x[ra + t], vb = x[rb + t], vc = x[rc + t], vd = x[rd + t];
            let wv = wp[p];
            a0 += va * wv; b0 += vb * wv; c0 += vc * wv; d0 += vd * wv;
            wv = wp[p + 1];
            a1 += va * wv; b1 += vb * wv; c1 += vc * wv; d1 += vd * wv;
            wv = wp[p + 2];
            a2 += va * wv; b2 += vb * wv; c2 += vc * wv; d2 += vd * wv;
            wv = wp[p + 3];
            a3 += va * wv; b3 += vb * wv; c3 += vc * wv; d3 += vd * wv;
            p += 4;
          }
        }
        let q = oa + o;
        out[q] = a0; out[q + 1] = a1; out[q + 2] = a2; out[q + 3] = a3;
        q += oc;
        out[q] = b0; out[q + 1] = b1; out[q + 2] = b2; out[q + 3] = b3;
        q += oc;
        out[q] = c0; out[q + 1] = c1; out[q + 2] = c2; out[q + 3] = c3;
        q += oc;
        out[q] = d0; out[q + 1] = d1; out[q + 2] = d2; out[q + 3] = d3;
      }
    }
  }
}
