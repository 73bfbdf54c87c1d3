/**
 * 2-D convolution, stride 1, 'VALID' padding, bias added: TF's
 * `tf.nn.conv2d(x, kernel, [1, 1, 1, 1], 'VALID')` followed by
 * `tf.nn.bias_add`, as every conv layer of detect_face.py's PNet, RNet and
 * ONet uses it (`Network.conv` with `relu=False`).
 *
 * Two versions: `conv2dNaive`, the definition written out as plainly as
 * possible, and `conv2d`, which runs on a layer packed once by `packConv` so
 * that PIXEL_BLOCK output pixels times OC_BLOCK channels are computed
 * together, and can apply the PReLU that follows every hidden conv layer as
 * it stores (the separate pass over the output is then skipped).
 * Both sum each output in float64 (a JS number), in the same order (bias,
 * then (kh, kw, c) ascending), and round it to float32 once when storing, so
 * their results are bit-identical (test/kernels.test.ts checks this).
 *
 * In the nets, conv2d runs P-Net's 1 x 1 heads and (through dense.ts) the
 * fc layers; the 3 x 3 and 2 x 2 layers run by Winograd (winograd.ts), which
 * the tests check against conv2dNaive, the definition.
 * Dimension legend: see shape.ts.
 * @module
 */
import { validOut } from './shape.ts';

/**
 * The plain definition: out[b, oy, ox, o] = bias[o] + sum over (i, j, ci) of
 * x[b, oy + i, ox + j, ci] * w[i, j, ci, o].
 * @param out (N, OH, OW, OC) NHWC f32, OH = H - KH + 1, OW = W - KW + 1
 * @param x (N, H, W, C) NHWC f32
 * @param w (KH, KW, C, OC) HWIO f32
 * @param bias (OC,) f32
 */
export function conv2dNaive(
  out: Float32Array,
  x: Float32Array,
  n: number,
  h: number,
  width: number,
  c: number,
  w: Float32Array,
  bias: Float32Array,
  kh: number,
  kw: number,
  oc: number,
): void {
  const oh = validOut(h, kh, 1);
  const ow = validOut(width, kw, 1);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let o = 0; o < oc; o++) {
          let acc = bias[o];
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) {
              for (let ci = 0; ci < c; ci++) {
                const xv = x[((b * h + oy + i) * width + ox + j) * c + ci];
                acc += xv * w[((i * kw + j) * c + ci) * oc + o];
              }
            }
          }
          out[((b * oh + oy) * ow + ox) * oc + o] = acc;
        }
      }
    }
  }
}

/**
 * Register blocking of `conv2d`: each weight loaded serves PIXEL_BLOCK output
 * pixels and each input value OC_BLOCK channels, the 4 x 4 sums held in
 * local variables (V8 keeps some in registers and spills the others). The
 * sizes are written out by hand in conv2d's inner loop (s00..s33).
 *
 * What limits a JS kernel here is not the multiplies but what V8 emits around
 * each typed-array load (a bounds check, an overflow check on the index, the
 * array's map check once per iteration, about eight instructions a load) and
 * the sums it spills to the stack: 2 x 4, 4 x 4, 3 x 4, 4 x 8 and 8 x 4
 * blocks all land within about 10% of each other, in an order that changes
 * from run to run (bench/peak.ts keeps 2 x 4 and 4 x 4 as the peak).
 * Measured side by side against the kernel this replaces (2 pixels x 4
 * channels along one row, float32 weights repacked per call, PReLU as a
 * second pass), CPU time, Node 20, AMD EPYC: P-Net's layers 1.12-1.22x
 * faster, R-Net's and O-Net's 1.3-1.7x (their small maps no longer round
 * each row up to whole pixel pairs).
 */
export const PIXEL_BLOCK = 4;
export const OC_BLOCK = 4;

/**
 * A conv layer made ready for `conv2d`, once per weights (src/nets/layers.ts
 * caches it): output channels cut into blocks of OC_BLOCK, and within a
 * block the OC_BLOCK weights that multiply the same input value adjacent.
 * Values are widened to float64 here, once, so the inner loop does not
 * convert each weight it loads (exact: every float32 is a float64).
 * Channels past OC in the last block get zero weights and bias (their sums
 * are computed and never stored).
 */
