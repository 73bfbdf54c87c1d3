/**
 * Parametric ReLU with one slope per channel, in place: detect_face.py's
 * `Network.prelu`, `tf.nn.relu(x) + alpha * -tf.nn.relu(-x)`.
 *
 * For x > 0 that is x + alpha * -0 = x; for x < 0 it is 0 + alpha * x. The
 * product of two float32 values is exact in float64, so storing it rounds
 * once, to the float32 product TF computes: the result is bit-equal to TF's
 * (signed zeros aside, which nothing downstream can tell apart).
 * Dimension legend: see shape.ts.
 * @module
 */

/**
 * @param x (..., C) f32, channels last (NHWC or (N, C)); overwritten
 * @param count number of values in x (a multiple of C)
 * @param alpha (C,) f32 slopes for negative inputs
 */
export function prelu(x: Float32Array, count: number, alpha: Float32Array, c: number): void {
  for (let base = 0; base < count; base += c) {
    for (let ci = 0; ci < c; ci++) {
      const v = x[base + ci];
      if (v < 0) x[base + ci] = alpha[ci] * v;
    }
  }
}
