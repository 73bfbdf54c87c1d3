/**
 * Fully connected layer: detect_face.py's `Network.fc` with `relu=False`,
 * `tf.nn.xw_plus_b(reshape(x, [-1, DIN]), weights, biases)`.
 *
 * An NHWC activation (N, H, W, C) is already, in memory, the (N, DIN) matrix
 * TF's reshape makes, flattened in (h, w, c) order. That matrix is also an
 * image of height 1, width N and DIN channels, and x W + b is then a 1 x 1
 * convolution of it with the (1, 1, DIN, DOUT) kernel, which in memory is W
 * itself. So dense runs conv2d on that view: the same float64 sums, and
 * PIXEL_BLOCK rows of x at a time against blocks of OC_BLOCK outputs.
 * Dimension legend: see shape.ts.
 * @module
 */
import { conv2d, packConv, type PackedConv } from './conv2d.ts';

/**
 * (DIN, DOUT) fc weights and (DOUT,) bias made ready for `dense`, once per
 * layer (see packConv: a (1, 1, DIN, DOUT) kernel).
 */
export function packDense(w: Float32Array, bias: Float32Array, din: number, dout: number): PackedConv {
  return packConv(w, bias, 1, 1, din, dout);
}

/**
 * out[b, o] = bias[o] + sum over i of x[b, i] * w[i, o], each sum in float64
 * rounded to float32 once; then PReLU with `alpha` when given (see conv2d).
 * @param out (N, DOUT) f32
 * @param x (N, DIN) f32: an (N, H, W, C) NHWC activation with DIN = H * W * C
 * @param layer from packDense
 */
export function dense(out: Float32Array, x: Float32Array, n: number, layer: PackedConv, alpha: Float32Array | null = null): void {
  conv2d(out, x, 1, 1, n, layer, alpha); // x as a (1, 1, N, DIN) image
}
