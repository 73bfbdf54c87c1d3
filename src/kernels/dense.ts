/**
 * Fully connected layer: detect_face.py's `Network.fc` with `relu=False`,
 * `tf.nn.xw_plus_b(reshape(x, [-1, DIN]), weights, biases)`.
 *
 * An NHWC activation (N, H, W, C) is already, in memory, the (N, DIN) matrix
 * TF's reshape makes, flattened in (h, w, c) order. That matrix is also an
 * image of height 1, width N and DIN channels, and x W + b is then a 1 x 1
 * convolution of it with the (1, 1, DIN, DOUT) kernel, which in memory is W
 * itself. So dense runs conv2d on that view: the same float64 sums, and two
 * rows of x at a time against blocks of OC_BLOCK outputs.
 * Dimension legend: see shape.ts.
 * @module
 */
import { conv2d, packConvWeights, packedConvLength } from './conv2d.ts';

/** Length of the packed weights for `dense`: (ceil(DOUT / OC_BLOCK), DIN, OC_BLOCK). */
export function packedDenseLength(din: number, dout: number): number {
  return packedConvLength(1, 1, din, dout);
}

/**
 * Repack (DIN, DOUT) fc weights for `dense`, once per layer (see packConvWeights).
 * @param out (ceil(DOUT / OC_BLOCK), DIN, OC_BLOCK) f32, length packedDenseLength(...)
 * @param w (DIN, DOUT) f32
 */
export function packDenseWeights(out: Float32Array, w: Float32Array, din: number, dout: number): void {
  packConvWeights(out, w, 1, 1, din, dout);
}

/**
 * out[b, o] = bias[o] + sum over i of x[b, i] * w[i, o], each sum in float64
 * rounded to float32 once.
 * @param out (N, DOUT) f32
 * @param x (N, DIN) f32: an (N, H, W, C) NHWC activation with DIN = H * W * C
 * @param wp (ceil(DOUT / OC_BLOCK), DIN, OC_BLOCK) f32, from packDenseWeights
 * @param bias (DOUT,) f32
 */
export function dense(
  out: Float32Array,
  x: Float32Array,
  n: number,
  din: number,
  wp: Float32Array,
  bias: Float32Array,
  dout: number,
): void {
  conv2d(out, x, 1, 1, n, din, wp, bias, 1, 1, dout); // x as a (1, 1, N, DIN) image
}