export interface PackedConv {
  kh: number;
  kw: number;
  c: number;
  oc: number;
  /** (ceil(OC / OC_BLOCK), KH, KW, C, OC_BLOCK) f64 */
  weights: Float64Array;
  /** (ceil(OC / OC_BLOCK) * OC_BLOCK,) f64, zero past OC */
  bias: Float64Array;
}

/**
 * @param w (KH, KW, C, OC) HWIO f32
 * @param bias (OC,) f32
 */
export function packConv(w: Float32Array, bias: Float32Array, kh: number, kw: number, c: number, oc: number): PackedConv {
  const taps = kh * kw * c; // one (i, j, ci) per row of w
  const blocks = ((oc + OC_BLOCK - 1) / OC_BLOCK) | 0; // ceil, in integers
  const weights = new Float64Array(blocks * taps * OC_BLOCK);
  for (let blk = 0; blk < blocks; blk++) {
    for (let t = 0; t < taps; t++) {
      for (let k = 0; k < OC_BLOCK; k++) {
        const o = blk * OC_BLOCK + k;
        weights[(blk * taps + t) * OC_BLOCK + k] = o < oc ? w[t * oc + o] : 0;
      }
    }
  }
  const paddedBias = new Float64Array(blocks * OC_BLOCK);
  paddedBias.set(bias.subarray(0, oc));
  return { kh, kw, c, oc, weights, bias: paddedBias };
}

/**
 * Otherwise identical to conv2dNaive (then `prelu` when alpha is given), on a
 * layer packed by packConv. The output pixels of the whole batch, in NHWC
 * order, are taken PIXEL_BLOCK at a time (a block may straddle rows and
 * images: each pixel has its own window offset), and for each block of
 * OC_BLOCK channels 16 float64 sums run over the kernel window, whose rows
 * are contiguous KW * C runs of x. When the pixel count is not a multiple of
 * PIXEL_BLOCK the last block repeats its last pixel (computed and stored
 * again, the same value).
 *
 * With `alpha`, each sum is rounded to float32 and then given PReLU exactly
 * as `prelu` would (alpha * v for v < 0, stored as float32): the two passes'
 * result, bit for bit.
 * @param out (N, OH, OW, OC) NHWC f32, OH = H - KH + 1, OW = W - KW + 1
 * @param x (N, H, W, C) NHWC f32
 * @param alpha (OC,) f32 PReLU slopes, or null for the plain conv + bias
 */
