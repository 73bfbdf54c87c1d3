/**
 * 2-D convolution, stride 1, 'VALID' padding, bias added: TF's
 * `tf.nn.conv2d(x, kernel, [1, 1, 1, 1], 'VALID')` followed by
 * `tf.nn.bias_add`, as every conv layer of detect_face.py's PNet, RNet and
 * ONet uses it (`Network.conv` with `relu=False`).
 *
 * Two versions: `conv2dNaive`, the definition written out as plainly as
 * possible, and `conv2d`, which runs on weights repacked by
 * `packConvWeights` so that two output pixels times OC_BLOCK channels are
 * computed together.
 * Both sum each output in float64 (a JS number), in the same order (bias,
 * then (kh, kw, c) ascending), and round it to float32 once when storing, so
 * their results are bit-identical (test/kernels.test.ts checks this).
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
 * Output channels computed together by `conv2d`: each weight loaded serves
 * two output pixels and each input value OC_BLOCK channels, with the
 * 2 x OC_BLOCK sums held in local variables (registers). The block sizes are
 * written out by hand in conv2d's inner loop (u0..u3, v0..v3). Measured on
 * P-Net's conv layer shapes (Node 20, x64, 2 shared cores): 1.5x faster than
 * blocking 1 pixel x 4 channels, about 5x faster than conv2dNaive.
 */
export const OC_BLOCK = 4;

/** Length of the packed weights for `conv2d`: (ceil(OC / OC_BLOCK), KH, KW, C, OC_BLOCK). */
export function packedConvLength(kh: number, kw: number, c: number, oc: number): number {
  return Math.ceil(oc / OC_BLOCK) * kh * kw * c * OC_BLOCK;
}

/**
 * Repack HWIO weights for `conv2d`, once per layer: output channels are cut
 * into blocks of OC_BLOCK, and within a block the OC_BLOCK weights that
 * multiply the same input value are adjacent. Channels past OC in the last
 * block get zero weights (their sums are computed and never stored).
 * @param out (ceil(OC / OC_BLOCK), KH, KW, C, OC_BLOCK) f32, length packedConvLength(...)
 * @param w (KH, KW, C, OC) HWIO f32
 */
export function packConvWeights(
  out: Float32Array,
  w: Float32Array,
  kh: number,
  kw: number,
  c: number,
  oc: number,
): void {
  const taps = kh * kw * c; // one (i, j, ci) per row of w
  const blocks = Math.ceil(oc / OC_BLOCK);
  for (let blk = 0; blk < blocks; blk++) {
    for (let t = 0; t < taps; t++) {
      for (let k = 0; k < OC_BLOCK; k++) {
        const o = blk * OC_BLOCK + k;
        out[(blk * taps + t) * OC_BLOCK + k] = o < oc ? w[t * oc + o] : 0;
      }
    }
  }
}

/**
 * Otherwise identical to conv2dNaive, on weights packed by packConvWeights:
 * output pixels are taken two at a time along W, and for each block of
 * OC_BLOCK channels eight float64 sums run over the kernel window, whose rows
 * are contiguous KW * C runs of x in NHWC. With an odd OW the last pair is
 * one pixel twice (computed and stored twice, the same value).
 * @param out (N, OH, OW, OC) NHWC f32, OH = H - KH + 1, OW = W - KW + 1
 * @param x (N, H, W, C) NHWC f32
 * @param wp (ceil(OC / OC_BLOCK), KH, KW, C, OC_BLOCK) f32, from packConvWeights
 * @param bias (OC,) f32
 */
export function conv2d(
  out: Float32Array,
  x: Float32Array,
  n: number,
  h: number,
  width: number,
  c: number,
  wp: Float32Array,
  bias: Float32Array,
  kh: number,
  kw: number,
  oc: number,
): void {
  const oh = validOut(h, kh, 1);
  const ow = validOut(width, kw, 1);
  const xRowStride = width * c; // one step along H in x
  const xImageStride = h * xRowStride; // one step along N in x
  const outRowStride = ow * oc; // one step along OH in out
  const outImageStride = oh * outRowStride; // one step along N in out
  const rowTaps = kw * c; // contiguous x values under one kernel row
  const blockStride = kh * rowTaps * OC_BLOCK; // one block of OC_BLOCK channels in wp
  const blocks = Math.ceil(oc / OC_BLOCK);
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const xOutRow = img * xImageStride + oy * xRowStride; // x[img, oy, 0, 0]
      const outRow = img * outImageStride + oy * outRowStride; // out[img, oy, 0, 0]
      for (let ox = 0; ox < ow; ox += 2) {
        const ox2 = ox + 1 < ow ? ox + 1 : ox; // the pair's second pixel
        const xu = xOutRow + ox * c; // x[img, oy, ox, 0]
        const xv = xOutRow + ox2 * c; // x[img, oy, ox2, 0]
        const ou = outRow + ox * oc; // out[img, oy, ox, 0]
        const ov = outRow + ox2 * oc; // out[img, oy, ox2, 0]
        for (let blk = 0; blk < blocks; blk++) {
          const o = blk * OC_BLOCK;
          // Sums for channels o..o+3 at pixel ox (u) and ox2 (v), started at the bias.
          let u0 = bias[o];
          let u1 = o + 1 < oc ? bias[o + 1] : 0;
          let u2 = o + 2 < oc ? bias[o + 2] : 0;
          let u3 = o + 3 < oc ? bias[o + 3] : 0;
          let v0 = u0,
            v1 = u1,
            v2 = u2,
            v3 = u3;
          let p = blk * blockStride; // wp[blk, i, 0, 0, 0]
          for (let i = 0; i < kh; i++) {
            const rowOffset = i * xRowStride; // kernel row i: x[img, oy + i, ...]
            const xuRow = xu + rowOffset;
            const xvRow = xv + rowOffset;
            for (let t = 0; t < rowTaps; t++) {
              const xu1 = x[xuRow + t];
              const xv1 = x[xvRow + t];
              const w0 = wp[p];
              const w1 = wp[p + 1];
              const w2 = wp[p + 2];
              const w3 = wp[p + 3];
              u0 += xu1 * w0;
              u1 += xu1 * w1;
              u2 += xu1 * w2;
              u3 += xu1 * w3;
              v0 += xv1 * w0;
              v1 += xv1 * w1;
              v2 += xv1 * w2;
              v3 += xv1 * w3;
              p += OC_BLOCK;
            }
          }
          out[ou + o] = u0;
          out[ov + o] = v0;
          if (o + 1 < oc) {
            out[ou + o + 1] = u1;
            out[ov + o + 1] = v1;
          }
          if (o + 2 < oc) {
            out[ou + o + 2] = u2;
            out[ov + o + 2] = v2;
          }
          if (o + 3 < oc) {
            out[ou + o + 3] = u3;
            out[ov + o + 3] = v3;
          }
        }
      }
    }
  }
}