export function conv2d(
  out: Float32Array,
  x: Float32Array,
  n: number,
  h: number,
  width: number,
  layer: PackedConv,
  alpha: Float32Array | null = null,
): void {
  const { kh, kw, c, oc, weights: wp, bias } = layer;
  const oh = validOut(h, kh, 1);
  const ow = validOut(width, kw, 1);
  const pixels = n * oh * ow;
  const xRowStride = width * c; // one step along H in x
  const rowTaps = kw * c; // contiguous x values under one kernel row
  const blockStride = kh * rowTaps * OC_BLOCK; // one block of OC_BLOCK channels in wp
  const blocks = ((oc + OC_BLOCK - 1) / OC_BLOCK) | 0; // ceil, in integers

  // Offset in x of each output pixel's window, x[img, oy, ox, 0].
  const windowAt = new Int32Array(pixels);
  for (let img = 0, q = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) windowAt[q++] = ((img * h + oy) * width + ox) * c;
    }
  }

  for (let q = 0; q < pixels; q += PIXEL_BLOCK) {
    // The block's pixels q0..q3 (the last one repeated past the end).
    const q0 = q;
    const q1 = q0 + 1 < pixels ? q0 + 1 : q0;
    const q2 = q1 + 1 < pixels ? q1 + 1 : q1;
    const q3 = q2 + 1 < pixels ? q2 + 1 : q2;
    const x0 = windowAt[q0], x1 = windowAt[q1], x2 = windowAt[q2], x3 = windowAt[q3];
    for (let blk = 0; blk < blocks; blk++) {
      const o = blk * OC_BLOCK;
      // sPK: the sum for pixel qP, channel o + K, started at the bias.
      let s00 = bias[o], s01 = bias[o + 1], s02 = bias[o + 2], s03 = bias[o + 3];
      let s10 = s00, s11 = s01, s12 = s02, s13 = s03;
      let s20 = s00, s21 = s01, s22 = s02, s23 = s03;
      let s30 = s00, s31 = s01, s32 = s02, s33 = s03;
      let p = blk * blockStride; // wp[blk, i, 0, 0, 0]
      for (let i = 0; i < kh; i++) {
        const r = i * xRowStride; // kernel row i: x[img, oy + i, ox, 0] for each pixel
        const r0 = x0 + r, r1 = x1 + r, r2 = x2 + r, r3 = x3 + r;
        for (let t = 0; t < rowTaps; t++) {
          const v0 = x[r0 + t], v1 = x[r1 + t], v2 = x[r2 + t], v3 = x[r3 + t];
          let wv = wp[p];
          s00 += v0 * wv; s10 += v1 * wv; s20 += v2 * wv; s30 += v3 * wv;
          wv = wp[p + 1];
          s01 += v0 * wv; s11 += v1 * wv; s21 += v2 * wv; s31 += v3 * wv;
          wv = wp[p + 2];
          s02 += v0 * wv; s12 += v1 * wv; s22 += v2 * wv; s32 += v3 * wv;
          wv = wp[p + 3];
          s03 += v0 * wv; s13 += v1 * wv; s23 += v2 * wv; s33 += v3 * wv;
          p += OC_BLOCK;
        }
      }
      // PReLU as a multiply, so no branch depends on the data: v * (1 + (alpha - 1) * [v < 0]),
      // exactly v or v * alpha (alpha - 1 and its sum with 1 are exact in float64).
      if (alpha !== null) {
        const m0 = alpha[o] - 1;
        const m1 = o + 1 < oc ? alpha[o + 1] - 1 : 0;
        const m2 = o + 2 < oc ? alpha[o + 2] - 1 : 0;
        const m3 = o + 3 < oc ? alpha[o + 3] - 1 : 0;
        s00 = Math.fround(s00); s00 *= 1 + m0 * +(s00 < 0);
        s01 = Math.fround(s01); s01 *= 1 + m1 * +(s01 < 0);
        s02 = Math.fround(s02); s02 *= 1 + m2 * +(s02 < 0);
        s03 = Math.fround(s03); s03 *= 1 + m3 * +(s03 < 0);
        s10 = Math.fround(s10); s10 *= 1 + m0 * +(s10 < 0);
        s11 = Math.fround(s11); s11 *= 1 + m1 * +(s11 < 0);
        s12 = Math.fround(s12); s12 *= 1 + m2 * +(s12 < 0);
        s13 = Math.fround(s13); s13 *= 1 + m3 * +(s13 < 0);
        s20 = Math.fround(s20); s20 *= 1 + m0 * +(s20 < 0);
        s21 = Math.fround(s21); s21 *= 1 + m1 * +(s21 < 0);
        s22 = Math.fround(s22); s22 *= 1 + m2 * +(s22 < 0);
        s23 = Math.fround(s23); s23 *= 1 + m3 * +(s23 < 0);
        s30 = Math.fround(s30); s30 *= 1 + m0 * +(s30 < 0);
        s31 = Math.fround(s31); s31 *= 1 + m1 * +(s31 < 0);
        s32 = Math.fround(s32); s32 *= 1 + m2 * +(s32 < 0);
        s33 = Math.fround(s33); s33 *= 1 + m3 * +(s33 < 0);
      }
      if (o + OC_BLOCK <= oc) {
        let d = q0 * oc + o;
        out[d] = s00; out[d + 1] = s01; out[d + 2] = s02; out[d + 3] = s03;
        d = q1 * oc + o;
        out[d] = s10; out[d + 1] = s11; out[d + 2] = s12; out[d + 3] = s13;
        d = q2 * oc + o;
        out[d] = s20; out[d + 1] = s21; out[d + 2] = s22; out[d + 3] = s23;
        d = q3 * oc + o;
        out[d] = s30; out[d + 1] = s31; out[d + 2] = s32; out[d + 3] = s33;
      } else {
        // The last block, past OC: only channels o..oc-1 exist.
        storeTail(out, q0 * oc + o, oc - o, s00, s01, s02);
        storeTail(out, q1 * oc + o, oc - o, s10, s11, s12);
        storeTail(out, q2 * oc + o, oc - o, s20, s21, s22);
        storeTail(out, q3 * oc + o, oc - o, s30, s31, s32);
      }
    }
  }
}

/** out[at + k] = sum k for the count (1 to 3) channels of a last, partial block. */
function storeTail(out: Float32Array, at: number, count: number, a: number, b: number, c: number): void {
  out[at] = a;
  if (count > 1) out[at + 1] = b;
  if (count > 2) out[at + 2] = c;
}
